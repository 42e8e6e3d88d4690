// The browser SDK in real Chromium against a real Keygate: from an origin its domain key allows,
// everything works and the contact really lands in Keygate; from an origin nothing allows, the page gets
// `CorsOriginDenied`; from an origin CORS lets through but the domain key does not list, `OriginNotAllowed`.
// Also: the token's life cycle (refresh, re-authentication after a sleep and after a real expiry) and that
// the token never reaches web storage.
//
// Input (environment): KEYGATE_URL, KEYGATE_ADMIN_TOKEN, KEYGATE_ACCOUNT, KEYGATE_E2E_ARTIFACTS.
// The server should run with a short `api_keys.domain_token_ttl` (the Rust test uses 10 s) and
// `tokens.leeway = 0` for the real-expiry step; with a long TTL that step is skipped, saying so.
// Exits 0 when every check passed; otherwise prints what failed and exits 1.

import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { check, launch, recordConsole, REPO_ROOT, requireEnv, screenshot } from "./lib.mjs";

const KG = requireEnv("KEYGATE_URL").replace(/\/+$/, "");
const ADMIN = requireEnv("KEYGATE_ADMIN_TOKEN");
const ACCOUNT = requireEnv("KEYGATE_ACCOUNT");
requireEnv("KEYGATE_E2E_ARTIFACTS");
const DIST = join(REPO_ROOT, "sdk", "js", "dist");
const PAGE_SCRIPT = join(REPO_ROOT, "e2e", "sdk-page.js");
const TIMEOUT_MS = Number(process.env.KEYGATE_E2E_TIMEOUT_MS ?? 100_000);

let current = "starting";
const ok = (line) => console.log(`  ✔ ${line}`);
const step = (name) => {
  current = name;
  console.log(`\n${name}`);
};

