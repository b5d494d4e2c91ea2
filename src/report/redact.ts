// Secret redaction for every output format: credential headers, cookies, signature/token headers,
// secret-named query and form fields, and evidence values under SECRET_EVIDENCE_KEYS. Usernames,
// Digest realm/nonce/uri and header names stay visible so a ticket still says who and what.

import { SECRET_EVIDENCE_KEYS, type Exchange, type Finding, type Report } from '../types.js';

export const REDACTED = '<redacted>';

const SECRET_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'set-cookie2',
  'x-signature', 'signature', 'x-api-key', 'api-key', 'apikey', 'x-apikey', 'x-auth-token',
  'x-access-token', 'x-refresh-token', 'x-session-token', 'x-csrf-token', 'x-xsrf-token',
  'authentication-info', 'proxy-authentication-info', 'x-amz-security-token', 'x-goog-api-key',
  'ocp-apim-subscription-key', 'x-hub-signature', 'x-hub-signature-256', 'x-password', 'x-secret',
]);

/** Headers that describe a challenge: never secret, and what a ticket needs to see. */
const NEVER_SECRET = new Set(['www-authenticate', 'proxy-authenticate', 'sec-websocket-key', 'keep-alive']);

const SECRET_HEADER_PATTERN = /(^|[-_])(token|secret|signature|sig|passwd|password|pwd|api-?key|apikey|private-?key|access-?key|session-?id|sessionid|credentials?|auth-?key)([-_]|$)/i;

/** True for headers whose value is a secret (or carries one): Authorization, Cookie, X-Signature, X-API-Key, ... */
export function isSecretHeader(name: string): boolean {
  const n = name.trim().toLowerCase();
  if (NEVER_SECRET.has(n)) return false;
  return SECRET_HEADERS.has(n) || SECRET_HEADER_PATTERN.test(n);
}

const SECRET_FIELD = /(^|[_\-.])(password|passwd|pass|pwd|key|apikey|api_key|token|access_token|secret|signature|sig)$/i;

/** True for a query/form field name whose value is a secret (password, key, token, sig, client_secret, ...). */
export function isSecretField(name: string): boolean {
  let n = name;
  try {
    n = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    /* keep raw */
  }
  return SECRET_FIELD.test(n.trim());
}

/** The redaction marker for one secret value: hex digests keep their length (and case, which checks report). */
export function redactValue(v: string): string {
  const t = v.trim();
  if (t.length < 16) return REDACTED;
  // /^[0-9a-fA-F]{16,}$/, noting which letter cases occur
  let lower = false;
  let upper = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0x61 && c <= 0x66) lower = true;
    else if (c >= 0x41 && c <= 0x46) upper = true;
    else if (c < 0x30 || c > 0x39) return REDACTED;
  }
  const kase = lower ? (upper ? ', mixed case' : '') : upper ? ', upper case' : '';
  return `<redacted ${t.length} hex${kase}>`;
}

const MARKER = /^<redacted( \d+ hex(, (mixed|upper) case)?)?>$/;

function isRedactedMarker(v: string): boolean {
  const t = v.trim();
  return t.charCodeAt(0) === 0x3c && MARKER.test(t);
}

/** isRedactedMarker for text already trimmed. */
function isMarkerTrimmed(t: string): boolean {
  return t.charCodeAt(0) === 0x3c && MARKER.test(t);
}

/** /^[0-9a-fA-F]+$/ for a non-empty string. */
function isHex(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  return true;
}

const NONE: ReadonlySet<string> = new Set<string>();

/** Collects secret values seen while redacting, to scrub copies of them found elsewhere. */
export class SecretSet {
  /** The secrets, in the order they were added (made at the first one: most sets stay empty). */
  private set: Set<string> | null = null;
  /** Secrets by their first 4 characters, longest first; rebuilt after a change. */
  private index: Map<number, string[]> | null = null;

  /** The secrets, in the order they were added. */
  get values(): ReadonlySet<string> {
    return this.set ?? NONE;
  }

  add(v: string | undefined | null): void {
    if (!v) return;
    const t = v.trim();
    if (t.length < 4 || isMarkerTrimmed(t)) return;
    this.put(t);
    if (isHex(t)) {
      this.put(t.toLowerCase());
      this.put(t.toUpperCase());
    }
    if ((t.indexOf('%') >= 0 || t.indexOf('+') >= 0) && /%[0-9a-fA-F]{2}|\+/.test(t)) {
      try {
        const d = decodeURIComponent(t.replace(/\+/g, ' '));
        if (d.length >= 4) this.put(d);
      } catch {
        /* not URL-encoded */
      }
    }
  }

