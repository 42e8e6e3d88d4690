// The wire shapes of Keygate's REST API, kept in its snake_case spelling (docs/contacts.md) so that what
// you read here is exactly what the server sends and accepts.

/** The options of {@link createClient}. */
export interface ClientOptions {
  /** Keygate's URL, e.g. `https://auth.example.com` (no trailing path). */
  baseUrl: string;
  /** The id of the API key the domain key is bound to (`kgk_…`). Public; never its secret. */
  apiKey: string;
  /** The domain key (`kgd_…`). Public, and worth something only from the origins it lists. */
  domainKey: string;
  /** A `fetch` to use instead of the global one (tests, instrumentation). */
  fetch?: typeof fetch;
  /** The clock, in milliseconds like `Date.now` (tests). */
  now?: () => number;
  /**
   * Refresh a token when less than this many seconds of its life are left (default 60), but never before
   * half of its life is used up, so short-lived tokens are not refreshed on every call.
   */
  refreshMarginSeconds?: number;
}

/** The answer of `POST /auth` and `POST /auth/refresh`. */
export interface AuthToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  /** Unix seconds, by the server's clock. */
  expires_at: number;
  scope: string;
}

/** `GET /v1/me`: who the caller is. */
export interface Me {
  account: string;
  user_id: string | null;
  acting_as: "user" | "account";
  /** `domain_key` for this SDK's tokens. */
  credential: string;
  credential_id: string;
  scope: string;
  expires_at: number | null;
  impersonated_by: unknown | null;
}

export type EmailField = "EMAIL1" | "EMAIL2" | "EMAIL3";
export type PhoneField = "PHONE1" | "PHONE2" | "PHONE3" | "PHONE4" | "PHONE5";
export type AddressField = "BILLING" | "SHIPPING" | "OTHER";

export interface EmailAddress {
  field: EmailField;
  email: string;
}

export interface PhoneNumber {
  field: PhoneField;
  number: string;
  extension?: string | null;
  /** Free text such as `Mobile` or `Work`. */
  type?: string | null;
}

export interface Address {
  field: AddressField;
  line1?: string | null;
  line2?: string | null;
  locality?: string | null;
  region?: string | null;
  postal_code?: string | null;
  country_code?: string | null;
}

/** A contact as the server sends it. */
export interface Contact {
  id: number;
  given_name: string | null;
  middle_name: string | null;
  family_name: string | null;
  company_name: string | null;
  job_title: string | null;
  email_addresses: EmailAddress[];
  phone_numbers: PhoneNumber[];
  addresses: Address[];
  tag_ids: number[];
  source_type: string | null;
  /** RFC 3339. */
  date_created: string;
  /** RFC 3339. */
  last_updated: string;
  /** Keap's name for the primary address's status; single reads and writes only (lists leave it out). */
  email_status?: string | null;
  /** Whether the primary address may receive marketing; single reads and writes only. */
  email_opted_in?: boolean;
}

/**
 * A contact from a single read or write, with its version. `etag` is not enumerable, so spreading the
 * contact or sending it back as JSON never sends it as a field.
 */
export type VersionedContact = Contact & { readonly etag?: string };

/** The body of `POST /v1/contacts`: every field optional; unknown fields are refused with 422. */
export interface ContactInput {
  given_name?: string | null;
  middle_name?: string | null;
  family_name?: string | null;
  company_name?: string | null;
  job_title?: string | null;
  email_addresses?: EmailAddress[] | null;
  phone_numbers?: PhoneNumber[] | null;
  addresses?: Address[] | null;
  tag_ids?: number[] | null;
  source_type?: string | null;
}

/** One slot of a patch: the parts left out are kept, `null` clears. */
export interface EmailPatch {
  field: EmailField;
  email?: string | null;
}
export interface PhonePatch {
  field: PhoneField;
  number?: string | null;
  extension?: string | null;
  type?: string | null;
}
export type AddressPatch = Address;

/**
 * The body of `PATCH /v1/contacts/{id}`: a field left out is kept, `null` clears it, a list changes only
 * the slots it names (`null` empties it), `tag_ids` is replaced whole.
 */
export interface ContactPatch {
  given_name?: string | null;
  middle_name?: string | null;
  family_name?: string | null;
  company_name?: string | null;
  job_title?: string | null;
  email_addresses?: EmailPatch[] | null;
  phone_numbers?: PhonePatch[] | null;
  addresses?: AddressPatch[] | null;
  tag_ids?: number[] | null;
  source_type?: string | null;
}

/** A time for `since`/`until`: RFC 3339 text, Unix seconds, or a `Date`. */
export type Instant = string | number | Date;

/** The query of `GET /v1/contacts`. The server refuses unknown parameters, so typos fail loudly. */
export interface ListParams {
  /** 1 to 1000; default 50. */
  limit?: number;
  offset?: number;
  /** Any of the three slots, case-insensitive. */
  email?: string;
  /** Case-insensitive; `%` is a wildcard. */
  given_name?: string;
  family_name?: string;
  /** Last updated at or after (inclusive). */
  since?: Instant;
  /** Last updated before (exclusive). */
  until?: Instant;
  order?: "id" | "date_created" | "last_updated" | "email" | "name";
  order_direction?: "ASCENDING" | "DESCENDING";
}

/** A page of `GET /v1/contacts`. */
export interface ContactPage {
  contacts: Contact[];
  /** How many contacts match, over all pages. */
  count: number;
  /** The next page as an absolute URL; `null` on the last. */
  next: string | null;
  /** The previous page as an absolute URL; `null` on the first. */
  previous: string | null;
}

/** Conditions for writes: an ETag from a read (`"3"`), or `*` for any version. */
export interface WriteOptions {
  ifMatch?: string;
}
