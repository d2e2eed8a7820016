/**
 * What Chime puts in an error body: its own `Code` (not the exception name) and a message.
 * Shared so the in-memory layer and the emulator describe errors alike.
 */
import type { ChimeError } from "@chime-rooms/core"

/** Chime's `ErrorCode` value for each modelled exception (the body's `Code`). */
export const chimeErrorCode: { readonly [K in ChimeError.ServiceErrorName]: string } = {
  BadRequestException: "BadRequest",
  UnauthorizedClientException: "Unauthorized",
  ForbiddenException: "Forbidden",
  NotFoundException: "NotFound",
  ThrottledClientException: "Throttled",
  ServiceFailureException: "ServiceFailure",
  ServiceUnavailableException: "ServiceUnavailable"
}

/** The message a scripted error carries when the script gives none. */
export const defaultErrorMessage: { readonly [K in ChimeError.ServiceErrorName]: string } = {
  BadRequestException: "The request was invalid",
  UnauthorizedClientException: "The client is not authorized",
  ForbiddenException: "The caller may not perform this operation",
  NotFoundException: "The requested resource was not found",
  ThrottledClientException: "Rate exceeded",
  ServiceFailureException: "The service encountered an internal failure",
  ServiceUnavailableException: "The service is temporarily unavailable"
}