  delete(v: string): void {
    if (this.set !== null && this.set.delete(v)) {
      this.index = null;
      this.sorted = null;
    }
  }

  private put(v: string): void {
    const set = (this.set ??= new Set());
    if (set.has(v)) return;
    set.add(v);
    this.index = null;
    this.sorted = null;
  }

  /** The values longest first, for the few-secrets scrub; rebuilt after a change. */
  private sorted: string[] | null = null;

  /** Replace every occurrence of a collected secret in s (longest match first), in one pass over s. */
  scrub(s: string): string {
    const set = this.set;
    if (set === null || set.size === 0 || s.length < 4) return s;
    if (set.size <= 8) return this.scrubFew(s);
    if (!this.index) {
      // Index the secrets by their first four UTF-16 units, packed into a number: the scan below then
      // looks up one number per position instead of allocating a 4-character string.
      this.index = new Map();
      for (const v of set) {
        const k = key4(v, 0);
        const list = this.index.get(k);
        if (list) list.push(v);
        else this.index.set(k, [v]);
      }
      for (const list of this.index.values()) list.sort((a, b) => b.length - a.length);
    }
    let out = '';
    let from = 0;
    for (let i = 0; i + 4 <= s.length; ) {
      const list = this.index.get(key4(s, i));
      const hit = list?.find((v) => s.startsWith(v, i));
      if (hit) {
        out += s.slice(from, i) + redactValue(hit);
        i += hit.length;
        from = i;
      } else i++;
    }
    return from === 0 ? s : out + s.slice(from);
  }

  private scrubFew(s: string): string {
    const sorted = (this.sorted ??= [...this.values].sort((a, b) => b.length - a.length));
    // Shorter than the shortest secret: nothing to replace.
    if (s.length < sorted[sorted.length - 1].length) return s;
    return scrubFewImpl(sorted, s);
  }

  /** Add every secret of another set (bounded: past `max` values, new ones are not kept). */
  merge(other: SecretSet, max = 20_000): void {
    if (other.set === null) return;
    for (const v of other.set) {
      if (this.values.size >= max) return;
      this.put(v);
    }
  }
}

/** Few secrets (one exchange's): a native indexOf per secret beats the indexed scan. */
function scrubFewImpl(longestFirst: readonly string[], s: string): string {
  let out = s;
  for (const v of longestFirst) if (out.includes(v)) out = out.split(v).join(redactValue(v));
  return out;
}

/** Four UTF-16 units at i as one number (collisions are resolved by the startsWith check). */
function key4(s: string, i: number): number {
  return ((s.charCodeAt(i) * 65599 + s.charCodeAt(i + 1)) * 65599 + s.charCodeAt(i + 2)) * 65599 + s.charCodeAt(i + 3);
}

/**
 * Every name isSecretField accepts contains one of these words (as sent, or only after decoding '%XX');
 * without '%' and without any of them, redactQueryText has nothing to redact.
 */
const SECRET_FIELD_WORD = /pass|pwd|key|token|secret|sig/i;

/** Redact the values of secret-named fields in a query string or form body (name=value pairs). */
export function redactQueryText(text: string, secrets?: SecretSet): string {
  if (text.indexOf('%') < 0 && !SECRET_FIELD_WORD.test(text)) return text;
  return text.replace(/(^|[?&;])([^=&;?#\s]+)=([^&;#\s]*)/g, (m, sep: string, name: string, value: string) => {
    if (!isSecretField(name) || value === '' || isRedactedMarker(value)) return m;
    secrets?.add(value);
    return `${sep}${name}=${redactValue(safeDecode(value))}`;
  });
}

/** Redact the query string of a URI (request-target, Location, Referer, Digest uri=...). */
export function redactUri(uri: string, secrets?: SecretSet): string {
  const q = uri.indexOf('?');
  let out = uri;
  if (q >= 0) {
    const query = uri.slice(q);
    const shown = redactQueryText(query, secrets);
    if (shown !== query) out = uri.slice(0, q) + shown;
  }
  // userinfo in an absolute URI: scheme://user:password@host
  if (out.indexOf('@') < 0) return out;
  return out.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@?#]*):([^/@?#]*)@/i, (m, pre: string, pw: string) => {
    if (isRedactedMarker(pw)) return m;
    secrets?.add(pw);
    return `${pre}:${REDACTED}@`;
  });
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

// ------------------------------------------------------------------ headers

