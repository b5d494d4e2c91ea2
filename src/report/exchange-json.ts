// One exchange as JSON report text, written directly over the known shape of an Exchange: the same
// bytes as safeJson(orderExchange(redactExchangeAlone(x)), 2) re-indented, without the three copies
// of the exchange and the passes over the whole text that path makes. Redaction is done on the fly
// (URI and headers redacted, then every non-structural string scrubbed of the secrets found); fields
// the serialiser does not know (added ones) go through the generic path, value by value.

import type { Exchange, RequestJson, ResponseJson } from '../types.js';
import { orderExchange } from './json.js';
import { isStructuralKey, redactExchangeAlone, redactHeaderValue, redactUri, scrubValue, SecretSet } from './redact.js';
import { safeJson, safeJsonString, safeJsonText } from './sanitize.js';

type Obj = Record<string, unknown>;

const X_KEYS = new Set(['id', 'protocol', 'stream', 'client', 'server', 'request', 'response']);
const REQ_KEYS = new Set(['frame', 'time', 'method', 'uri', 'version', 'headers', 'bodyLength', 'credentials']);
const RES_KEYS = new Set(['frame', 'time', 'status', 'reason', 'headers', 'bodyLength']);
const CRED_KEYS = new Set(['kind', 'user', 'fields']);

/** Whether scrubbing touches the strings under each known key (read from redact.ts, not assumed). */
const SCRUB: Record<string, boolean> = {};
for (const k of [...X_KEYS, ...REQ_KEYS, ...RES_KEYS, ...CRED_KEYS]) SCRUB[k] = !isStructuralKey(k);
const S_ID = SCRUB.id, S_PROTOCOL = SCRUB.protocol, S_STREAM = SCRUB.stream, S_CLIENT = SCRUB.client, S_SERVER = SCRUB.server;
const S_FRAME = SCRUB.frame, S_TIME = SCRUB.time, S_METHOD = SCRUB.method, S_URI = SCRUB.uri, S_VERSION = SCRUB.version;
const S_BODYLENGTH = SCRUB.bodyLength, S_STATUS = SCRUB.status, S_REASON = SCRUB.reason, S_CREDENTIALS = SCRUB.credentials;
const S_KIND = SCRUB.kind, S_USER = SCRUB.user, S_FIELDS = SCRUB.fields;

/**
 * JSON text written as UTF-8 bytes into a growing buffer: no intermediate strings for the common
 * case (printable ASCII), so nothing to concatenate, flatten or encode again.
 */
