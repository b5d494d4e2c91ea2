// Recognises credentials wherever clients put them: Authorization / Proxy-Authorization (Basic,
// Digest, Bearer, NTLM, Negotiate), API-key style headers, form fields (urlencoded, multipart,
// JSON, XML) and query parameters. scanCredentials() gives the detailed list (values are transient
// and secret: never store or print them); extractCredentials() gives the report's {kind,user,fields}.

import type { CredentialKind, Credentials, Message } from '../types.js';
import { parseAuthItems } from './auth-params.js';
import { digestFromItems, type DigestParams } from './digest.js';
import { bodyText, decodeComponent, header, mediaType } from './http-util.js';

export type CredentialLocation = 'authorization' | 'proxy-authorization' | 'header' | 'form' | 'query';

export interface CredentialField {
  location: CredentialLocation;
  /** Header name as sent, or the form/query/JSON/XML field name. */
  name: string;
  /** Authorization scheme, lower case (basic, digest, bearer, ntlm, negotiate, ...). */
  scheme?: string;
  /** Raw value (secret: never store it or put it in a message). */
  value: string;
  empty: boolean;
  /** The user this field names, when it names one. */
  user?: string | null;
  /** For Basic: why it is malformed. */
  basicProblem?: 'not-base64' | 'no-colon' | 'empty';
  /** For NTLM/Negotiate: the NTLMSSP message type (1, 2, 3) when recognised. */
  ntlmType?: number;
  /** For Basic/Digest: the username inside the header is present but empty. */
  emptyUser?: boolean;
  /** For Digest: the parsed parameters (parsed once here, shared by the checks). */
  digest?: DigestParams;
}

export interface CredentialScan {
  fields: CredentialField[];
  credentials: Credentials | null;
}

const HEADER_NAMES = new Set([
  'x-username', 'x-user', 'x-user-name', 'x-auth-user', 'x-auth-username', 'x-login', 'x-password', 'x-auth-password',
  'x-signature', 'signature', 'x-sig', 'x-api-key', 'api-key', 'apikey', 'x-apikey', 'x-api-token', 'x-auth-token',
  'x-access-token', 'x-auth-key', 'x-token', 'x-secret', 'x-client-secret', 'x-app-key', 'x-api-secret',
  'ocp-apim-subscription-key', 'x-goog-api-key', 'x-amz-security-token', 'x-hub-signature', 'x-hub-signature-256',
  'private-token', 'x-session-token',
]);
const HEADER_PATTERN = /^x-(?:[a-z0-9]+-)*(?:api-?key|apikey|token|secret|signature|sig|password|passwd|username|user|login|auth)$/;
const HEADER_EXCLUDE = /csrf|xsrf|forwarded/;
const USER_HEADERS = new Set(['x-username', 'x-user', 'x-user-name', 'x-auth-user', 'x-auth-username', 'x-login']);

const FIELD_NAMES = new Set([
  'user', 'username', 'user_name', 'login', 'userid', 'user_id', 'account', 'password', 'pass', 'passwd', 'pwd',
  'apikey', 'api_key', 'api-key', 'key', 'token', 'access_token', 'auth_token', 'id_token', 'signature', 'sig',
  'secret', 'client_secret', 'auth', 'authkey', 'auth_key', 'appkey', 'app_key',
]);
const USER_FIELDS = new Set(['user', 'username', 'user_name', 'login', 'userid', 'user_id', 'account']);

/** Is this header name a credential-carrying header (other than Authorization)? */
export function isCredentialHeader(name: string): boolean {
  const n = name.toLowerCase();
  if (HEADER_NAMES.has(n)) return true;
  return HEADER_PATTERN.test(n) && !HEADER_EXCLUDE.test(n);
}

/** Is this form/query/body field name a credential field? */
export function isCredentialField(name: string): boolean {
  return FIELD_NAMES.has(name.toLowerCase());
}

/**
 * FIELD_NAMES as a trie over bytes, ASCII letters folded: NEXT[state << 8 | byte] is the next state, 0
 * (dead) when no credential name goes on with that byte; ROOT is the state before the first byte and
 * TERMINAL[state] is 1 at the end of a name (2 for a user field). Bytes 0x80-0xff have no edge: no latin1
 * character lower-cases to an ASCII one, so a raw name with one is never a credential name.
 */
