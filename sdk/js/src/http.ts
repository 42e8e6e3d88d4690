// One HTTP exchange with Keygate: the request as the API wants it, the answer read whatever its shape,
// and every failure turned into a typed error.

import { CorsOriginDenied, errorFromResponse, KeygateError, NetworkError } from "./errors.js";

export interface Transport {
  /** Without a trailing slash. */
  baseUrl: string;
  fetch: typeof fetch;
  now: () => number;
}

export interface RequestSpec {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** A path under `baseUrl` (`/v1/contacts`), or an absolute URL already checked to be Keygate's. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  json?: unknown;
}

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The page's origin in a browser; `undefined` elsewhere (Node, workers without `location`). */
function pageOrigin(): string | undefined {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  return typeof origin === "string" ? origin : undefined;
}

/** Sends one request; resolves with a 2xx answer, rejects with a {@link KeygateError} otherwise. */
export async function send<T = unknown>(t: Transport, spec: RequestSpec): Promise<Answer<T>> {
  const url = /^https?:\/\//i.test(spec.path) ? spec.path : t.baseUrl + spec.path;
  const headers: Record<string, string> = { Accept: "application/json", ...spec.headers };
  let body: string | undefined;
  if (spec.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(spec.json);
  }
  let res: Response;
  try {
    res = await t.fetch(url, {
      method: spec.method,
      headers,
      body,
      // No cookies: Keygate never uses them for the API, and a token must be the only credential sent.
      credentials: "omit",
      // Never follow a redirect: it could carry the token to another host.
      redirect: "manual",
    });
  } catch (e) {
    throw await networkFailure(t, url, e);
  }
  if (res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400)) {
    throw new KeygateError(`Keygate answered ${spec.method} ${url} with a redirect, which the SDK never follows`, {
      status: res.status,
    });
  }
  let parsed: unknown;
  try {
    parsed = await readBody(res);
  } catch (e) {
    throw new NetworkError(`the answer from ${url} was cut off: ${messageOf(e)}`, { status: 0, cause: e });
  }
  if (!res.ok) throw errorFromResponse(res.status, res.headers, parsed, t.now());
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** JSON when the content type says so (problem+json included), text otherwise, `undefined` when empty. */
async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === "") return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (/[/+]json\b/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Why `fetch` threw. A browser reports a CORS block exactly like a network failure (a bare TypeError), so
 * the two are told apart by asking whether Keygate is reachable at all: a `no-cors` request needs no CORS
 * permission, and although its answer is opaque, its success proves the server answered. Reachable yet
 * refused to a cross-origin page means the browser blocked Keygate's answer, which Keygate does only for
 * origins it denies (a 403 `cors_origin_denied` without `Access-Control-Allow-Origin`).
 */
async function networkFailure(t: Transport, url: string, error: unknown): Promise<KeygateError> {
  const here = pageOrigin();
  const there = new URL(url).origin;
  const aborted = error instanceof Error && error.name === "AbortError";
  const crossOrigin = here !== undefined && here !== there && !aborted;
  if (crossOrigin && (await reachable(t))) {
    return new CorsOriginDenied(
      `CORS origin denied: Keygate at ${there} does not allow calls from this page's origin (${here}), ` +
        `so the browser blocked its answer; add the origin to a domain key's origins`,
      { status: 403, code: "cors_origin_denied", cause: error },
      true,
      here,
    );
  }
  // The probe's answer can be blocked too (Opaque Response Blocking varies between browsers), so on a
  // cross-origin page a CORS refusal stays possible: say so rather than guess.
  const hint = crossOrigin ? `; if Keygate is up, check that ${here} is one of a domain key's origins` : "";
  return new NetworkError(`could not reach Keygate at ${there}: ${messageOf(error)}${hint}`, {
    status: 0,
    cause: error,
  });
}

async function reachable(t: Transport): Promise<boolean> {
  try {
    await t.fetch(`${t.baseUrl}/healthz`, { method: "GET", mode: "no-cors", credentials: "omit", cache: "no-store" });
    return true;
  } catch {
    return false;
  }
}
