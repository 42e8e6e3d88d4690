// @keygate/browser: Keygate from a web page, with a domain key.

export { createClient } from "./client.js";
export type { KeygateClient } from "./client.js";
export type { ContactsApi } from "./contacts.js";
export {
  KeygateError,
  Unauthorized,
  Forbidden,
  InsufficientScope,
  OriginNotAllowed,
  CorsOriginDenied,
  NotFound,
  Conflict,
  PreconditionFailed,
  ValidationError,
  RateLimited,
  NetworkError,
} from "./errors.js";
export type { ErrorDetails, FieldError } from "./errors.js";
export type * from "./types.js";
