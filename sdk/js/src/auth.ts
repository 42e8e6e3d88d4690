// The token's life with a domain key (docs/domain-keys.md, docs/api-keys.md): the first call gets one
// with POST /auth; in the last minute of its life (but never before half of it) the next call trades it
// for a new one with POST /auth/refresh; once it has expired, or when a refresh is refused, POST /auth
// starts over.
//
// The token lives only in this object's memory, never in localStorage, sessionStorage or a cookie: those
// outlive the page (on disk, across tabs) and any script of the origin can read them later, whereas this
// token dies with the page. There are no timers either: the token is checked when a call needs it, which
// also covers a laptop that slept past the expiry (a timer would not have fired in time).

import type { AuthToken } from "./types.js";
import { KeygateError, RateLimited } from "./errors.js";
import { send, Transport } from "./http.js";

interface Held {
  token: string;
  /** Local clock, in ms. */
  expiresAt: number;
  /** How long before `expiresAt` to refresh, in ms. */
  margin: number;
}

export class TokenKeeper {
  #held: Held | undefined;
  /** The one authentication or refresh in flight, shared by every caller (single flight). */
  #pending: Promise<string> | undefined;

  constructor(
    private readonly t: Transport,
    private readonly apiKey: string,
    private readonly domainKey: string,
    private readonly marginMs: number,
  ) {}

  /** A token good for a call now: reused, refreshed, or obtained anew as its age requires. */
  get(): Promise<string> {
    const held = this.#held;
    if (held !== undefined && this.t.now() < held.expiresAt - held.margin) return Promise.resolve(held.token);
    if (this.#pending === undefined) {
      const flight = this.#renew(held);
      this.#pending = flight;
      // Cleared whether it worked or not, so that a failure is not handed to every later call.
      const clear = () => {
        if (this.#pending === flight) this.#pending = undefined;
      };
      flight.then(clear, clear);
    }
    return this.#pending;
  }

  /**
   * After the server refused `rejected` with 401: forget it and get another. A token that already
   * replaced it (another call got there first) is used as it is.
   */
  afterRejection(rejected: string): Promise<string> {
    if (this.#held?.token === rejected) this.#held = undefined;
    return this.get();
  }

  /** Forgets the token (the next call authenticates again). */
  clear(): void {
    this.#held = undefined;
  }

  async #renew(held: Held | undefined): Promise<string> {
    if (held === undefined || this.t.now() >= held.expiresAt) {
      // None yet, or expired: refreshing an expired token is refused (`token_expired`), so start over.
      return this.#authenticate();
    }
    try {
      return await this.#exchange("/auth/refresh", { "X-Api-Key": this.apiKey, Authorization: `Bearer ${held.token}` });
    } catch (e) {
      const refused = e instanceof KeygateError && e.status >= 400 && e.status < 500 && !(e instanceof RateLimited);
      // `token_expired`, `session_expired`, `invalid_token` (revoked, server restarted): start over.
      if (refused) return this.#authenticate();
      // Rate limited, server or network trouble: the token still works, so use it and retry next call.
      if (this.t.now() < held.expiresAt) return held.token;
      throw e;
    }
  }

  #authenticate(): Promise<string> {
    // The browser adds `Origin` itself; Keygate checks it against the domain key's origins.
    return this.#exchange("/auth", { "X-Api-Key": this.apiKey }, { domain_key: this.domainKey });
  }

  async #exchange(path: string, headers: Record<string, string>, json?: unknown): Promise<string> {
    // Expiry is counted from when the request left, by the local clock, with the server's `expires_in`:
    // a browser's clock may be off by minutes, so the server's absolute `expires_at` cannot be trusted
    // here, and starting the count early errs on the safe side.
    const sentAt = this.t.now();
    const { body } = await send<AuthToken>(this.t, { method: "POST", path, headers, json });
    if (typeof body?.access_token !== "string" || typeof body.expires_in !== "number") {
      throw new KeygateError(`POST ${path} answered without an access token`, { status: 200, body });
    }
    const lifetime = body.expires_in * 1000;
    this.#held = {
      token: body.access_token,
      expiresAt: sentAt + lifetime,
      // Never before half of its life is used up, so short-lived tokens are not refreshed on every call.
      margin: Math.min(this.marginMs, lifetime / 2),
    };
    return body.access_token;
  }
}
