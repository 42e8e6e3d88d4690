// Typed errors. Keygate answers errors in three shapes, and each is read here in one place:
// RFC 9457 problem details (`{type, title, status, detail, field?, error?}`) on the REST API and /auth,
// RFC 6749 JSON (`{error, error_description}`) on the OAuth endpoints, and `{error, message}` for a CORS
// refusal. Every error keeps the server's own message and the raw body.

export interface ErrorDetails {
  /** The HTTP status; 0 when no answer could be read. */
  status: number;
  /** The short code the server sends as `error` (`token_expired`, `insufficient_scope`, …), if any. */
  code?: string;
  /** The problem type URI (`urn:keygate:problem:not-found`), if any. */
  type?: string;
  title?: string;
  detail?: string;
  /** The request field at fault, if the server named one. */
  field?: string;
  /** The parsed JSON body (or its text when it was not JSON). */
  body?: unknown;
  cause?: unknown;
}

/** Any failure of a Keygate call. Subclasses say which kind; `status`, `code` and `body` say more. */
export class KeygateError extends Error {
  override name = "KeygateError";
  readonly status: number;
  readonly code: string | undefined;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly field: string | undefined;
  readonly body: unknown;

  constructor(message: string, details: ErrorDetails) {
    // `cause` (the fetch failure behind a NetworkError, say) is the standard Error property.
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
    this.type = details.type;
    this.title = details.title;
    this.detail = details.detail;
    this.field = details.field;
    this.body = details.body;
  }
}

/** 401: no token, or one the server refused (expired, revoked). The client already retried once. */
export class Unauthorized extends KeygateError {
  override name = "Unauthorized";
}

/** 403: the credential may not do this. */
export class Forbidden extends KeygateError {
  override name = "Forbidden";
}

/** 403 `insufficient_scope`: the domain key lacks the scope (`requiredScope`) this call needs. */
export class InsufficientScope extends Forbidden {
  override name = "InsufficientScope";
  /** From the `WWW-Authenticate` challenge, e.g. `contacts.write`. */
  readonly requiredScope: string | undefined;
  constructor(message: string, details: ErrorDetails, requiredScope?: string) {
    super(message, details);
    this.requiredScope = requiredScope;
  }
}

/**
 * 403 `origin_not_allowed`: this page's origin passed CORS (something else allows it) but is not one of
 * the domain key's origins, or the token was issued to another origin.
 */
export class OriginNotAllowed extends Forbidden {
  override name = "OriginNotAllowed";
}

/**
 * 403 `cors_origin_denied`: Keygate allows no browser calls at all from this page's origin.
 *
 * Keygate's refusal carries no `Access-Control-Allow-Origin`, so a browser hides it from the page and
 * `fetch` fails like a network error. The client then checks whether Keygate is reachable (a `no-cors`
 * request, whose answer the page cannot read but whose success it can see); if it is, the failure was the
 * browser's CORS block and this error is raised with `inferred` set.
 */
export class CorsOriginDenied extends Forbidden {
  override name = "CorsOriginDenied";
  /** True when the browser hid the answer and the refusal was inferred (see the class comment). */
  readonly inferred: boolean;
  /** The page's origin, when known. */
  readonly origin: string | undefined;
  constructor(message: string, details: ErrorDetails, inferred = false, origin?: string) {
    super(message, details);
    this.inferred = inferred;
    this.origin = origin;
  }
}

/** 404: no such resource (another account's contact reads the same). */
export class NotFound extends KeygateError {
  override name = "NotFound";
}

/** 409: the write conflicts with the current state (e.g. `opt_in_refused`). */
export class Conflict extends KeygateError {
  override name = "Conflict";
}

/** 412: `If-Match` named a version that is no longer current; nothing was written. */
export class PreconditionFailed extends Conflict {
  override name = "PreconditionFailed";
}

/** One invalid part of a request. */
export interface FieldError {
  field: string | undefined;
  message: string;
}

/** 400 or 422: a malformed request or invalid fields; `errors` lists what the server named. */
export class ValidationError extends KeygateError {
  override name = "ValidationError";
  readonly errors: FieldError[];
  constructor(message: string, details: ErrorDetails, errors: FieldError[]) {
    super(message, details);
    this.errors = errors;
  }
}

/** 429: over the rate limit (`rate_limited`) or locked out (`locked_out`); wait `retryAfter` seconds. */
export class RateLimited extends KeygateError {
  override name = "RateLimited";
  readonly retryAfter: number | undefined;
  constructor(message: string, details: ErrorDetails, retryAfter: number | undefined) {
    super(message, details);
    this.retryAfter = retryAfter;
  }
}

/** No answer: offline, DNS, a dropped connection, or a cross-origin failure not known to be CORS. */
export class NetworkError extends KeygateError {
  override name = "NetworkError";
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The parts of an error body, whichever of the three shapes it has. */
export function describeBody(status: number, body: unknown): Omit<ErrorDetails, "cause"> & { message: string } {
  const o = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const code = str(o.error);
  const type = str(o.type);
  const title = str(o.title);
  const detail = str(o.detail);
  const field = str(o.field);
  const message =
    detail ??
    str(o.error_description) ??
    str(o.message) ??
    title ??
    code ??
    (typeof body === "string" && body.trim() !== "" ? body.trim().slice(0, 300) : `HTTP ${status}`);
  return { status, code, type, title, detail, field, body, message };
}

/** Whether a problem's `type` URI ends with this kind (`…:origin-not-allowed`). */
const isKind = (type: string | undefined, kind: string) => type !== undefined && type.endsWith(`:${kind}`);

/** Seconds from `Retry-After`: a number of seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The scope named by a Bearer `insufficient_scope` challenge. */
function challengedScope(header: string | null): string | undefined {
  const m = header?.match(/scope="([^"]*)"/);
  return m ? m[1] : undefined;
}

/** What a 400/422 names: a list in `errors` if the body has one, else Keygate's single `field`. */
function fieldErrors(body: unknown, field: string | undefined, message: string): FieldError[] {
  const listed = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(listed)) return [{ field, message }];
  return listed.map((e) => {
    const o = e !== null && typeof e === "object" ? (e as Record<string, unknown>) : {};
    return { field: str(o.field), message: str(o.message) ?? str(o.detail) ?? String(e) };
  });
}

/** The typed error for an HTTP error answer. */
export function errorFromResponse(status: number, headers: Headers, body: unknown, nowMs: number): KeygateError {
  const { message, ...details } = describeBody(status, body);
  const { code, type } = details;
  switch (status) {
    case 400:
    case 422:
      return new ValidationError(message, details, fieldErrors(body, details.field, message));
    case 401:
      return new Unauthorized(message, details);
    case 403:
      if (code === "cors_origin_denied") return new CorsOriginDenied(message, details);
      // /auth sends the code; resource calls send only the problem type.
      if (code === "origin_not_allowed" || isKind(type, "origin-not-allowed")) {
        return new OriginNotAllowed(message, details);
      }
      if (code === "insufficient_scope" || isKind(type, "insufficient-scope")) {
        return new InsufficientScope(message, details, challengedScope(headers.get("www-authenticate")));
      }
      return new Forbidden(message, details);
    case 404:
      return new NotFound(message, details);
    case 409:
      return new Conflict(message, details);
    case 412:
      return new PreconditionFailed(message, details);
    case 429:
      return new RateLimited(message, details, retryAfterSeconds(headers.get("retry-after"), nowMs));
    default:
      return new KeygateError(message, details);
  }
}