const ROOT = 1;
const TRIE_STATES: Map<number, number>[] = [new Map(), new Map()];
const TERMINAL_LIST: number[] = [0, 0];
for (const f of FIELD_NAMES) {
  let st = ROOT;
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    let to = TRIE_STATES[st].get(c);
    if (to === undefined) {
      to = TRIE_STATES.length;
      TRIE_STATES.push(new Map());
      TERMINAL_LIST.push(0);
      TRIE_STATES[st].set(c, to);
    }
    st = to;
  }
  TERMINAL_LIST[st] = USER_FIELDS.has(f) ? 2 : 1;
}
if (TRIE_STATES.length > 256) throw new Error('credential name trie: too many states for a byte table');
const NEXT = new Uint8Array(TRIE_STATES.length << 8);
const TERMINAL = Uint8Array.from(TERMINAL_LIST);
TRIE_STATES.forEach((edges, st) => {
  for (const [c, to] of edges) {
    NEXT[(st << 8) | c] = to;
    if (c >= 0x61 && c <= 0x7a) NEXT[(st << 8) | (c - 0x20)] = to;
  }
});

/**
 * The first two bytes of a credential name: PAIR[c0 << 8 | c1] is 1 when some name starts with them (no
 * name is shorter than 3). Most field names are rejected by this one look-up.
 */
const PAIR = new Uint8Array(1 << 16);
for (let c0 = 0; c0 < 256; c0++) {
  const st = NEXT[(ROOT << 8) | c0];
  if (st !== 0) for (let c1 = 0; c1 < 256; c1++) if (NEXT[(st << 8) | c1] !== 0) PAIR[(c0 << 8) | c1] = 1;
}

/** A form/query field found to be a credential field, from the raw name's trie state (see scanFormCredentials). */
function rawField(location: 'form' | 'query', name: string, value: string, terminal: number): CredentialField {
  const v = value.trim();
  return { location, name, value: v, empty: v === '', user: terminal === 2 ? v || null : undefined };
}

/** Is byte c in b[0, n)? (native search; a view keeps it from reading past n in a long body) */
function byteWithin(b: Buffer, c: number, n: number): boolean {
  return (n < b.length ? b.subarray(0, n) : b).indexOf(c) >= 0;
}

/**
 * Credential fields of application/x-www-form-urlencoded bytes (a body prefix or a query string, read
 * as latin1), in order: the same fields as parseForm(text).filter(([k]) => isCredentialField(k)) for
 * the latin1 text of b[0, end). No string is made for other fields: each name (at the start or after
 * '&', up to '=' or '&') is walked through the name trie, and only credential fields' names and values
 * become strings. Without '%' or '+' (nothing to decode), a name that leaves the trie is skipped with
 * its value, four bytes at a time, to the next '&'; otherwise names that leave it are decoded when they
 * have '%' or '+', and credential values are decoded.
 */
export function scanFormCredentials(b: Buffer, end: number, location: 'form' | 'query', fields: CredentialField[]): void {
  const n = Math.min(end, b.length);
  if (n <= 0) return;
  if (byteWithin(b, 0x25, n) || byteWithin(b, 0x2b, n)) scanEncodedForm(b, n, location, fields);
  else scanPlainForm(b, n, location, fields);
}

/**
 * scanFormCredentials for b[0, n) without '%' or '+': the field names start at 0 and after each '&',
 * and the '&' are found four bytes at a time (aligned 32-bit words, on little-endian machines).
 */
