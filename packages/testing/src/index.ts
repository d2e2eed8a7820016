export * from "./SigV4Verifier.js"
