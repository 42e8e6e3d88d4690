// Typed calls for the contacts resource (`/v1/contacts`, docs/contacts.md). Bodies and answers are the
// REST wire shapes as they are; only ETags move from headers onto the returned contact.

import type { Answer, RequestSpec } from "./http.js";
import type {
  Contact,
  ContactInput,
  ContactPage,
  ContactPatch,
  Instant,
  ListParams,
  VersionedContact,
  WriteOptions,
} from "./types.js";

/** Sends an authenticated request (see client.ts). */
export type Call = <T>(spec: RequestSpec) => Promise<Answer<T>>;

export interface ContactsApi {
  /** `GET /v1/contacts`: a page of contacts matching `params`. */
  list(params?: ListParams): Promise<ContactPage>;
  /** Follows a page's `next` or `previous` link (only links to this Keygate are followed). */
  page(link: string): Promise<ContactPage>;
  /** `GET /v1/contacts/{id}`, with its `etag`. */
  get(id: number | string): Promise<VersionedContact>;
  /** `POST /v1/contacts`, with the new contact's `etag`. */
  create(input: ContactInput): Promise<VersionedContact>;
  /** `PATCH /v1/contacts/{id}`; with `ifMatch`, only if nobody changed it since (else `PreconditionFailed`). */
  update(id: number | string, patch: ContactPatch, options?: WriteOptions): Promise<VersionedContact>;
  /** `DELETE /v1/contacts/{id}`; `ifMatch` as for `update`. */
  delete(id: number | string, options?: WriteOptions): Promise<void>;
}

/** Unix seconds for a `Date` (the server takes them as well as RFC 3339, which has no milliseconds there). */
function instant(v: Instant): string {
  return v instanceof Date ? String(Math.floor(v.getTime() / 1000)) : String(v);
}

/** The query string; parameters left undefined are left out (the server refuses empty unknowns). */
export function listQuery(params: ListParams = {}): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    q.append(name, name === "since" || name === "until" ? instant(value as Instant) : String(value));
  }
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

/** The path of one contact. Ids are positive integers; anything else is refused here, before it could
 * change the path (`..`, `/`). */
function contactPath(id: number | string): string {
  const text = String(id);
  if (!/^[1-9][0-9]*$/.test(text)) throw new TypeError(`contact ids are positive integers, not ${JSON.stringify(id)}`);
  return `/v1/contacts/${text}`;
}

function ifMatch(options?: WriteOptions): Record<string, string> {
  return options?.ifMatch === undefined ? {} : { "If-Match": options.ifMatch };
}

/** The contact with its ETag as a non-enumerable `etag`, so it never travels back as a field. */
function versioned(answer: Answer<Contact>): VersionedContact {
  const contact = answer.body;
  const etag = answer.headers.get("etag");
  if (etag !== null) Object.defineProperty(contact, "etag", { value: etag, enumerable: false });
  return contact;
}

export function contactsApi(call: Call, baseUrl: string): ContactsApi {
  const base = new URL(baseUrl);
  return {
    async list(params) {
      return (await call<ContactPage>({ method: "GET", path: `/v1/contacts${listQuery(params)}` })).body;
    },
    async page(link) {
      const url = new URL(link, base);
      // The token goes only to Keygate: a link elsewhere (a tampered or misconfigured answer) is refused.
      if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname.replace(/\/?$/, "/"))) {
        throw new TypeError(`refusing to follow ${link}: it is not under ${baseUrl}`);
      }
      return (await call<ContactPage>({ method: "GET", path: url.href })).body;
    },
    async get(id) {
      return versioned(await call<Contact>({ method: "GET", path: contactPath(id) }));
    },
    async create(input) {
      return versioned(await call<Contact>({ method: "POST", path: "/v1/contacts", json: input }));
    },
    async update(id, patch, options) {
      const path = contactPath(id);
      return versioned(await call<Contact>({ method: "PATCH", path, json: patch, headers: ifMatch(options) }));
    },
    async delete(id, options) {
      await call({ method: "DELETE", path: contactPath(id), headers: ifMatch(options) });
    },
  };
}