function scanPlainForm(b: Buffer, n: number, location: 'form' | 'query', fields: CredentialField[]): void {
  plainName(b, 0, n, location, fields);
  const o = b.byteOffset;
  const head = Math.min(((o + 3) & ~3) - o, n);
  const nw = LITTLE_ENDIAN ? (n - head) >> 2 : 0;
  const tail = head + (nw << 2);
  for (let i = 0; i < head; i++) if (b[i] === 0x26) plainName(b, i + 1, n, location, fields);
  if (nw > 0) {
    const words = new Int32Array(b.buffer, o + head, nw);
    for (let w = 0; w < nw; w++) {
      // XOR turns '&' bytes to zero; m has the top bit of exactly the zero bytes set (no carry between
      // bytes), the lowest bit for the first byte in memory.
      const v = words[w] ^ 0x26262626;
      let m = ~(((v & 0x7f7f7f7f) + 0x7f7f7f7f) | v | 0x7f7f7f7f);
      while (m !== 0) {
        const bit = m & -m;
        m ^= bit;
        plainName(b, head + (w << 2) + ((31 - Math.clz32(bit)) >> 3) + 1, n, location, fields);
      }
    }
  }
  for (let i = tail; i < n; i++) if (b[i] === 0x26) plainName(b, i + 1, n, location, fields);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The field whose name starts at i (0 or after an '&') in plain form bytes: added when it is a credential field. */
function plainName(b: Buffer, i: number, n: number, location: 'form' | 'query', fields: CredentialField[]): void {
  if (i + 1 >= n || PAIR[(b[i] << 8) | b[i + 1]] === 0) return;
  let st = ROOT;
  let j = i;
  let c = 0;
  for (; j < n; j++) {
    c = b[j];
    if (c === 0x3d || c === 0x26) break;
    st = NEXT[(st << 8) | c];
    if (st === 0) return;
  }
  const terminal = TERMINAL[st];
  if (terminal === 0) return;
  let value = '';
  if (j < n && c === 0x3d) {
    let k = j + 1;
    while (k < n && b[k] !== 0x26) k++;
    value = b.toString('latin1', j + 1, k);
  }
  fields.push(rawField(location, b.toString('latin1', i, j), value, terminal));
}

/** scanFormCredentials for b[0, n) with '%' or '+' somewhere: names that leave the trie are decoded when they have one. */
function scanEncodedForm(b: Buffer, n: number, location: 'form' | 'query', fields: CredentialField[]): void {
  let i = 0;
  while (i < n) {
    let st = ROOT;
    let j = i;
    let c = 0;
    for (; j < n; j++) {
      c = b[j];
      if (c === 0x3d || c === 0x26) break;
      st = NEXT[(st << 8) | c];
      if (st === 0) break;
    }
    let name: string | null = null;
    let terminal = 0;
    if (st === 0) {
      // Not a credential name as sent; decoded (with '%' or '+') it may still be one.
      let encoded = false;
      for (; j < n; j++) {
        c = b[j];
        if (c === 0x3d || c === 0x26) break;
        if (c === 0x25 || c === 0x2b) encoded = true;
      }
      if (encoded) {
        const d = decodeComponent(b.toString('latin1', i, j));
        if (isCredentialField(d)) name = d;
      }
    } else if ((terminal = TERMINAL[st]) !== 0) name = b.toString('latin1', i, j);
    // j is at the name's end: '=', '&' or n. The value runs to the next '&'.
    let k = j;
    if (j < n && c === 0x3d) {
      k = j + 1;
      while (k < n && b[k] !== 0x26) k++;
    }
    if (name !== null) {
      const value = k === j ? '' : decodeComponent(b.toString('latin1', j + 1, k));
      fields.push(terminal !== 0 ? rawField(location, name, value, terminal) : plainField(location, name, value));
    }
    i = k + 1;
  }
}

/**
 * Query parameters that are credential fields, for the query s[from, n): scanFormCredentials over the
 * text's UTF-16 units, so the same fields as parseForm(query).filter(([k]) => isCredentialField(k)).
 * A name with a unit above 0xff (no edge in the trie either) is tested as parseForm does, decoded and
 * by full Unicode lower case.
 */
function scanQueryCredentials(s: string, from: number, n: number, fields: CredentialField[]): void {
  let i = from;
  while (i < n) {
    let st = ROOT;
    let j = i;
    let c = 0;
    for (; j < n; j++) {
      c = s.charCodeAt(j);
      if (c === 0x3d || c === 0x26) break;
      st = c > 0xff ? 0 : NEXT[(st << 8) | c];
      if (st === 0) break;
    }
    let name: string | null = null;
    let terminal = 0;
    if (st === 0) {
      let other = false;
      for (; j < n; j++) {
        c = s.charCodeAt(j);
        if (c === 0x3d || c === 0x26) break;
        if (c === 0x25 || c === 0x2b || c > 0xff) other = true;
      }
      if (other) {
        const d = decodeComponent(s.slice(i, j));
        if (isCredentialField(d)) name = d;
      }
    } else if ((terminal = TERMINAL[st]) !== 0) name = s.slice(i, j);
    let k = j;
    if (j < n && c === 0x3d) {
      k = s.indexOf('&', j + 1);
      if (k < 0 || k > n) k = n;
    }
    if (name !== null) {
      const value = k === j ? '' : decodeComponent(s.slice(j + 1, k));
      fields.push(terminal !== 0 ? rawField('query', name, value, terminal) : plainField('query', name, value));
    }
    i = k + 1;
  }
}

const BODY_SCAN_LIMIT = 65536;

/** What a request header name is to the scanner (see headerClass). */
const H_NONE = 0;
const H_AUTHORIZATION = 1;
const H_PROXY_AUTHORIZATION = 2;
const H_CREDENTIAL = 3;
const H_USER = 4;
/** Header name as sent -> class: names repeat on every request, so each is lower-cased and matched once. */
const headerClasses = new Map<string, number>();

/**
 * Lengths of the credential header names that do not start with "x-" (authorization,
 * proxy-authorization and the HEADER_NAMES without "x-"): any other name not starting with x/X is no
 * credential header. (A non-ASCII name whose lower case is longer never lower-cases to an ASCII name.)
 */
const PLAIN_LENGTHS = new Set(['authorization', 'proxy-authorization', ...[...HEADER_NAMES].filter((n) => !n.startsWith('x-'))].map((n) => n.length));

function headerClass(name: string): number {
  const c0 = name.charCodeAt(0);
  if (c0 !== 0x78 && c0 !== 0x58 && !PLAIN_LENGTHS.has(name.length)) return H_NONE;
  let c = headerClasses.get(name);
  if (c !== undefined) return c;
  const n = name.toLowerCase();
  if (n === 'authorization') c = H_AUTHORIZATION;
  else if (n === 'proxy-authorization') c = H_PROXY_AUTHORIZATION;
  else if (isCredentialHeader(n)) c = USER_HEADERS.has(n) ? H_USER : H_CREDENTIAL;
  else c = H_NONE;
  if (headerClasses.size < 10_000) headerClasses.set(name, c);
  return c;
}

export function scanCredentials(req: Message): CredentialScan {
  const fields: CredentialField[] = [];
  const headers = req.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    const c = headerClass(h[0]);
    if (c === H_NONE) continue;
    if (c === H_AUTHORIZATION) fields.push(authorizationField('authorization', h[0], h[1]));
    else if (c === H_PROXY_AUTHORIZATION) fields.push(authorizationField('proxy-authorization', h[0], h[1]));
    else {
      const v = h[1].trim();
      fields.push({ location: 'header', name: h[0], value: v, empty: v === '', user: c === H_USER ? v || null : undefined });
    }
  }
  if (req.protocol === 'http') {
    const uri = req.uri ?? '';
    const q = uri.indexOf('?');
    if (q >= 0) {
      // the query as uriQuery(uri) gives it: after '?', up to '#'
      const h = uri.indexOf('#', q);
      scanQueryCredentials(uri, q + 1, h < 0 ? uri.length : h, fields);
    }
    if (req.bodyLength > 0 && req.decodedBody.length > 0) scanBody(req, fields);
  }
  return { fields, credentials: fields.length === 0 ? null : summarise(fields) };
}

