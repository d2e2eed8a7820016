/**
 * @chime-rooms/http — `ChimeRooms` over the wire: endpoint config, credentials, SigV4 signing as an
 * `HttpClient` middleware, restJson1 error decoding, and a lean undici `HttpClient`.
 *
 * @since 0.1.0
 */
/**
 * Where requests go and how they are signed: `make`, `loadInput`, `inputFromEnv`, `resolveEndpoint`.
 *
 * @since 0.1.0
 */
export * as ChimeConfig from "./ChimeConfig.js"
/**
 * AWS credentials as a service: `layerStatic`, `layerConfig`, `layerEnv`, `layerProvider`, `get`.
 *
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"
/**
 * The AWS default credential provider chain: `layer(options?)`. A module of its own, so that a
 * program that does not use it does not bundle it.
 *
 * @since 0.1.0
 */
export * as CredentialsChain from "./CredentialsChain.js"
/**
 * `ChimeRooms` over `HttpClient`: `layer`, `layerConfig`, `make`.
 *
 * @since 0.1.0
 */
export * as HttpChimeRooms from "./HttpChimeRooms.js"
/**
 * The restJson1 error rules and response decoding.
 *
 * @since 0.1.0
 */
export * as RestJson1 from "./RestJson1.js"
/**
 * SigV4 signing middleware: `withSigV4`, `sign`, `makeSigner`.
 *
 * @since 0.1.0
 */
export * as SigV4 from "./SigV4.js"
/**
 * A lean keep-alive undici `HttpClient`: `layer`, `layerWith`, `make`.
 *
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"