const DIGEST_KEEP = new Set(['username', 'realm', 'uri', 'nonce', 'qop', 'algorithm', 'cnonce', 'nc', 'opaque', 'userhash', 'stale', 'domain']);

/** Parse "k=v, k2="v 2"" parameters; returns null when the text is not a clean parameter list. */
function parseParams(text: string): { name: string; value: string; quoted: boolean }[] | null {
  const out: { name: string; value: string; quoted: boolean }[] = [];
  const re = /\s*([A-Za-z0-9_\-.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)/gy;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[0].length === 0) return null;
    out.push({ name: m[1], value: m[2] !== undefined ? m[2] : m[3], quoted: m[2] !== undefined });
    pos = re.lastIndex;
  }
  return out;
}

function redactBasic(token: string, secrets?: SecretSet): string {
  secrets?.add(token);
  const t = token.trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(t) && t.length % 4 === 0) {
    const decoded = Buffer.from(t, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      secrets?.add(decoded.slice(colon + 1));
      secrets?.add(decoded);
      return `Basic ${REDACTED} (user: ${decoded.slice(0, colon)})`;
    }
  }
  return `Basic ${REDACTED}`;
}

function redactAuthorization(value: string, secrets?: SecretSet): string {
  if (value.startsWith('Basic <redacted>') && /^Basic <redacted>( \(user: .*\))?$/.test(value)) return value;
  const m = /^\s*([A-Za-z][A-Za-z0-9_\-]*)(\s+([\s\S]*))?$/.exec(value);
  if (!m) {
    secrets?.add(value);
    return isRedactedMarker(value) ? value : redactValue(value);
  }
  const scheme = m[1];
  const rest = m[3] ?? '';
  const lower = scheme.toLowerCase();
  if (lower === 'basic') return redactBasic(rest, secrets);
  if (lower === 'digest') {
    const params = parseParams(rest);
    if (!params) {
      secrets?.add(rest);
      return `${scheme} ${REDACTED}`;
    }
    return `${scheme} ` + params.map((p) => {
      const n = p.name.toLowerCase();
      let v = p.value;
      if (n === 'uri') v = redactUri(v, secrets);
      else if (!DIGEST_KEEP.has(n) && !isRedactedMarker(v)) {
        secrets?.add(v);
        v = redactValue(v);
      }
      return p.quoted ? `${p.name}="${v}"` : `${p.name}=${v}`;
    }).join(', ');
  }
  if (rest === '') {
    // a bare token with no scheme
    secrets?.add(scheme);
    return isRedactedMarker(value) ? value : redactValue(value);
  }
  if (isRedactedMarker(rest)) return value;
  secrets?.add(rest);
  return `${scheme} ${redactValue(rest)}`;
}

function redactCookie(value: string, secrets?: SecretSet): string {
  return value.split(';').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    const v = part.slice(eq + 1).trim();
    if (v === '' || isRedactedMarker(v)) return part;
    secrets?.add(v);
    return `${part.slice(0, eq)}=${REDACTED}`;
  }).join(';');
}

function redactSetCookie(value: string, secrets?: SecretSet): string {
  const semi = value.indexOf(';');
  const first = semi < 0 ? value : value.slice(0, semi);
  return redactCookie(first, secrets) + (semi < 0 ? '' : value.slice(semi));
}

/** The value of one header as it may be shown: secrets replaced by "<redacted>", structure kept. */
export function redactHeaderValue(name: string, value: string, secrets?: SecretSet): string {
  switch (headerKind(name)) {
    case KIND_AUTHORIZATION:
      return redactAuthorization(value, secrets);
    case KIND_COOKIE:
      return redactCookie(value, secrets);
    case KIND_SET_COOKIE:
      return redactSetCookie(value, secrets);
    case KIND_SECRET:
      if (isRedactedMarker(value)) return value;
      secrets?.add(value);
      return redactValue(value);
    case KIND_URI:
      return value.includes('=') || value.includes('@') ? redactUri(value, secrets) : value;
    default:
      if (value.includes('?')) return value.includes('=') || value.includes('@') ? redactUri(value, secrets) : value;
      return value;
  }
}

const KIND_AUTHORIZATION = 1;
const KIND_COOKIE = 2;
const KIND_SET_COOKIE = 3;
const KIND_SECRET = 4;
const KIND_URI = 5;
const KIND_OTHER = 6;

/** What redactHeaderValue does with a header, by its name as sent (a few hundred names at most in practice). */
const kindByName = new Map<string, number>();