/** The report's credentials object for a request, or null when it carries none. */
export function extractCredentials(req: Message): Credentials | null {
  return scanCredentials(req).credentials;
}

function plainField(location: CredentialLocation, name: string, value: string): CredentialField {
  const v = value.trim();
  return { location, name, value: v, empty: v === '', user: USER_FIELDS.has(name.toLowerCase()) ? v || null : undefined };
}

function scanBody(req: Message, fields: CredentialField[]): void {
  const type = mediaType(req);
  const body = req.decodedBody;
  if (type === 'application/x-www-form-urlencoded') {
    scanFormCredentials(body, BODY_SCAN_LIMIT, 'form', fields);
  } else if (type.startsWith('multipart/form-data')) {
    const ct = header(req.headers, 'content-type') ?? '';
    const b = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
    if (!b) return;
    const text = bodyText(body, BODY_SCAN_LIMIT);
    for (const part of text.split(`--${b}`)) {
      const m = /Content-Disposition:[^\r\n]*?\bname="([^"]*)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*)$/i.exec(part);
      if (!m || !isCredentialField(m[1])) continue;
      fields.push(plainField('form', m[1], m[2].replace(/\r?\n$/, '')));
    }
  } else if (type === 'application/json' || type.endsWith('+json')) {
    if (body.length > BODY_SCAN_LIMIT) return;
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    jsonFields(doc, fields, 0);
  } else if (type.endsWith('/xml') || type.endsWith('+xml')) {
    const text = bodyText(body, BODY_SCAN_LIMIT);
    const re = /<(?:[\w.-]+:)?(username|user|login|password|passwd|apikey|api_key|token|signature)\b[^>/]*>([^<]*)<\//gi;
    for (let m = re.exec(text); m; m = re.exec(text)) fields.push(plainField('form', m[1], m[2]));
  }
}

