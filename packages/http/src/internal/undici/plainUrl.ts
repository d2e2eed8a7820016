/**
 * URLs split by hand into undici's `origin` and `path`, for the plain absolute http(s) URLs clients
 * nearly always send: `HttpClient.make` allocates a `URL` per request, which measured as more CPU
 * than signing a page.
 *
 * Invariant: a URL is split by hand only when the WHATWG parser would leave it byte for byte
 * unchanged; anything else is `undefined` here and goes through the parser (`targetOf`).
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"

/** Characters a WHATWG URL parser leaves as they are in a path (special schemes), minus `%`. */
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&()*+,;=:@/]*$/
/** The same for a query (the parser also leaves `?` and `/` there). */
const QUERY_SAFE = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/
const PORT = /^[1-9][0-9]{0,4}$/
/** The parser reads a host whose last label looks numeric as IPv4 (and fails or rewrites it). */
const ENDS_IN_A_NUMBER = /(^|\.)([0-9]+|0x[0-9a-f]*)$/

/** Percent escapes well formed, and no escape that spells a dot (a dot segment in disguise). */
const escapesPlain = (s: string): boolean => {
  let at = s.indexOf("%")
  while (at !== -1) {
    const h1 = s.charCodeAt(at + 1)
    const h2 = s.charCodeAt(at + 2)
    if (!isHex(h1) || !isHex(h2)) return false
    if (h1 === 50 /* 2 */ && (h2 === 101 || h2 === 69) /* e E */) return false
    at = s.indexOf("%", at + 3)
  }
  return true
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/** No `.` or `..` segment, which the parser would resolve away. */
const noDotSegments = (path: string): boolean => {
  let start = 0
  while (start <= path.length) {
    let end = path.indexOf("/", start)
    if (end === -1) end = path.length
    const length = end - start
    if (length === 1 && path.charCodeAt(start) === 46) return false
    if (length === 2 && path.charCodeAt(start) === 46 && path.charCodeAt(start + 1) === 46) return false
    start = end + 1
  }
  return true
}

/** The origin of the last authority seen: requests of one client nearly always share it. */
let lastPrefix = ""
let lastOrigin = ""

/**
 * `{ origin, path }` (path with query) exactly as `new URL(url)` would give them, for the plain
 * absolute http(s) URLs clients nearly always send; `undefined` for anything else (the caller
 * then uses the URL parser). Only accepts what the parser would leave byte for byte unchanged:
 * a lower-case host name or IPv4 address, a non-default port, no user info, path and query of
 * plain characters and well-formed escapes, no dot segments, no fragment.
 */
export const splitPlainUrl = (url: string): { readonly origin: string; readonly path: string } | undefined => {
  let authorityEnd: number
  if (lastPrefix !== "" && url.startsWith(lastPrefix)) {
    authorityEnd = lastPrefix.length
    const c = url.charCodeAt(authorityEnd)
    if (!(authorityEnd === url.length || c === 47 /* / */ || c === 63 /* ? */)) return splitSlow(url)
  } else {
    return splitSlow(url)
  }
  return splitRest(url, authorityEnd, lastOrigin)
}

const splitSlow = (url: string): { readonly origin: string; readonly path: string } | undefined => {
  let schemeEnd: number
  let defaultPort: string
  if (url.startsWith("http://")) {
    schemeEnd = 7
    defaultPort = "80"
  } else if (url.startsWith("https://")) {
    schemeEnd = 8
    defaultPort = "443"
  } else return undefined
  let authorityEnd = schemeEnd
  while (authorityEnd < url.length) {
    const c = url.charCodeAt(authorityEnd)
    if (c === 47 || c === 63 || c === 35 /* # */ || c === 92 /* \ */) break
    authorityEnd++
  }
  const authority = url.slice(schemeEnd, authorityEnd)
  const colon = authority.indexOf(":")
  const host = colon === -1 ? authority : authority.slice(0, colon)
  if (!HOST.test(host) || host.length > 253) return undefined
  // A host of digits and dots only is an IPv4 address: the parser rewrites forms like `1.2.3` or
  // `010.0.0.1`; accept only the canonical dotted quad.
  if (/^[0-9.]+$/.test(host)) {
    if (!isCanonicalIpv4(host)) return undefined
  } else if (ENDS_IN_A_NUMBER.test(host)) return undefined
  if (/(^|\.)xn--/.test(host)) return undefined
  if (colon !== -1) {
    const port = authority.slice(colon + 1)
    if (!PORT.test(port) || Number(port) > 65535 || port === defaultPort) return undefined
  }
  const prefix = url.slice(0, authorityEnd)
  const result = splitRest(url, authorityEnd, prefix)
  if (result !== undefined) {
    lastPrefix = prefix
    lastOrigin = prefix
  }
  return result
}

const isCanonicalIpv4 = (host: string): boolean => {
  const parts = host.split(".")
  if (parts.length !== 4) return false
  return parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)
}

const splitRest = (
  url: string,
  authorityEnd: number,
  origin: string
): { readonly origin: string; readonly path: string } | undefined => {
  if (authorityEnd === url.length) return { origin, path: "/" }
  const rest = url.slice(authorityEnd)
  const q = rest.indexOf("?")
  const path = q === -1 ? rest : rest.slice(0, q)
  const query = q === -1 ? "" : rest.slice(q + 1)
  if (!PATH_SAFE.test(path.replaceAll("%", "")) || !QUERY_SAFE.test(query.replaceAll("%", ""))) return undefined
  if (!escapesPlain(path) || !escapesPlain(query) || !noDotSegments(path)) return undefined
  // As `pathname + search`: an empty query leaves no `?`.
  const target = q !== -1 && query === "" ? path : rest
  return { origin, path: path === "" ? "/" + target : target }
}

/** Origin and path-with-query of a request, by hand when plain, else through the URL parser. */
export const targetOf = (
  request: HttpClientRequest.HttpClientRequest
): { readonly origin: string; readonly path: string } | Error => {
  if (request.urlParams.length === 0 && request.hash._tag === "None") {
    const plain = splitPlainUrl(request.url)
    if (plain !== undefined) return plain
  }
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (url._tag === "Left") return url.left
  return { origin: url.right.origin, path: url.right.pathname + url.right.search }
}
