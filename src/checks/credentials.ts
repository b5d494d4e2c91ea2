// Recognises credentials wherever clients put them: Authorization / Proxy-Authorization (Basic,
// Digest, Bearer, NTLM, Negotiate), API-key style headers, form fields (urlencoded, multipart,
// JSON, XML) and query parameters. scanCredentials() gives the detailed list (values are transient
// and secret: never store or print them); extractCredentials() gives the report's {kind,user,fields}.

import type { CredentialKind, Credentials, Message } from '../types.js';
import { parseAuthItems } from './auth-params.js';
import { digestFromItems, type DigestParams } from './digest.js';
import { bodyText, decodeComponent, header, mediaType, parseForm, uriQuery } from './http-util.js';

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

/** FIELD_NAMES as char codes, by length: lets the form scanner test a raw name without making a string. */
const FIELD_CODES: number[][][] = [];
let FIELD_MIN = Infinity;
let FIELD_MAX = 0;
for (const f of FIELD_NAMES) {
  (FIELD_CODES[f.length] ??= []).push([...f].map((c) => c.charCodeAt(0)));
  FIELD_MIN = Math.min(FIELD_MIN, f.length);
  FIELD_MAX = Math.max(FIELD_MAX, f.length);
}

/**
 * isCredentialField for the latin1 bytes b[from, to) (a raw name without '%' or '+'), without
 * allocating. Names with non-ASCII bytes go through toLowerCase like isCredentialField (Unicode case rules).
 */
function isCredentialName(b: Buffer, from: number, to: number): boolean {
  const len = to - from;
  if (len < FIELD_MIN || len > FIELD_MAX) return false;
  const cands = FIELD_CODES[len];
  if (!cands) return false;
  next: for (const cand of cands) {
    for (let i = 0; i < len; i++) {
      let c = b[from + i];
      if (c >= 0x80) return isCredentialField(b.toString('latin1', from, to));
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (c !== cand[i]) continue next;
    }
    return true;
  }
  return false;
}

/**
 * Credential names at the start of a form field (position 0 or after '&'), ending the name ('=', '&'
 * or the end): what isCredentialName finds for text with no '%' or '+' (nothing to decode) and no
 * character above 0xff. Non-unicode /i folds ASCII letters only, and no latin1 character lower-cases
 * to an ASCII one, so raw names with other bytes never match either way.
 */
const FORM_NAME_RE = new RegExp(
  `(?:^|&)(${[...FIELD_NAMES].join('|')})(?=[=&]|$)`, // the names are [a-z_-] only: nothing to escape
  'gi',
);

/** scanFormCredentials for text (latin1, no '%' or '+'): one native regex pass instead of a byte loop. */
function scanPlainForm(text: string, location: 'form' | 'query', fields: CredentialField[]): void {
  const re = FORM_NAME_RE;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const nameEnd = m.index + m[0].length;
    let value = '';
    if (nameEnd < text.length && text.charCodeAt(nameEnd) === 0x3d) {
      let amp = text.indexOf('&', nameEnd + 1);
      if (amp < 0) amp = text.length;
      value = text.slice(nameEnd + 1, amp);
      re.lastIndex = amp;
    }
    fields.push(plainField(location, m[1], value));
  }
  re.lastIndex = 0;
}

/** Is byte c in b[0, n)? (native search) */
function byteWithin(b: Buffer, c: number, n: number): boolean {
  const i = b.indexOf(c);
  return i >= 0 && i < n;
}

/**
 * Credential fields of application/x-www-form-urlencoded bytes (a body prefix or a query string, read
 * as latin1), in order: the same fields as parseForm(text).filter(([k]) => isCredentialField(k)).
 * Without '%' or '+' nothing needs decoding and one regex finds the names; otherwise it walks
 * '&' / '=' over the bytes without materialising every field: only names with '%' or '+' are
 * decoded, and only credential fields' values.
 */
export function scanFormCredentials(b: Buffer, end: number, location: 'form' | 'query', fields: CredentialField[]): void {
  const n = Math.min(end, b.length);
  if (!byteWithin(b, 0x25, n) && !byteWithin(b, 0x2b, n)) {
    scanPlainForm(b.toString('latin1', 0, n), location, fields);
    return;
  }
  let i = 0;
  while (i < n) {
    // The name runs to the first '=' or '&'; the value to the next '&'.
    let j = i;
    let c = 0;
    let encoded = false;
    for (; j < n; j++) {
      c = b[j];
      if (c === 0x3d || c === 0x26) break;
      if (c === 0x25 || c === 0x2b) encoded = true;
    }
    const nameEnd = j;
    let valueStart = -1;
    if (j < n && c === 0x3d) {
      valueStart = ++j;
      while (j < n && b[j] !== 0x26) j++;
    }
    if (nameEnd > i) {
      let name: string | null = null;
      if (encoded) {
        const d = decodeComponent(b.toString('latin1', i, nameEnd));
        if (isCredentialField(d)) name = d;
      } else if (isCredentialName(b, i, nameEnd)) name = b.toString('latin1', i, nameEnd);
      if (name !== null) fields.push(plainField(location, name, valueStart < 0 ? '' : decodeComponent(b.toString('latin1', valueStart, j))));
    }
    i = j + 1;
  }
}

/** Query parameters that are credential fields (latin1 URIs go through the byte scanner). */
function scanQueryCredentials(query: string, fields: CredentialField[]): void {
  if (query === '') return;
  if (/[^\x00-\xff]/.test(query)) {
    for (const [k, v] of parseForm(query)) if (isCredentialField(k)) fields.push(plainField('query', k, v));
    return;
  }
  if (query.indexOf('%') < 0 && query.indexOf('+') < 0) {
    scanPlainForm(query, 'query', fields);
    return;
  }
  const b = Buffer.from(query, 'latin1');
  scanFormCredentials(b, b.length, 'query', fields);
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
    if (uri.indexOf('?') >= 0) scanQueryCredentials(uriQuery(uri), fields);
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
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.replace(/=+$/, '').length % 4 === 1) return { problem: 'not-base64' };
  if (t.includes('=') && t.length % 4 !== 0) return { problem: 'not-base64' };
  const text = Buffer.from(t, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { problem: 'no-colon' };
  return { user: text.slice(0, colon) };
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