function jsonFields(doc: unknown, fields: CredentialField[], depth: number): void {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || depth > 1) return;
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (isCredentialField(k) && (typeof v === 'string' || typeof v === 'number' || v === null)) {
      fields.push(plainField('form', k, v === null ? '' : String(v)));
    } else if (v && typeof v === 'object') jsonFields(v, fields, depth + 1);
  }
}

function authorizationField(n: 'authorization' | 'proxy-authorization', name: string, value: string): CredentialField {
  const v = value.trim();
  const sp = v.search(/\s/);
  const scheme = (sp < 0 ? v : v.slice(0, sp)).toLowerCase();
  const rest = sp < 0 ? '' : v.slice(sp).trim();
  const f: CredentialField = { location: n, name, scheme, value: v, empty: v === '' };
  if (scheme === 'basic') {
    const d = decodeBasic(rest);
    if ('problem' in d) {
      f.basicProblem = d.problem;
      f.user = null;
    } else {
      f.user = d.user || null;
      if (d.user === '') f.emptyUser = true;
    }
  } else if (scheme === 'digest') {
    const items = parseAuthItems(v);
    const p = items[0]?.params ?? {};
    const u = p['username'] ?? p['username*'];
    f.user = u ? u : null;
    if (u === '') f.emptyUser = true;
    f.digest = digestFromItems(items);
  } else if (scheme === 'ntlm' || scheme === 'negotiate') {
    const t = parseNtlm(rest);
    if (t) {
      f.ntlmType = t.type;
      f.user = t.user ?? null;
    }
  } else if (scheme === 'bearer') {
    f.empty = rest === '';
  }
  return f;
}