/** A call to Keygate from Node (no Origin: a server, as the admin API expects). */
async function api(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${KG}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keygate SDK</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
  #status { font-weight: 600; padding: .6rem .8rem; border-radius: 6px; background: #eee; }
  #status.ok { background: #dcf5dc; color: #145214; } #status.failed { background: #fbe0e0; color: #7a1010; }
  pre { background: #f6f6f6; padding: 1rem; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
</style></head>
<body>
  <h1>@keygate/browser end-to-end page</h1>
  <p id="status">running…</p>
  <ol id="steps"></ol>
  <pre id="result"></pre>
  <script type="module" src="/sdk-page.js"></script>
</body></html>`;

/** A static server on a loopback port of its own (so a distinct origin): the page, its script, the SDK. */
function serveStatic() {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const send = (status, type, body) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (path === "/") return send(200, "text/html; charset=utf-8", PAGE_HTML);
    if (path === "/sdk-page.js") return send(200, "text/javascript; charset=utf-8", readFileSync(PAGE_SCRIPT));
    const m = path.match(/^\/sdk\/([A-Za-z0-9_-]+\.js)$/);
    if (m && existsSync(join(DIST, m[1]))) {
      return send(200, "text/javascript; charset=utf-8", readFileSync(join(DIST, m[1])));
    }
    if (path === "/favicon.ico") return send(204, "image/x-icon", "");
    return send(404, "text/plain", "not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

async function createApiKey(name, scopes) {
  const res = await api("POST", `/admin/v1/accounts/${ACCOUNT}/api-keys`, { token: ADMIN, body: { name, scopes } });
  check(res.status === 201, `creating an API key answered ${res.status}`, res.body);
  return res.body;
}

async function createDomainKey(name, apiKeyId, origins, scopes) {
  const body = { name, api_key_id: apiKeyId, origins, ...(scopes ? { scopes } : {}) };
  const res = await api("POST", `/admin/v1/accounts/${ACCOUNT}/domain-keys`, { token: ADMIN, body });
  check(res.status === 201, `creating a domain key answered ${res.status}`, res.body);
  return res.body;
}

/** Opens the test page at `origin` with these keys in a fresh browser context; waits for its report. */
async function openPage(browser, origin, apiKeyId, domainKeyId) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = recordConsole(page);
  const failed = [];
  page.on("requestfailed", (r) => {
    if (r.url().startsWith(KG)) failed.push(`${r.method()} ${new URL(r.url()).pathname}: ${r.failure()?.errorText}`);
  });
  const url = `${origin}/?${new URLSearchParams({ kg: KG, key: apiKeyId, dk: domainKeyId })}`;
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.kgResult !== undefined, null, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`the page at ${origin} never reported a result:\n${consoleLines.join("\n")}\n${e.message}`);
  }
  const result = await page.evaluate(() => window.kgResult);
  return { context, page, result, consoleLines, failed };
}

/** Runs `fn` in the page; returns its value and the requests the page made meanwhile. */
async function inPage(page, fn, arg) {
  const from = await page.evaluate(() => window.kgTest.traffic.length);
  const value = await page.evaluate(fn, arg);
  const traffic = await page.evaluate((n) => window.kgTest.traffic.slice(n), from);
  return { value, traffic, lines: traffic.map((t) => `${t.method} ${t.path} ${t.status ?? t.error}`) };
}

const count = (lines, line) => lines.filter((l) => l === line).length;

async function allowedOrigin(browser, origin, key, dk) {
  step(`From ${origin}, which the domain key lists`);
  const { context, page, result, consoleLines } = await openPage(browser, origin, key.id, dk.id);
  try {
    check(result.ok, `the SDK failed from the allowed origin`, { result, console: consoleLines });
    check(result.me.credential === "domain_key" && result.me.credential_id === dk.id && result.me.account === ACCOUNT,
      "GET /v1/me does not describe the domain key", result.me);
    check(result.me.scope === "contacts.read contacts.write", "the token's scope is not the domain key's", result.me);
    ok(`signed in with the domain key: ${JSON.stringify(result.me.credential)} ${result.me.credential_id}, scope ${result.me.scope}`);
    const c = result.created;
    check(c.id > 0 && c.given_name === "Ann" && c.email_addresses[0].email === result.email && c.etag === '"1"',
      "the created contact is not what was sent", c);
    check(result.listed.count === 1 && result.listed.contacts[0].id === c.id, "listing by email did not find it", result.listed);
    check(result.got.id === c.id && result.got.etag === '"1"', "reading it back failed", result.got);
    ok(`created contact ${c.id} (ETag ${c.etag}), found it by email, read it back`);
    check(result.storage.local === 0 && result.storage.session === 0 && result.storage.cookie === "",
      "something was written to web storage or cookies", result.storage);
    ok("nothing in localStorage, sessionStorage or cookies");
    const ttl = (await page.evaluate(() => window.kgTest.traffic.find((t) => t.path === "/auth")?.expiresIn));
    check(typeof ttl === "number", "the page saw no /auth answer");
    await page.evaluate(() => window.kgTest.log("integration: me, create, list, get: OK"));
    await screenshot(page, "sdk-allowed-origin");

    step("Errors from the real server, read cross-origin");
    const errors = await inPage(page, async ({ id, family }) => {
      const { kg, describe, plain } = window.kgTest;
      const caught = async (p) => p.then(() => null, describe);
      const out = {};
      out.invalid = await caught(kg.contacts.create({ email_addresses: [{ email: "not-an-address", field: "EMAIL1" }] }));
      out.unknown = await caught(kg.contacts.create({ shoe_size: 44 }));
      out.missing = await caught(kg.contacts.get(987654321));
      out.updated = plain(await kg.contacts.update(id, { job_title: "QA" }, { ifMatch: '"1"' }));
      out.stale = await caught(kg.contacts.update(id, { job_title: "Lost update" }, { ifMatch: '"1"' }));
      const second = await kg.contacts.create({ given_name: "Bo", family_name: family });
      const first = await kg.contacts.list({ limit: 1, family_name: family.toLowerCase() });
      const next = first.next && (await kg.contacts.page(first.next));
      out.paging = { count: first.count, firstId: first.contacts[0]?.id, nextId: next?.contacts[0]?.id, previous: next?.previous ?? null };
      await kg.contacts.delete(second.id, { ifMatch: second.etag });
      out.deleted = await caught(kg.contacts.get(second.id));
      out.secondId = second.id;
      return out;
    }, { id: c.id, family: result.family });
    const e = errors.value;
    check(e.invalid?.name === "ValidationError" && e.invalid.status === 422 && e.invalid.errors[0]?.field === "email_addresses[0].email",
      "an invalid email is not a ValidationError naming the field", e.invalid);
    ok(`invalid email: ${e.invalid.name} ${e.invalid.status} on ${e.invalid.errors[0].field}: ${e.invalid.message}`);
    check(e.unknown?.name === "ValidationError" && /unknown field/.test(e.unknown.message), "an unknown field is not a ValidationError", e.unknown);
    ok(`unknown field: ${e.unknown.name} ${e.unknown.status}: ${e.unknown.message}`);
    check(e.missing?.name === "NotFound" && e.missing.status === 404, "a missing contact is not NotFound", e.missing);
    ok(`missing contact: ${e.missing.name}: ${e.missing.message}`);
    check(e.updated.job_title === "QA" && e.updated.etag === '"2"', "the conditional update failed", e.updated);
    check(e.stale?.name === "PreconditionFailed" && e.stale.classes.includes("Conflict") && e.stale.status === 412,
      "a stale If-Match is not PreconditionFailed", e.stale);
    ok(`update with If-Match "1" → ETag ${e.updated.etag}; again with "1": ${e.stale.name} (a Conflict) 412`);
    check(e.paging.count === 2 && e.paging.firstId === c.id && e.paging.nextId === e.secondId,
      "paging with next links failed", e.paging);
    ok("a page of one, then its next link, through contacts.page()");
    check(e.deleted?.name === "NotFound", "a deleted contact still reads", e.deleted);
    ok("delete with If-Match, then NotFound");
    await page.evaluate(() => window.kgTest.log("errors: ValidationError, NotFound, PreconditionFailed; paging; delete: OK"));

    step(`Token life cycle (token lifetime ${ttl} s)`);
    // The laptop slept past the expiry: the client's clock jumps, the server's token is still fine, yet the
    // client must start over with /auth, once for five concurrent calls.
    const slept = await inPage(page, async (ttl) => {
      const { kg, clock } = window.kgTest;
      clock.offset += (ttl + 3600) * 1000;
      return (await Promise.all([1, 2, 3, 4, 5].map(() => kg.me()))).length;
    }, ttl);
    check(count(slept.lines, "POST /auth 200") === 1 && !slept.lines.some((l) => l.startsWith("POST /auth/refresh")) &&
      count(slept.lines, "GET /v1/me 200") === 5, "after a sleep: expected one /auth shared by five calls", slept.lines);
    ok(`after a sleep past the expiry: ${slept.lines.join(", ")}`);
    // Near the end of its life the token is refreshed, once for three concurrent calls. The client's clock
    // stops in the middle of the refresh window of the token it holds, however slow this machine is.
    const refreshed = await inPage(page, async (ttl) => {
      const { kg, clock, traffic } = window.kgTest;
      const issued = traffic.filter((t) => t.path.startsWith("/auth") && t.status === 200).at(-1);
      const margin = Math.min(60, ttl / 2) * 1000;
      clock.frozen = issued.at + ttl * 1000 - margin / 2;
      return (await Promise.all([1, 2, 3].map(() => kg.me()))).length;
    }, ttl);
    check(count(refreshed.lines, "POST /auth/refresh 200") === 1 && count(refreshed.lines, "POST /auth 200") === 0 &&
      count(refreshed.lines, "GET /v1/me 200") === 3, "near expiry: expected one /auth/refresh shared by three calls", refreshed.lines);
    ok(`near the end of its life: ${refreshed.lines.join(", ")}`);
    if (ttl <= 15) {
      // A real expiry the client did not notice (its clock is still stopped where the refresh happened, so
      // the new token looks fresh): the server answers 401, and the client signs in again and retries once.
      const expired = await inPage(page, async (ttl) => {
        const { kg, clock } = window.kgTest;
        await new Promise((r) => setTimeout(r, ttl * 1000 + 1500));
        try {
          return (await kg.me()).credential;
        } finally {
          clock.frozen = null;
        }
      }, ttl);
      check(expired.value === "domain_key" && expired.lines.join(", ") === "GET /v1/me 401, POST /auth 200, GET /v1/me 200",
        "after a real expiry: expected a 401, one /auth and one retry", expired.lines);
      ok(`after a real expiry: ${expired.lines.join(", ")}`);
    } else {
      await page.evaluate(() => (window.kgTest.clock.frozen = null));
      console.log(`  - real-expiry step skipped: tokens last ${ttl} s (run the server with api_keys.domain_token_ttl = 10 and tokens.leeway = 0)`);
    }
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
    check(storage.local === 0 && storage.session === 0 && storage.cookie === "", "the token reached web storage", storage);
    ok("still nothing in web storage or cookies");
    await page.evaluate(() => window.kgTest.log("token life cycle: re-authentication after sleep, refresh, 401 retry: OK"));
    await screenshot(page, "sdk-allowed-origin-after-steps");
    return { contactId: c.id, email: result.email, deletedId: e.secondId };
  } finally {
    await context.close();
  }
}

async function deniedOrigin(browser, origin, key, dk) {
  step(`From ${origin}, which nothing allows`);
  // What Keygate answers that origin, seen from Node (the browser hides it from the page).
  const preflight = await api("OPTIONS", "/auth", {
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-api-key" },
  });
  check(preflight.status === 403 && preflight.body?.error === "cors_origin_denied" && preflight.body?.message === "CORS origin denied" &&
    preflight.headers.get("access-control-allow-origin") === null,
    "Keygate's preflight answer to a denied origin is not the documented refusal", { status: preflight.status, body: preflight.body });
  ok(`Keygate answers its preflight 403 ${JSON.stringify(preflight.body)} without Access-Control-Allow-Origin`);
  const { context, page, result, consoleLines, failed } = await openPage(browser, origin, key.id, dk.id);
  try {
    check(!result.ok, "the SDK worked from an origin nothing allows", result);
    const e = result.error;
    check(e.name === "CorsOriginDenied" && e.isKeygateError && e.classes.join(">") === "CorsOriginDenied>Forbidden>KeygateError>Error",
      "the page did not get CorsOriginDenied", { error: e, console: consoleLines });
    check(e.message.includes("CORS origin denied") && e.inferred === true && e.origin === origin,
      "CorsOriginDenied does not say what happened", e);
    ok(`the page caught ${e.name}: ${e.message}`);
    const traffic = await page.evaluate(() => window.kgTest.traffic);
    check(traffic[0]?.path === "/auth" && /TypeError/.test(traffic[0].error ?? "") &&
      traffic.some((t) => t.path === "/healthz" && t.mode === "no-cors" && t.status === 0),
      "expected a blocked /auth and a successful opaque no-cors probe", traffic);
    ok(`what the page saw: POST /auth → ${traffic[0].error}; no-cors GET /healthz → opaque answer (Keygate is up)`);
    check(failed.some((f) => f.startsWith("POST /auth")), "Chromium did not report the /auth request as failed", failed);
    ok(`Chromium: ${failed.join("; ")}`);
    await screenshot(page, "sdk-denied-origin");
  } finally {
    await context.close();
  }
}

async function otherKeysOrigin(browser, origin, key, dk) {
  step(`From ${origin} again, now allowed by another (read-only) domain key`);
  const key2 = await createApiKey("Browser SDK e2e (second)", "contacts.read contacts.write");
  const dk2 = await createDomainKey("Second page", key2.id, [origin]);
  // CORS now lets the origin through, but the first domain key still does not list it: a readable 403.
  let opened = await openPage(browser, origin, key.id, dk.id);
  try {
    const e = opened.result.error;
    check(e?.name === "OriginNotAllowed" && e.classes.includes("Forbidden") && e.code === "origin_not_allowed" && e.message.includes(origin),
      "the page did not get OriginNotAllowed naming its origin", opened.result);
    ok(`with the first domain key: ${e.name}: ${e.message}`);
    await screenshot(opened.page, "sdk-origin-not-allowed");
  } finally {
    await opened.context.close();
  }
  // Its own domain key works, within its default scope (contacts.read): writing is InsufficientScope.
  opened = await openPage(browser, origin, key2.id, dk2.id);
  try {
    const { result } = opened;
    check(result.me?.credential_id === dk2.id && result.me.scope === "contacts.read", "the read-only domain key did not sign in", result);
    const e = result.error;
    check(e?.name === "InsufficientScope" && e.requiredScope === "contacts.write" && e.status === 403,
      "writing with a read-only domain key is not InsufficientScope", result);
    ok(`with its own read-only domain key: signed in, then creating a contact: ${e.name} (needs ${e.requiredScope})`);
    await screenshot(opened.page, "sdk-insufficient-scope");
  } finally {
    await opened.context.close();
  }
}

async function inKeygate(key, written) {
  step("Checked from Node with the API key's secret (no browser)");
  const auth = await api("POST", "/auth", { headers: { "x-api-key": key.id }, body: { secret: key.secret } });
  check(auth.status === 200, `POST /auth with the secret answered ${auth.status}`, auth.body);
  const token = auth.body.access_token;
  const got = await api("GET", `/v1/contacts/${written.contactId}`, { token });
  check(got.status === 200 && got.body.email_addresses[0]?.email === written.email && got.body.job_title === "QA" &&
    got.headers.get("etag") === '"2"', "the contact the page wrote is not in Keygate as written", got);
  ok(`contact ${written.contactId} is in Keygate: ${got.body.given_name} ${got.body.family_name} <${written.email}>, ${got.body.job_title}, ETag ${got.headers.get("etag")}`);
  const gone = await api("GET", `/v1/contacts/${written.deletedId}`, { token });
  check(gone.status === 404, "the contact the page deleted is still there", gone);
  ok(`contact ${written.deletedId}, deleted by the page, is gone`);
}

async function main() {
  check(existsSync(join(DIST, "index.js")), `the SDK is not built: run npm run build in sdk/js (${DIST})`);
  console.log(`Keygate at ${KG}, account ${ACCOUNT}`);
  const key = await createApiKey("Browser SDK e2e", "contacts.read contacts.write");
  const allowed = await serveStatic();
  const denied = await serveStatic();
  const dk = await createDomainKey("SDK e2e page", key.id, [allowed.origin], "contacts.read contacts.write");
  console.log(`API key ${key.id}, domain key ${dk.id} for ${allowed.origin}; ${denied.origin} is not allowed`);
  const browser = await launch();
  try {
    const written = await allowedOrigin(browser, allowed.origin, key, dk);
    await deniedOrigin(browser, denied.origin, key, dk);
    await otherKeysOrigin(browser, denied.origin, key, dk);
    await inKeygate(key, written);
  } finally {
    await browser.close();
    await allowed.close();
    await denied.close();
  }
  console.log("\nsdk-cors: all checks passed");
}

const timer = setTimeout(() => {
  console.error(`\nsdk-cors: FAILED: timed out after ${TIMEOUT_MS} ms during: ${current}`);
  process.exit(1);
}, TIMEOUT_MS);

main().then(
  () => clearTimeout(timer),
  (e) => {
    console.error(`\nsdk-cors: FAILED during: ${current}\n${e?.stack ?? e}`);
    process.exit(1);
  },
);