export class JsonSink {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 << 10) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private grow(n: number): void {
    let size = Math.max(this.buf.length * 2, 4096);
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  /** Text as it is (punctuation, indentation, keys, numbers): ASCII copied, anything else as UTF-8. */
  raw(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.text(s);
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (this.pos + n > this.buf.length) this.grow(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /**
   * A string as safeJson writes it: ASCII is escaped here as JSON.stringify does (\", \\, \n, \r,
   * \t, \b, \f, \u00XX) plus DEL as \u007f; a string with any other character goes to safeJsonString.
   */
  str(s: string): void {
    const n = s.length;
    if (this.pos + 6 * n + 2 > this.buf.length) this.grow(6 * n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
        b[p++] = c;
        continue;
      }
      if (c > 0x7f) {
        this.text(safeJsonString(s));
        return;
      }
      b[p++] = 0x5c;
      const named = ESCAPES[c];
      if (named) b[p++] = named;
      else {
        // \u00XX with lower-case hex, as JSON.stringify (C0) and safeJson (DEL) write it
        b[p++] = 0x75;
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEX[c >> 4];
        b[p++] = HEX[c & 15];
      }
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** A non-negative integer below 2^31 written digit by digit; other numbers as JSON.stringify. */
  num(v: number): void {
    if (!(v >= 0 && v < 0x80000000 && Number.isInteger(v))) {
      this.raw(Number.isFinite(v) ? String(v) : 'null');
      return;
    }
    if (this.pos + 10 > this.buf.length) this.grow(10);
    const b = this.buf;
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let t = v;
    do {
      b[--p] = 0x30 + (t % 10);
      t = Math.floor(t / 10);
    } while (t > 0);
  }

  /** The text written from `from` on. */
  toString(from = 0): string {
    return this.buf.toString('utf8', from, this.pos);
  }
}

/** The second character of JSON.stringify's short escapes, by the escaped character's code. */
const ESCAPES = new Uint8Array(128);
ESCAPES[0x22] = 0x22;
ESCAPES[0x5c] = 0x5c;
ESCAPES[0x08] = 0x62; // b
ESCAPES[0x0c] = 0x66; // f
ESCAPES[0x0a] = 0x6e; // n
ESCAPES[0x0d] = 0x72; // r
ESCAPES[0x09] = 0x74; // t
const HEX = Uint8Array.from([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));

/** Indentation strings for one base indent: pad[n] = base + 2n spaces, nl[n] = "\n" + pad[n]. */
interface Pads {
  pad: string[];
  nl: string[];
  /** Header pair parts: ",", then "\n" pad3 "[" "\n" pad4, name, "," "\n" pad4, value, "\n" pad3 "]". */
  pairOpen: string;
  pairMid: string;
  pairClose: string;
}

const padsCache = new Map<number, Pads>();

function padsFor(indent: number): Pads {
  let p = padsCache.get(indent);
  if (!p) {
    const pad: string[] = [];
    for (let n = 0; n < 6; n++) pad.push(' '.repeat(indent + 2 * n));
    const nl = pad.map((s) => `\n${s}`);
    p = { pad, nl, pairOpen: `${nl[3]}[${nl[4]}`, pairMid: `,${nl[4]}`, pairClose: `${nl[3]}]` };
    padsCache.set(indent, p);
  }
  return p;
}

/** Sorted own keys of o not in `known`; null when none; false when one needs the generic path. */
function addedKeys(o: object, known: Set<string>): string[] | null | false {
  let added: string[] | null = null;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (known.has(k)) continue;
    // Array-index keys are listed first by JSON.stringify, "__proto__" sets the prototype of the
    // ordered copy, "toJSON" would be called: leave those to the generic path.
    const c = k.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || k === '__proto__' || k === 'toJSON') return false;
    (added ??= []).push(k);
  }
  if (added && added.length > 1) added.sort();
  return added;
}

const scratch = new JsonSink();

/**
 * The exchange as it appears in the JSON report's "exchanges" array: `indent` spaces before the
 * opening brace and on every following line, exactly
 * `pad + safeJson(orderExchange(redact ? redactExchangeAlone(x, into) : x), 2).replace(/\n/g, '\n' + pad)`.
 * With `redact`, the secrets found are added to `into` as redactExchangeAlone adds them.
 */
export function exchangeJson(x: Exchange, redact: boolean, into?: SecretSet, indent = 4): string {
  scratch.pos = 0;
  writeExchangeJson(scratch, x, redact, into, indent);
  const text = scratch.toString();
  if (scratch.buf.length > 1 << 20) scratch.buf = Buffer.allocUnsafe(64 << 10);
  return text;
}

/** exchangeJson, written as UTF-8 at the end of `sink`. */
export function writeExchangeJson(sink: JsonSink, x: Exchange, redact: boolean, into?: SecretSet, indent = 4): void {
  const p = padsFor(indent);
  const shape = knownShape(x);
  if (!shape) {
    const shown = redact ? redactExchangeAlone(x, into) : x;
    sink.text(p.pad[0] + safeJson(orderExchange(shown), 2).replace(/\n/g, p.nl[0]));
    return;
  }
  const req = x.request;
  const res = x.response;
  let uri = req.uri;
  let reqValues: string[] | null = null;
  let resValues: string[] | null = null;
  let secrets: SecretSet | undefined;
  if (redact) {
    // The same calls in the same order as redactExchangeAlone, so the same secrets in the same order.
    const found = new SecretSet();
    uri = redactUri(req.uri, found);
    reqValues = redactValues(req.headers, found);
    if (res) resValues = redactValues(res.headers, found);
    const u = req.credentials?.user;
    if (u) found.delete(u);
    into?.merge(found);
    if (found.values.size) secrets = found;
  }
  const s = sink;
  const n1 = p.nl[1];
  s.raw(p.pad[0]);
  s.raw('{');
  let first = true;
  first = field(s, first, n1, '"id": ', x.id, 'id', S_ID, secrets);
  first = field(s, first, n1, '"protocol": ', x.protocol, 'protocol', S_PROTOCOL, secrets);
  first = field(s, first, n1, '"stream": ', x.stream, 'stream', S_STREAM, secrets);
  first = field(s, first, n1, '"client": ', x.client, 'client', S_CLIENT, secrets);
  first = field(s, first, n1, '"server": ', x.server, 'server', S_SERVER, secrets);
  keyText(s, first, n1, '"request": ');
  requestJson(s, req, uri, reqValues, shape.req, secrets, p);
  keyText(s, false, n1, '"response": ');
  if (res) responseJson(s, res, resValues, shape.res, secrets, p);
  else s.raw('null');
  if (shape.x) addedJson(s, false, x as unknown as Obj, shape.x, secrets, n1);
  s.raw(p.nl[0]);
  s.raw('}');
}

/** Separator and key of a property: `name` is the JSON key with ": " after it. */
function keyText(s: JsonSink, first: boolean, nl: string, name: string): void {
  if (!first) s.raw(',');
  s.raw(nl);
  s.raw(name);
}

/**
 * One property, `v` under `key`, at the indentation `nl` (a newline and the key's indentation);
 * nothing when JSON.stringify leaves it out. With secrets, a string is scrubbed when `scrub` (its
 * key is not structural), and anything else as scrubDeep does. Returns whether the object still
 * has no property written.
 */
function field(s: JsonSink, first: boolean, nl: string, name: string, v: unknown, key: string, scrub: boolean, secrets: SecretSet | undefined): boolean {
  switch (typeof v) {
    case 'string':
      keyText(s, first, nl, name);
      s.str(secrets && scrub ? secrets.scrub(v) : v);
      return false;
    case 'number':
      keyText(s, first, nl, name);
      s.num(v);
      return false;
    case 'boolean':
      keyText(s, first, nl, name);
      s.raw(v ? 'true' : 'false');
      return false;
    case 'undefined':
    case 'function':
    case 'symbol':
      return first;
    default: {
      if (v === null) {
        keyText(s, first, nl, name);
        s.raw('null');
        return false;
      }
      const text = genericJson(v, key, secrets, nl);
      if (text === undefined) return first;
      keyText(s, first, nl, name);
      s.text(text);
      return false;
    }
  }
}

/** An object or other non-primitive value as safeJson writes it at indentation `nl`; undefined when left out. */
function genericJson(v: unknown, key: string | undefined, secrets: SecretSet | undefined, nl: string): string | undefined {
  const shown = secrets ? scrubValue(v, secrets, key) : v;
  const text = JSON.stringify(shown, null, 2);
  if (text === undefined) return undefined;
  return safeJsonText(text).replace(/\n/g, nl);
}

function requestJson(s: JsonSink, req: RequestJson, uri: string, values: string[] | null, added: string[] | null, secrets: SecretSet | undefined, p: Pads): void {
  const n2 = p.nl[2];
  s.raw('{');
  let first = true;
  first = field(s, first, n2, '"frame": ', req.frame, 'frame', S_FRAME, secrets);
  first = field(s, first, n2, '"time": ', req.time, 'time', S_TIME, secrets);
  first = field(s, first, n2, '"method": ', req.method, 'method', S_METHOD, secrets);
  first = field(s, first, n2, '"uri": ', uri, 'uri', S_URI, secrets);
  first = field(s, first, n2, '"version": ', req.version, 'version', S_VERSION, secrets);
  keyText(s, first, n2, '"headers": ');
  headersJson(s, req.headers, values, secrets, p);
  first = field(s, false, n2, '"bodyLength": ', req.bodyLength, 'bodyLength', S_BODYLENGTH, secrets);
  const c = req.credentials as unknown;
  if (c) {
    keyText(s, first, n2, '"credentials": ');
    credentialsJson(s, c as Obj, secrets, p);
  } else field(s, first, n2, '"credentials": ', c, 'credentials', S_CREDENTIALS, secrets);
  if (added) addedJson(s, false, req as unknown as Obj, added, secrets, n2);
  s.raw(p.nl[1]);
  s.raw('}');
}

function responseJson(s: JsonSink, res: ResponseJson, values: string[] | null, added: string[] | null, secrets: SecretSet | undefined, p: Pads): void {
  const n2 = p.nl[2];
  s.raw('{');
  let first = true;
  first = field(s, first, n2, '"frame": ', res.frame, 'frame', S_FRAME, secrets);
  first = field(s, first, n2, '"time": ', res.time, 'time', S_TIME, secrets);
  first = field(s, first, n2, '"status": ', res.status, 'status', S_STATUS, secrets);
  first = field(s, first, n2, '"reason": ', res.reason, 'reason', S_REASON, secrets);
  keyText(s, first, n2, '"headers": ');
  headersJson(s, res.headers, values, secrets, p);
  field(s, false, n2, '"bodyLength": ', res.bodyLength, 'bodyLength', S_BODYLENGTH, secrets);
  if (added) addedJson(s, false, res as unknown as Obj, added, secrets, n2);
  s.raw(p.nl[1]);
  s.raw('}');
}

/** Credentials in kind/user/fields order, then added keys. */
function credentialsJson(s: JsonSink, c: Obj, secrets: SecretSet | undefined, p: Pads): void {
  const n3 = p.nl[3];
  s.raw('{');
  let first = true;
  first = field(s, first, n3, '"kind": ', c.kind, 'kind', S_KIND, secrets);
  first = field(s, first, n3, '"user": ', c.user, 'user', S_USER, secrets);
  const f = c.fields;
  if (Array.isArray(f)) {
    keyText(s, first, n3, '"fields": ');
    stringsJson(s, f, secrets, p);
    first = false;
  } else first = field(s, first, n3, '"fields": ', f, 'fields', S_FIELDS, secrets);
  const added = addedKeys(c, CRED_KEYS);
  if (added) first = addedJson(s, first, c, added, secrets, n3);
  if (first) s.raw('}');
  else {
    s.raw(p.nl[2]);
    s.raw('}');
  }
}

/** An array at credentials level (fields): items are scrubbed (they have no key), written one a line. */
function stringsJson(s: JsonSink, a: unknown[], secrets: SecretSet | undefined, p: Pads): void {
  if (a.length === 0) {
    s.raw('[]');
    return;
  }
  const n4 = p.nl[4];
  s.raw('[');
  for (let i = 0; i < a.length; i++) {
    if (i > 0) s.raw(',');
    s.raw(n4);
    const v = a[i];
    if (typeof v === 'string') s.str(secrets ? secrets.scrub(v) : v);
    else if (typeof v === 'number') s.num(v);
    else if (typeof v === 'boolean') s.raw(v ? 'true' : 'false');
    else if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') s.raw('null');
    else s.text(genericJson(v, undefined, secrets, n4) ?? 'null');
  }
  s.raw(p.nl[3]);
  s.raw(']');
}

/** Header pairs (names and values are array items: scrubbed when there are secrets). */
function headersJson(s: JsonSink, h: [string, string][], values: string[] | null, secrets: SecretSet | undefined, p: Pads): void {
  if (h.length === 0) {
    s.raw('[]');
    return;
  }
  s.raw('[');
  for (let i = 0; i < h.length; i++) {
    let n = h[i][0];
    let v = values ? values[i] : h[i][1];
    if (secrets) {
      n = secrets.scrub(n);
      v = secrets.scrub(v);
    }
    if (i > 0) s.raw(',');
    s.raw(p.pairOpen);
    s.str(n);
    s.raw(p.pairMid);
    s.str(v);
    s.raw(p.pairClose);
  }
  s.raw(p.nl[2]);
  s.raw(']');
}

function redactValues(h: [string, string][], secrets: SecretSet): string[] {
  const out = new Array<string>(h.length);
  for (let i = 0; i < h.length; i++) out[i] = redactHeaderValue(h[i][0], h[i][1], secrets);
  return out;
}

/** Added keys (sorted) written as orderExchange then safeJson write them; returns `first` as field does. */
function addedJson(s: JsonSink, first: boolean, src: Obj, keys: string[], secrets: SecretSet | undefined, nl: string): boolean {
  for (const k of keys) first = field(s, first, nl, keyName(k), src[k], k, !isStructuralKey(k), secrets);
  return first;
}

/** `"key": ` for an added key (a handful of names in practice: kept, bounded). */
const keyNames = new Map<string, string>();

function keyName(k: string): string {
  let t = keyNames.get(k);
  if (t === undefined) {
    t = `${safeJsonString(k)}: `;
    if (keyNames.size >= 1024) keyNames.clear();
    keyNames.set(k, t);
  }
  return t;
}

interface Shape {
  /** Added keys of the exchange, the request and the response (sorted), null when none. */
  x: string[] | null;
  req: string[] | null;
  res: string[] | null;
}

/**
 * The added keys of x, its request and its response, when x has the shape the direct writer
 * handles the way orderExchange and redactExchangeAlone do: plain objects, a string URI, header
 * lists of [name, value] string pairs, a "response" key, and no added key that JSON.stringify or
 * an object literal treats specially. Null otherwise (the generic path is taken).
 */
function knownShape(x: Exchange): Shape | null {
  if (!isPlain(x) || !('response' in x)) return null;
  const xa = addedKeys(x, X_KEYS);
  if (xa === false) return null;
  const req = x.request as unknown;
  if (!isPlain(req)) return null;
  const ra = addedKeys(req, REQ_KEYS);
  if (ra === false) return null;
  const r = req as unknown as RequestJson;
  if (typeof r.uri !== 'string' || !isPairs(r.headers)) return null;
  const c = r.credentials as unknown;
  if (c && (!isPlain(c) || addedKeys(c, CRED_KEYS) === false)) return null;
  const res = x.response as unknown;
  let sa: string[] | null | false = null;
  if (res) {
    if (!isPlain(res) || !isPairs(res.headers)) return null;
    sa = addedKeys(res, RES_KEYS);
    if (sa === false) return null;
  }
  return { x: xa, req: ra, res: sa };
}

function isPlain(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function isPairs(h: unknown): h is [string, string][] {
  if (!Array.isArray(h)) return false;
  for (let i = 0; i < h.length; i++) {
    const pair: unknown = h[i];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return false;
  }
  return true;
}