/** Decodes Basic credentials: base64 of user ":" password. Never returns the password. */
export function decodeBasic(token: string): { user: string } | { problem: 'not-base64' | 'no-colon' | 'empty' } {
  const t = token.trim();
  if (t === '') return { problem: 'empty' };
  // /^[A-Za-z0-9+/]+={0,2}$/, the characters before the '=' padding not 1 more than a multiple of 4,
  // and with padding a whole number of 4-character groups
  const n = t.length;
  let i = 0;
  while (i < n && isBase64Char(t.charCodeAt(i))) i++;
  const chars = i;
  while (i < n && t.charCodeAt(i) === 0x3d) i++;
  const pad = i - chars;
  if (chars === 0 || i !== n || pad > 2 || chars % 4 === 1 || (pad > 0 && n % 4 !== 0)) return { problem: 'not-base64' };
  const text = Buffer.from(t, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { problem: 'no-colon' };
  return { user: text.slice(0, colon) };
}

/** [A-Za-z0-9+/] */
function isBase64Char(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** NTLMSSP message type and (for type 3) the DOMAIN\user, from an NTLM or Negotiate (SPNEGO) token. */
export function parseNtlm(token: string): { type: number; user?: string } | null {
  let buf: Buffer;
  try {
    buf = Buffer.from(token.trim(), 'base64');
  } catch {
    return null;
  }
  const at = buf.indexOf('NTLMSSP\0', 0, 'latin1');
  if (at < 0 || at + 12 > buf.length) return null;
  const type = buf.readUInt32LE(at + 8);
  if (type !== 3 || at + 64 > buf.length) return { type };
  const flags = buf.readUInt32LE(at + 60);
  const unicode = (flags & 1) !== 0;
  const field = (off: number): string => {
    const len = buf.readUInt16LE(at + off);
    const start = at + buf.readUInt32LE(at + off + 4);
    if (len === 0 || start + len > buf.length) return '';
    return buf.subarray(start, start + len).toString(unicode ? 'utf16le' : 'latin1');
  };
  const domain = field(28);
  const user = field(36);
  return { type, user: user ? (domain ? `${domain}\\${user}` : user) : undefined };
}

const SCHEME_KINDS: Record<string, CredentialKind> = {
  basic: 'basic', digest: 'digest', bearer: 'bearer', ntlm: 'ntlm', negotiate: 'negotiate',
};

function summarise(fields: CredentialField[]): Credentials | null {
  if (fields.length === 0) return null;
  // One pass: the first Authorization (else Proxy-Authorization) field, and which other locations occur.
  let authz: CredentialField | undefined;
  let proxy: CredentialField | undefined;
  let hasHeader = false;
  let hasForm = false;
  for (const f of fields) {
    const loc = f.location;
    if (loc === 'authorization') authz ??= f;
    else if (loc === 'proxy-authorization') proxy ??= f;
    else if (loc === 'header') hasHeader = true;
    else if (loc === 'form') hasForm = true;
  }
  const auth = authz ?? proxy;
  let kind: CredentialKind;
  if (auth) kind = SCHEME_KINDS[auth.scheme ?? ''] ?? 'other';
  else if (hasHeader) kind = 'header';
  else if (hasForm) kind = 'form';
  else kind = 'query';
  let user: string | null = auth?.user ?? null;
  if (!user) for (const f of fields) if (f.user) { user = f.user; break; }
  const names: string[] = [];
  for (const f of fields) if (!names.includes(f.name)) names.push(f.name);
  return { kind, user, fields: names };
}

/** fieldKey texts per location, then name as sent: the same few names repeat on every request (bounded). */
const fieldKeyCache = new Map<CredentialLocation, Map<string, string>>();
let fieldKeyCacheSize = 0;

/** Stable key of a field for comparisons across requests: "location:name" (lower case). */
export function fieldKey(f: CredentialField): string {
  let m = fieldKeyCache.get(f.location);
  const v = m?.get(f.name);
  if (v !== undefined) return v;
  const k = `${f.location}:${f.name.toLowerCase()}`;
  if (fieldKeyCacheSize < 10_000) {
    if (!m) fieldKeyCache.set(f.location, (m = new Map()));
    m.set(f.name, k);
    fieldKeyCacheSize++;
  }
  return k;
}

/** Readable name of a field key for messages: 'header X-Username', 'form field "username"', ... */
export function describeFieldKey(key: string): string {
  const i = key.indexOf(':');
  const loc = key.slice(0, i);
  const name = key.slice(i + 1);
  switch (loc) {
    case 'authorization':
      return name === 'username' ? 'the username inside the Authorization header' : 'the Authorization header';
    case 'proxy-authorization':
      return name === 'username' ? 'the username inside the Proxy-Authorization header' : 'the Proxy-Authorization header';
    case 'header':
      return `header ${name.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase())}`;
    case 'form':
      return `body field "${name}"`;
    case 'query':
      return `query parameter "${name}"`;
    default:
      return key;
  }
}

/**
 * Field keys present (non-empty) and empty for a request, including the username inside
 * Basic/Digest Authorization as its own key ("authorization:username").
 */
export function fieldKeys(fields: CredentialField[]): { present: string[]; empty: string[] } {
  const present: string[] = [];
  let empty: string[] = [];
  for (const f of fields) {
    addKey(f.empty ? empty : present, fieldKey(f));
    if (f.location === 'authorization' || f.location === 'proxy-authorization') {
      if (f.scheme === 'basic' || f.scheme === 'digest') {
        const k = f.location === 'authorization' ? 'authorization:username' : 'proxy-authorization:username';
        if (f.emptyUser) addKey(empty, k);
        else if (f.user) addKey(present, k);
      }
    }
  }
  if (empty.length > 0) empty = empty.filter((k) => !present.includes(k));
  return { present, empty };
}

function addKey(list: string[], k: string): void {
  if (!list.includes(k)) list.push(k);
}
