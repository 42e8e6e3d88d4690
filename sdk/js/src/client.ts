// The client: options checked once, one token keeper, and every resource call sent with its token and
// retried once when the server refuses that token.

import { TokenKeeper } from "./auth.js";
import { contactsApi, type ContactsApi } from "./contacts.js";
import { Unauthorized } from "./errors.js";
import { send, type Answer, type RequestSpec, type Transport } from "./http.js";
import type { ClientOptions, Me } from "./types.js";

export interface KeygateClient {
  /** `GET /v1/me`: who the token acts as (`credential` is `domain_key`), its account and scope. */
  me(): Promise<Me>;
  contacts: ContactsApi;
  /** Forgets the token held in memory; the next call authenticates again. */
  signOut(): void;
}

function required(options: ClientOptions, name: "baseUrl" | "apiKey" | "domainKey"): string {
  const v = options[name];
  if (typeof v !== "string" || v.trim() === "") throw new TypeError(`createClient: ${name} is required`);
  return v.trim();
}

export function createClient(options: ClientOptions): KeygateClient {
  const baseUrl = required(options, "baseUrl").replace(/\/+$/, "");
  const apiKey = required(options, "apiKey");
  const domainKey = required(options, "domainKey");
  if (!/^https?:\/\//i.test(baseUrl)) throw new TypeError("createClient: baseUrl must be an http(s) URL");
  // A page cannot keep a secret: refuse one outright rather than send it from every visitor's browser.
  if (apiKey.startsWith("kgsk_") || "secret" in options) {
    throw new TypeError("createClient: never put an API key's secret in a browser; use a domain key");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") throw new TypeError("createClient: no fetch here; pass options.fetch");
  const t: Transport = {
    baseUrl,
    // Called on globalThis: browsers throw "Illegal invocation" when `window.fetch` runs detached from
    // `window`, which is what passing `{ fetch: window.fetch }` would otherwise do.
    fetch: (input, init) => fetchImpl.call(globalThis, input, init),
    now: options.now ?? Date.now,
  };
  const tokens = new TokenKeeper(t, apiKey, domainKey, (options.refreshMarginSeconds ?? 60) * 1000);

  async function call<T>(spec: RequestSpec): Promise<Answer<T>> {
    const token = await tokens.get();
    const authorized = (tk: string) => ({ ...spec, headers: { ...spec.headers, Authorization: `Bearer ${tk}` } });
    try {
      return await send<T>(t, authorized(token));
    } catch (e) {
      if (!(e instanceof Unauthorized)) throw e;
      // The token was refused although it looked valid (revoked, signing keys replaced, the clock was
      // wrong): try once more with a new one. A second 401 is the answer; nothing loops.
      return send<T>(t, authorized(await tokens.afterRejection(token)));
    }
  }

  return {
    async me() {
      return (await call<Me>({ method: "GET", path: "/v1/me" })).body;
    },
    contacts: contactsApi(call, baseUrl),
    signOut() {
      tokens.clear();
    },
  };
}
