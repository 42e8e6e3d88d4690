// A scripted Keygate for the unit tests: an injected `fetch` that records every request and answers
// from a route table, and a clock the tests move by hand.

export const BASE = "https://kg.example.test";
export const API_KEY = "kgk_0123456789abcdefghij";
export const DOMAIN_KEY = "kgd_abcdefghij0123456789";

/** A JSON answer, as the server sends it. */
export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** An RFC 9457 problem, as crates/server/src/error.rs writes it. */
export function problem(status, kind, title, detail, extra = {}, headers = {}) {
  const body = { type: `urn:keygate:problem:${kind}`, title, status, detail, ...extra };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** A `/auth` answer: tokens are numbered so tests can tell them apart. */
export function tokenAnswer(n, expiresIn = 900, serverNow = 1_800_000_000) {
  return json(200, {
    access_token: `tok-${n}`,
    token_type: "Bearer",
    expires_in: expiresIn,
    expires_at: serverNow + expiresIn,
    scope: "contacts.read contacts.write",
  });
}

export function clock(start = 1_700_000_000_000) {
  const c = { t: start, now: () => c.t, advance: (seconds) => (c.t += seconds * 1000) };
  return c;
}

/**
 * A fake fetch. `routes` maps "METHOD /path" (or a function of the request) to a handler returning a
 * Response (or a promise of one); a missing route fails the test loudly. Each request is recorded with
 * lower-cased headers, the parsed JSON body, and the init options.
 */
export function fakeKeygate(routes) {
  const requests = [];
  const fetch = async (url, init = {}) => {
    const u = new URL(url);
    const headers = Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    let body;
    if (typeof init.body === "string") body = JSON.parse(init.body);
    const req = { method: init.method ?? "GET", url: u.href, path: u.pathname, search: u.search, headers, body, init };
    requests.push(req);
    const key = `${req.method} ${req.path}`;
    const handler = routes[key] ?? routes[`${req.method} *`];
    if (!handler) throw new Error(`unexpected request ${key}`);
    return handler(req, requests);
  };
  const count = (method, path) => requests.filter((r) => r.method === method && r.path === path).length;
  return { fetch, requests, count };
}

/** A standard setup: `/auth` hands out tok-1, tok-2, …; `/v1/me` answers who the token is. */
export function standardRoutes(extra = {}, expiresIn = 900) {
  let n = 0;
  return {
    "POST /auth": () => tokenAnswer(++n, expiresIn),
    "POST /auth/refresh": () => tokenAnswer(++n, expiresIn),
    "GET /v1/me": (req) => json(200, { account: "ab123", credential: "domain_key", token: req.headers.authorization }),
    ...extra,
  };
}

/** Resolves after the pending microtasks and timers queued so far. */
export const tick = () => new Promise((r) => setTimeout(r, 0));

/** A promise with its resolve exposed, to hold an answer back while concurrent calls pile up. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}