function headerKind(name: string): number {
  let k = kindByName.get(name);
  if (k !== undefined) return k;
  const n = name.trim().toLowerCase();
  if (n === 'authorization' || n === 'proxy-authorization') k = KIND_AUTHORIZATION;
  else if (n === 'cookie') k = KIND_COOKIE;
  else if (n === 'set-cookie' || n === 'set-cookie2') k = KIND_SET_COOKIE;
  else if (isSecretHeader(n)) k = KIND_SECRET;
  else if (n === 'location' || n === 'referer' || n === 'content-location' || n === 'refresh') k = KIND_URI;
  else k = KIND_OTHER;
  if (kindByName.size >= 4096) kindByName.clear();
  kindByName.set(name, k);
  return k;
}

export function redactHeaders(headers: [string, string][], secrets?: SecretSet): [string, string][] {
  return headers.map(([n, v]) => [n, redactHeaderValue(n, v, secrets)]);
}

// ------------------------------------------------------------------ evidence

const SECRET_KEYS = new Set(SECRET_EVIDENCE_KEYS.map((k) => k.toLowerCase()));
const SECRET_KEY_SUFFIX = /(Signature|Password|Token|Secret|Signatures|Passwords|Tokens)$/;
const URI_KEYS = new Set(['uri', 'url', 'location', 'referer', 'path', 'query', 'target', 'requesturi']);

export function isSecretEvidenceKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase()) || SECRET_KEY_SUFFIX.test(key);
}

function redactSecretValue(v: unknown, secrets?: SecretSet): unknown {
  if (typeof v === 'string') {
    if (isRedactedMarker(v)) return v;
    secrets?.add(v);
    return redactValue(v);
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    secrets?.add(String(v));
    return REDACTED;
  }
  if (Array.isArray(v)) return v.map((x) => redactSecretValue(x, secrets));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactSecretValue(x, secrets);
    return out;
  }
  return v;
}

function isHeaderPair(x: unknown): x is [string, string] {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string';
}

const K_SECRET = 1;
const K_HEADER = 2;
const K_URI = 4;
/** What redactEvidence does under an evidence key (K_* bits), by key: the same few keys come back in every finding. */
const evidenceKeyKinds = new Map<string, number>();

function evidenceKeyKind(key: string): number {
  let k = evidenceKeyKinds.get(key);
  if (k !== undefined) return k;
  k = (isSecretEvidenceKey(key) ? K_SECRET : 0) | (isSecretHeader(key) ? K_HEADER : 0) | (URI_KEYS.has(key.toLowerCase()) ? K_URI : 0);
  if (evidenceKeyKinds.size >= 4096) evidenceKeyKinds.clear();
  evidenceKeyKinds.set(key, k);
  return k;
}

/** Deep copy of an evidence value with secrets redacted. */
export function redactEvidence(v: unknown, secrets?: SecretSet, key?: string): unknown {
  const kind = key === undefined ? 0 : evidenceKeyKind(key);
  if ((kind & K_SECRET) !== 0) return redactSecretValue(v, secrets);
  if (typeof v === 'string') {
    if ((kind & K_HEADER) !== 0) return redactHeaderValue(key as string, v, secrets);
    if ((kind & K_URI) !== 0) return redactUri(v, secrets);
    return v;
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isHeaderPair)) return redactHeaders(v as [string, string][], secrets);
    return v.map((x) => redactEvidence(x, secrets));
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactEvidence(x, secrets, k);
    return out;
  }
  return v;
}

// ------------------------------------------------------------------ report

/** Keys whose string values are structural (ids, codes, times, addresses) and never scrubbed. */
const STRUCTURAL = new Set(['id', 'code', 'severity', 'exchange', 'time', 'firstTime', 'lastTime', 'client', 'server', 'protocol', 'kind', 'format', 'user', 'name', 'version']);

function scrubDeep(v: unknown, secrets: SecretSet, key?: string): unknown {
  if (typeof v === 'string') return key !== undefined && STRUCTURAL.has(key) ? v : secrets.scrub(v);
  if (Array.isArray(v)) return v.map((x) => scrubDeep(x, secrets));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrubDeep(x, secrets, k);
    return out;
  }
  return v;
}

/** True for keys whose string values scrubbing leaves alone (ids, codes, times, addresses, names). */
export function isStructuralKey(key: string): boolean {
  return STRUCTURAL.has(key);
}

/**
 * A value with every copy of a collected secret scrubbed from its strings, except strings under a
 * structural key (`key` names the value itself, as in its parent object; array items have none).
 * Copies objects and arrays; the value is not changed.
 */
export function scrubValue(v: unknown, secrets: SecretSet, key?: string): unknown {
  return scrubDeep(v, secrets, key);
}

