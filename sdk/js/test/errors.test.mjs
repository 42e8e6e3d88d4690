// Each error class from the bodies Keygate really sends (crates/server/src/error.rs, cors.rs, caller.rs,
// routes/auth.rs), read through a client call so that the whole path from answer to exception is tested.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  Conflict,
  CorsOriginDenied,
  createClient,
  Forbidden,
  InsufficientScope,
  KeygateError,
  NetworkError,
  NotFound,
  OriginNotAllowed,
  PreconditionFailed,
  RateLimited,
  Unauthorized,
  ValidationError,
} from "../dist/index.js";
import { API_KEY, BASE, DOMAIN_KEY, clock, fakeKeygate, json, problem, standardRoutes } from "./helpers.mjs";

/** The error a `GET /v1/contacts/7` answered with `answer` throws. */
async function errorOf(answer, { auth } = {}) {
  const routes = standardRoutes({ "GET /v1/contacts/7": answer, ...(auth ? { "POST /auth": auth } : {}) });
  const kg = fakeKeygate(routes);
  const c = clock();
  const client = createClient({ baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch: kg.fetch, now: c.now });
  try {
    await client.contacts.get(7);
  } catch (e) {
    assert.ok(e instanceof KeygateError, `${e} is a KeygateError`);
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail("the call succeeded");
}

test("401: Unauthorized, with the problem's detail, type and body", async () => {
  const e = await errorOf(() =>
    problem(401, "unauthorized", "Unauthorized", "the access token has expired", {}, {
      "www-authenticate": 'Bearer realm="keygate", error="invalid_token"',
    }),
  );
  assert.ok(e instanceof Unauthorized);
  assert.equal(e.name, "Unauthorized");
  assert.equal(e.status, 401);
  assert.equal(e.message, "the access token has expired");
  assert.equal(e.type, "urn:keygate:problem:unauthorized");
  assert.equal(e.title, "Unauthorized");
  assert.equal(e.body.detail, "the access token has expired");
});

test("403 insufficient_scope: InsufficientScope naming the scope from the challenge", async () => {
  const e = await errorOf(() =>
    problem(403, "insufficient-scope", "Insufficient scope", "this needs the contacts.write scope", {
      error: "insufficient_scope",
    }, { "www-authenticate": 'Bearer realm="keygate", error="insufficient_scope", scope="contacts.write"' }),
  );
  assert.ok(e instanceof InsufficientScope);
  assert.ok(e instanceof Forbidden, "a kind of Forbidden");
  assert.equal(e.code, "insufficient_scope");
  assert.equal(e.requiredScope, "contacts.write");
  assert.equal(e.message, "this needs the contacts.write scope");
});

test("403 origin-not-allowed on a resource call (problem type only): OriginNotAllowed", async () => {
  const e = await errorOf(() =>
    problem(403, "origin-not-allowed", "Origin not allowed", "the token is bound to another origin"),
  );
  assert.ok(e instanceof OriginNotAllowed);
  assert.ok(e instanceof Forbidden);
  assert.equal(e.code, undefined);
  assert.equal(e.message, "the token is bound to another origin");
});

test("403 origin_not_allowed from /auth (with its code): OriginNotAllowed naming the origin", async () => {
  const e = await errorOf(null, {
    auth: () =>
      problem(403, "origin-not-allowed", "Origin not allowed",
        "origin https://blog.example.com is not one of this domain key's origins", { error: "origin_not_allowed" }),
  });
  assert.ok(e instanceof OriginNotAllowed);
  assert.equal(e.code, "origin_not_allowed");
  assert.match(e.message, /https:\/\/blog\.example\.com/);
});

test("403 cors_origin_denied, when the answer is readable: CorsOriginDenied with the server's message", async () => {
  const e = await errorOf(null, {
    auth: () => json(403, { error: "cors_origin_denied", message: "CORS origin denied" }, { vary: "Origin" }),
  });
  assert.ok(e instanceof CorsOriginDenied);
  assert.ok(e instanceof Forbidden);
  assert.equal(e.name, "CorsOriginDenied");
  assert.equal(e.message, "CORS origin denied");
  assert.equal(e.code, "cors_origin_denied");
  assert.equal(e.inferred, false);
  assert.deepEqual(e.body, { error: "cors_origin_denied", message: "CORS origin denied" });
});

test("403 suspended: a plain Forbidden", async () => {
  const e = await errorOf(null, {
    auth: () => problem(403, "suspended", "Suspended", "the account of this API key is suspended", { error: "suspended" }),
  });
  assert.equal(e.constructor, Forbidden);
  assert.equal(e.code, "suspended");
});

test("404: NotFound", async () => {
  const e = await errorOf(() => problem(404, "not-found", "Not found", "contact 7 not found"));
  assert.ok(e instanceof NotFound);
  assert.equal(e.message, "contact 7 not found");
});

test("409 opt_in_refused: Conflict", async () => {
  const e = await errorOf(() =>
    problem(409, "opt-in-refused", "Opt-in refused", "ann@acme.test opted out", { error: "opt_in_refused" }),
  );
  assert.equal(e.constructor, Conflict);
  assert.equal(e.code, "opt_in_refused");
});

test("412: PreconditionFailed, a kind of Conflict", async () => {
  const e = await errorOf(() =>
    problem(412, "precondition-failed", "Precondition failed", "contact 7 is at version 3, not 2"),
  );
  assert.ok(e instanceof PreconditionFailed);
  assert.ok(e instanceof Conflict);
  assert.equal(e.status, 412);
});

test("422 invalid-field: ValidationError listing the field", async () => {
  const e = await errorOf(() =>
    problem(422, "invalid-field", "Invalid field", "email_addresses[0].email: not an email address", {
      field: "email_addresses[0].email",
    }),
  );
  assert.ok(e instanceof ValidationError);
  assert.equal(e.field, "email_addresses[0].email");
  assert.deepEqual(e.errors, [
    { field: "email_addresses[0].email", message: "email_addresses[0].email: not an email address" },
  ]);
});

test("400 invalid-request: ValidationError; a list of errors in the body is kept", async () => {
  const e = await errorOf(() => problem(400, "invalid-request", "Invalid request", 'unknown query parameter "given_nmae"'));
  assert.ok(e instanceof ValidationError);
  assert.deepEqual(e.errors, [{ field: undefined, message: 'unknown query parameter "given_nmae"' }]);
  const listed = await errorOf(() =>
    problem(422, "invalid-body", "Invalid body", "2 problems", {
      errors: [{ field: "given_name", message: "too long" }, { field: "tag_ids", detail: "must be positive" }],
    }),
  );
  assert.deepEqual(listed.errors, [
    { field: "given_name", message: "too long" },
    { field: "tag_ids", message: "must be positive" },
  ]);
});

test("429 rate_limited and locked_out: RateLimited with Retry-After in seconds", async () => {
  const limited = await errorOf(() =>
    problem(429, "rate-limited", "Too many requests",
      "this credential is over its limit of 1500 requests a minute; retry in 2 s", { error: "rate_limited" },
      { "retry-after": "2", "ratelimit-limit": "1500", "ratelimit-remaining": "0", "ratelimit-reset": "2" }),
  );
  assert.ok(limited instanceof RateLimited);
  assert.equal(limited.retryAfter, 2);
  assert.equal(limited.code, "rate_limited");
  assert.match(limited.message, /retry in 2 s/);
  const locked = await errorOf(null, {
    auth: () =>
      problem(429, "locked-out", "Too many failed attempts",
        "too many failed authentications with this credential or from this address; try again later",
        { error: "locked_out" }, { "retry-after": "60" }),
  });
  assert.ok(locked instanceof RateLimited);
  assert.equal(locked.retryAfter, 60);
  assert.equal(locked.code, "locked_out");
});

test("Retry-After as an HTTP date is turned into seconds; absent, it is undefined", async () => {
  const at = new Date(clock().t + 30_000).toUTCString();
  const dated = await errorOf(() => problem(429, "rate-limited", "Too many requests", "slow down", {}, { "retry-after": at }));
  assert.equal(dated.retryAfter, 30);
  const bare = await errorOf(() => problem(429, "rate-limited", "Too many requests", "slow down"));
  assert.equal(bare.retryAfter, undefined);
});

test("OAuth-shaped and plain-text errors keep the server's words", async () => {
  const oauth = await errorOf(() =>
    json(400, { error: "invalid_request", error_description: "the request is missing a parameter" }),
  );
  assert.ok(oauth instanceof ValidationError);
  assert.equal(oauth.message, "the request is missing a parameter");
  assert.equal(oauth.code, "invalid_request");
  const text = await errorOf(() => new Response("upstream timed out", { status: 502, headers: { "content-type": "text/plain" } }));
  assert.equal(text.constructor, KeygateError);
  assert.equal(text.status, 502);
  assert.equal(text.message, "upstream timed out");
  assert.equal(text.body, "upstream timed out");
  const empty = await errorOf(() => new Response(null, { status: 503 }));
  assert.equal(empty.message, "HTTP 503");
});

test("a redirect is never followed", async () => {
  const e = await errorOf(() => new Response(null, { status: 302, headers: { location: "https://evil.example/steal" } }));
  assert.equal(e.constructor, KeygateError);
  assert.match(e.message, /redirect/);
});

/** Runs `body` as if in a page at `origin` (the SDK reads `location.origin`). */
async function inPage(origin, body) {
  const had = Object.getOwnPropertyDescriptor(globalThis, "location");
  Object.defineProperty(globalThis, "location", { value: { origin }, configurable: true, writable: true });
  try {
    return await body();
  } finally {
    if (had) Object.defineProperty(globalThis, "location", had);
    else delete globalThis.location;
  }
}

/** A client whose CORS requests fail as a browser reports it; `probe` answers the no-cors request. */
function blockedClient(probe) {
  const seen = [];
  const fetch = async (url, init = {}) => {
    seen.push({ url, mode: init.mode ?? "cors", method: init.method });
    if (init.mode === "no-cors") return probe();
    throw new TypeError("Failed to fetch");
  };
  const client = createClient({ baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch });
  return { client, seen };
}

test("in a page, a blocked cross-origin call to a reachable Keygate is CorsOriginDenied (inferred)", async () => {
  const { client, seen } = blockedClient(() => new Response(null));
  const e = await inPage("https://evil.example.net", () => client.me().catch((x) => x));
  assert.ok(e instanceof CorsOriginDenied, `${e}`);
  assert.equal(e.inferred, true);
  assert.equal(e.origin, "https://evil.example.net");
  assert.equal(e.status, 403);
  assert.match(e.message, /CORS origin denied/);
  assert.match(e.message, /https:\/\/evil\.example\.net/);
  assert.ok(e.cause instanceof TypeError);
  assert.deepEqual(seen, [
    { url: `${BASE}/auth`, mode: "cors", method: "POST" },
    { url: `${BASE}/healthz`, mode: "no-cors", method: "GET" },
  ]);
});

test("in a page, a blocked call to an unreachable Keygate is a NetworkError", async () => {
  const { client } = blockedClient(() => {
    throw new TypeError("Failed to fetch");
  });
  const e = await inPage("https://shop.example.com", () => client.me().catch((x) => x));
  assert.ok(e instanceof NetworkError);
  assert.equal(e.status, 0);
  assert.match(e.message, /could not reach Keygate at https:\/\/kg\.example\.test: Failed to fetch/);
  assert.match(e.message, /check that https:\/\/shop\.example\.com is one of a domain key's origins/);
});

test("a failure on a same-origin call is a NetworkError, without a probe", async () => {
  const { client, seen } = blockedClient(() => new Response(null));
  const e = await inPage(BASE, () => client.me().catch((x) => x));
  assert.ok(e instanceof NetworkError);
  assert.equal(seen.length, 1);
});

test("an aborted request is a NetworkError, not a CORS refusal", async () => {
  const fetch = async (url, init = {}) => {
    if (init.mode === "no-cors") return new Response(null);
    throw new DOMException("The operation was aborted.", "AbortError");
  };
  const client = createClient({ baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch });
  const e = await inPage("https://shop.example.com", () => client.me().catch((x) => x));
  assert.ok(e instanceof NetworkError);
});
