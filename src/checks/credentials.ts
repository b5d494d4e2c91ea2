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
 * Credential fields of application/x-www-form-urlencoded bytes (a body prefix or a query string, read
 * as latin1), in order: the same fields as parseForm(text).filter(([k]) => isCredentialField(k)), but
 * walking '&' / '=' over the bytes without materialising every field: only names with '%' or '+'
 * are decoded, and only credential fields' values.
 */
export function scanFormCredentials(b: Buffer, end: number, location: 'form' | 'query', fields: CredentialField[]): void {
  const n = Math.min(end, b.length);
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
  const b = Buffer.from(query, 'latin1');
  scanFormCredentials(b, b.length, 'query', fields);
}

const BODY_SCAN_LIMIT = 65536;

export function scanCredentials(req: Message): CredentialScan {
  const fields: CredentialField[] = [];
  for (const [name, value] of req.headers) {
    const n = name.toLowerCase();
    if (n === 'authorization' || n === 'proxy-authorization') {
      fields.push(authorizationField(n, name, value));
    } else if (isCredentialHeader(n)) {
      const v = value.trim();
      fields.push({ location: 'header', name, value: v, empty: v === '', user: USER_HEADERS.has(n) ? v || null : undefined });
    }
  }
  if (req.protocol === 'http') {
    const uri = req.uri ?? '';
    if (uri.indexOf('?') >= 0) scanQueryCredentials(uriQuery(uri), fields);
    if (req.bodyLength > 0 && req.decodedBody.length > 0) scanBody(req, fields);
  }
  return { fields, credentials: summarise(fields) };
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
  const auth = fields.find((f) => f.location === 'authorization') ?? fields.find((f) => f.location === 'proxy-authorization');
  let kind: CredentialKind;
  if (auth) kind = SCHEME_KINDS[auth.scheme ?? ''] ?? 'other';
  else if (fields.some((f) => f.location === 'header')) kind = 'header';
  else if (fields.some((f) => f.location === 'form')) kind = 'form';
  else kind = 'query';
  let user: string | null = auth?.user ?? null;
  if (!user) for (const f of fields) if (f.user) { user = f.user; break; }
  const names: string[] = [];
  for (const f of fields) if (!names.includes(f.name)) names.push(f.name);
  return { kind, user, fields: names };
}

/** Stable key of a field for comparisons across requests: "location:name" (lower case). */
export function fieldKey(f: CredentialField): string {
  return `${f.location}:${f.name.toLowerCase()}`;
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
  const empty: string[] = [];
  const add = (list: string[], k: string) => {
    if (!list.includes(k)) list.push(k);
  };
  for (const f of fields) {
    add(f.empty ? empty : present, fieldKey(f));
    if (f.location === 'authorization' || f.location === 'proxy-authorization') {
      if (f.scheme === 'basic' || f.scheme === 'digest') {
        if (f.emptyUser) add(empty, `${f.location}:username`);
        else if (f.user) add(present, `${f.location}:username`);
      }
    }
  }
  return { present, empty: empty.filter((k) => !present.includes(k)) };
}