function redactExchange(x: Exchange, secrets: SecretSet): Exchange {
  const copy = structuredClone(x);
  copy.request.uri = redactUri(copy.request.uri, secrets);
  copy.request.headers = redactHeaders(copy.request.headers, secrets);
  if (copy.response) copy.response.headers = redactHeaders(copy.response.headers, secrets);
  return copy;
}

function redactFinding(f: Finding, secrets: SecretSet): Finding {
  return { ...structuredClone(f), evidence: redactEvidence(f.evidence ?? {}, secrets) as Record<string, unknown> };
}

/**
 * A deep copy of the report with every secret redacted: credential and token headers, cookies,
 * secret-named query fields, evidence under SECRET_EVIDENCE_KEYS; then any copy of a secret seen
 * there that appears elsewhere (a message, a filter, another header) is replaced as well.
 * Usernames stay visible. Idempotent.
 */
export function redactReport(r: Report, seed?: SecretSet): Report {
  // The caller's set is used as it is (the streaming writer's secrets, kept across calls).
  const secrets = seed ?? new SecretSet();
  const out: Report = { ...r, exchanges: [], findings: [] };
  for (const k of Object.keys(out)) if (k !== 'exchanges' && k !== 'findings') out[k] = structuredClone(r[k]);
  out.exchanges = r.exchanges.map((x) => redactExchange(x, secrets));
  out.findings = r.findings.map((f) => redactFinding(f, secrets));
  // Usernames are not secrets; never scrub them even if a password equals one.
  for (const x of r.exchanges) {
    const u = x.request.credentials?.user;
    if (u) secrets.delete(u);
  }
  return scrubDeep(out, secrets) as Report;
}

/**
 * One exchange redacted on its own, for the streaming JSON report: credential headers, cookies and
 * secret query fields redacted, then copies of those secrets elsewhere in the exchange scrubbed. The
 * secrets found are added to `into` (so findings written at the end can be scrubbed of them too).
 */
export function redactExchangeAlone(x: Exchange, into?: SecretSet): Exchange {
  const secrets = new SecretSet();
  const out: Exchange = {
    ...x,
    request: { ...x.request, uri: redactUri(x.request.uri, secrets), headers: redactHeaders(x.request.headers, secrets) },
    response: x.response ? { ...x.response, headers: redactHeaders(x.response.headers, secrets) } : null,
  };
  const u = x.request.credentials?.user;
  if (u) secrets.delete(u);
  into?.merge(secrets);
  if (secrets.values.size === 0) return out;
  return scrubDeep(out, secrets) as Exchange;
}

/**
 * One finding redacted on its own (streaming JSON): evidence under secret keys redacted, then copies of
 * those values, or of `known` (the secrets of the exchange it is about), scrubbed anywhere in it.
 */
export function redactFindingAlone(f: Finding, known: readonly string[] = []): Finding {
  const secrets = new SecretSet();
  for (const v of known) secrets.add(v);
  const out = redactFinding(f, secrets);
  return secrets.values.size === 0 ? out : (scrubDeep(out, secrets) as Finding);
}

/** A value structuredClone gives back as it is, for JSON: a primitive, or an array of primitives. */
function isFlat(v: unknown): boolean {
  if (isPlainPrimitive(v)) return true;
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (const x of v) if (!isPlainPrimitive(x)) return false;
  return true;
}

function isPlainPrimitive(v: unknown): boolean {
  const t = typeof v;
  return v === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined';
}

/**
 * Same JSON as redactFindingAlone(f, known), for a finding that is serialised at once: when its
 * fields other than evidence are primitives or arrays of primitives (the usual case) they are not
 * deep-copied, so the result may share those arrays with `f`; it must not be changed.
 */
export function redactFindingForJson(f: Finding, known: readonly string[] = []): Finding {
  const secrets = new SecretSet();
  for (const v of known) secrets.add(v);
  let out: Finding;
  let flat = true;
  for (const k in f) {
    if (!Object.prototype.hasOwnProperty.call(f, k)) continue;
    if (k !== 'evidence' && !isFlat((f as unknown as Record<string, unknown>)[k])) {
      flat = false;
      break;
    }
  }
  if (flat && Object.getPrototypeOf(f) === Object.prototype) out = { ...f, evidence: redactEvidence(f.evidence ?? {}, secrets) as Record<string, unknown> };
  else out = redactFinding(f, secrets);
  return secrets.values.size === 0 ? out : (scrubDeep(out, secrets) as Finding);
}
