// One exchange as JSON report text, written directly over the known shape of an Exchange: the same
// bytes as safeJson(orderExchange(redactExchangeAlone(x)), 2) re-indented, without the three copies
// of the exchange and the passes over the whole text that path makes. Redaction is done on the fly
// (URI and headers redacted, then every non-structural string scrubbed of the secrets found); fields
// the serialiser does not know (added ones) go through the generic path, value by value.

import type { Exchange, RequestJson, ResponseJson } from '../types.js';
import { orderExchange } from './json.js';
import { isStructuralKey, redactExchangeAlone, redactHeaderValue, redactUri, scrubValue, SecretSet } from './redact.js';
import { safeJson, safeJsonString, safeJsonText } from './sanitize.js';
import type {} from '../util/buffer-methods.js';

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

  /** Room for `n` more bytes at `pos` (the buffer at least doubles when it grows). */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Chars 0-255 as one byte each: the inverse of latin1Text() (e.g. for text kept from another sink). */
  latin1(s: string): void {
    this.reserve(s.length);
    this.pos += this.buf.latin1Write(s, this.pos, s.length);
  }

  /** The bytes written so far as a string of one char per byte (lossless, whatever the bytes are). */
  latin1Text(): string {
    return this.buf.latin1Slice(0, this.pos);
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

  /** Bytes as they are (pre-encoded punctuation, indentation and keys). */
  bytes(u: Uint8Array): void {
    const n = u.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(u, this.pos);
    this.pos += n;
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

/** ASCII text as bytes. */
function ascii(t: string): Uint8Array {
  return Uint8Array.from(t, (c) => c.charCodeAt(0));
}

/** A property's separator and key as bytes: `a` for the first property of an object, `b` for the others (with ","). */
interface Frag {
  a: Uint8Array;
  b: Uint8Array;
  /** The newline and indentation of the property (for values written by the generic path). */
  nl: string;
}

function frag(nl: string, key: string): Frag {
  return { a: ascii(nl + key), b: ascii(`,${nl}${key}`), nl };
}

/** frag for any key text (added keys may have any character): UTF-8, as JsonSink.raw writes it. */
function textFrag(nl: string, key: string): Frag {
  return { a: Buffer.from(nl + key, 'utf8'), b: Buffer.from(`,${nl}${key}`, 'utf8'), nl };
}

/** Indentation strings for one base indent: pad[n] = base + 2n spaces, nl[n] = "\n" + pad[n]; and byte fragments. */
interface Pads {
  pad: string[];
  nl: string[];
  /** pad[0] "{", and "\n" pad[n] "}" for n = 0, 1, 2 (closing the exchange, the request/response, credentials). */
  open: Uint8Array;
  close0: Uint8Array;
  close1: Uint8Array;
  close2: Uint8Array;
  /**
   * Header pairs: "[", then per pair ("," for the others) "\n" pad3 "[" "\n" pad4, name, "," "\n" pad4,
   * value, "\n" pad3 "]"; then "\n" pad2 "]". pairFirst opens the list and the first pair, pairMid goes
   * between name and value, pairNext closes a pair and opens the next, pairsEnd closes the last and the list.
   */
  pairFirst: Uint8Array;
  pairMid: Uint8Array;
  pairNext: Uint8Array;
  pairsEnd: Uint8Array;
  /** "\n" pad3 "]": the end of the credentials' fields array. */
  fieldsEnd: Uint8Array;
  /** Keys of the exchange (nl[1]), the request and the response (nl[2]) and credentials (nl[3]). */
  id: Frag;
  protocol: Frag;
  stream: Frag;
  client: Frag;
  server: Frag;
  request: Frag;
  response: Frag;
  frame: Frag;
  time: Frag;
  method: Frag;
  uri: Frag;
  version: Frag;
  headers: Frag;
  bodyLength: Frag;
  credentials: Frag;
  status: Frag;
  reason: Frag;
  kind: Frag;
  user: Frag;
  fields: Frag;
}

const padsCache = new Map<number, Pads>();
let lastIndent = -1;
let lastPads: Pads | null = null;

function padsFor(indent: number): Pads {
  if (indent === lastIndent && lastPads) return lastPads;
  let p = padsCache.get(indent);
  if (!p) {
    const pad: string[] = [];
    for (let n = 0; n < 6; n++) pad.push(' '.repeat(indent + 2 * n));
    const nl = pad.map((t) => `\n${t}`);
    const pairOpen = `${nl[3]}[${nl[4]}`;
    p = {
      pad,
      nl,
      open: ascii(`${pad[0]}{`),
      close0: ascii(`${nl[0]}}`),
      close1: ascii(`${nl[1]}}`),
      close2: ascii(`${nl[2]}}`),
      pairFirst: ascii(`[${pairOpen}`),
      pairMid: ascii(`,${nl[4]}`),
      pairNext: ascii(`${nl[3]}],${pairOpen}`),
      pairsEnd: ascii(`${nl[3]}]${nl[2]}]`),
      fieldsEnd: ascii(`${nl[3]}]`),
      id: frag(nl[1], '"id": '),
      protocol: frag(nl[1], '"protocol": '),
      stream: frag(nl[1], '"stream": '),
      client: frag(nl[1], '"client": '),
      server: frag(nl[1], '"server": '),
      request: frag(nl[1], '"request": '),
      response: frag(nl[1], '"response": '),
      frame: frag(nl[2], '"frame": '),
      time: frag(nl[2], '"time": '),
      method: frag(nl[2], '"method": '),
      uri: frag(nl[2], '"uri": '),
      version: frag(nl[2], '"version": '),
      headers: frag(nl[2], '"headers": '),
      bodyLength: frag(nl[2], '"bodyLength": '),
      credentials: frag(nl[2], '"credentials": '),
      status: frag(nl[2], '"status": '),
      reason: frag(nl[2], '"reason": '),
      kind: frag(nl[3], '"kind": '),
      user: frag(nl[3], '"user": '),
      fields: frag(nl[3], '"fields": '),
    };
    padsCache.set(indent, p);
  }
  lastIndent = indent;
  lastPads = p;
  return p;
}

/** Sorted keys of `keys` (an object's own keys) not in `known`; null when none; false when one needs the generic path. */
function addedOf(keys: string[], known: Set<string>): string[] | null | false {
  let added: string[] | null = null;
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

/**
 * addedKeys for one kind of object (exchange, request, response, credentials), remembering the last own
 * key list and its answer: objects of a kind are built the same way, so the keys usually repeat and
 * the answer is the same (a shared array: never changed by the writers).
 */
class AddedKeys {
  private keys: string[] = [];
  private answer: string[] | null | false = null;

  constructor(private known: Set<string>) {}

  of(o: object): string[] | null | false {
    // for-in lists the own enumerable keys in Object.keys order (then inherited enumerable ones, which
    // a plain object normally has none of, and which make the lists differ): no array made for a match.
    const last = this.keys;
    let i = 0;
    for (const k in o) {
      if (i === last.length || k !== last[i]) {
        i = -1;
        break;
      }
      i++;
    }
    if (i === last.length) return this.answer;
    const keys = Object.keys(o);
    const answer = addedOf(keys, this.known);
    this.keys = keys;
    this.answer = answer;
    return answer;
  }
}

const X_ADDED = new AddedKeys(X_KEYS);
const REQ_ADDED = new AddedKeys(REQ_KEYS);
const RES_ADDED = new AddedKeys(RES_KEYS);
const CRED_ADDED = new AddedKeys(CRED_KEYS);

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
  // With redaction, redactValues checks the header pairs as it reads them.
  const shape = knownShape(x, !redact);
  if (!shape) {
    genericExchange(sink, x, redact, into, p);
    return;
  }
  const req = x.request;
  const res = x.response;
  let uri = req.uri;
  let reqValues: string[] | null | false = null;
  let resValues: string[] | null | false = null;
  let secrets: SecretSet | undefined;
  if (redact) {
    // The same calls in the same order as redactExchangeAlone, so the same secrets in the same order.
    const found = new SecretSet();
    uri = redactUri(req.uri, found);
    reqValues = redactValues(req.headers, found);
    if (res && reqValues !== false) resValues = redactValues(res.headers, found);
    if (reqValues === false || resValues === false) {
      // Not a list of string pairs: nothing was written or kept (`found` is dropped).
      genericExchange(sink, x, redact, into, p);
      return;
    }
    const u = req.credentials?.user;
    if (u) found.delete(u);
    into?.merge(found);
    if (found.values.size) secrets = found;
  }
  const s = sink;
  s.bytes(p.open);
  let first = true;
  first = field(s, first, p.id, x.id, 'id', S_ID, secrets);
  first = field(s, first, p.protocol, x.protocol, 'protocol', S_PROTOCOL, secrets);
  first = field(s, first, p.stream, x.stream, 'stream', S_STREAM, secrets);
  first = field(s, first, p.client, x.client, 'client', S_CLIENT, secrets);
  first = field(s, first, p.server, x.server, 'server', S_SERVER, secrets);
  s.bytes(first ? p.request.a : p.request.b);
  requestJson(s, req, uri, reqValues, shape.req, secrets, p);
  s.bytes(p.response.b);
  if (res) responseJson(s, res, resValues, shape.res, secrets, p);
  else s.raw('null');
  if (shape.x) addedJson(s, false, x as unknown as Obj, shape.x, secrets, p.nl[1]);
  s.bytes(p.close0);
}

/** The exchange by the generic path: redactExchangeAlone, orderExchange, safeJson, re-indented. */
function genericExchange(sink: JsonSink, x: Exchange, redact: boolean, into: SecretSet | undefined, p: Pads): void {
  const shown = redact ? redactExchangeAlone(x, into) : x;
  sink.text(p.pad[0] + safeJson(orderExchange(shown), 2).replace(/\n/g, p.nl[0]));
}

/**
 * One property, `v` under `key`, written after `f` (its separator, indentation and key); nothing when
 * JSON.stringify leaves it out. With secrets, a string is scrubbed when `scrub` (its key is not
 * structural), and anything else as scrubDeep does. Returns whether the object still has no property
 * written.
 */
function field(s: JsonSink, first: boolean, f: Frag, v: unknown, key: string, scrub: boolean, secrets: SecretSet | undefined): boolean {
  switch (typeof v) {
    case 'string':
      s.bytes(first ? f.a : f.b);
      s.str(secrets && scrub ? secrets.scrub(v) : v);
      return false;
    case 'number':
      s.bytes(first ? f.a : f.b);
      s.num(v);
      return false;
    case 'boolean':
      s.bytes(first ? f.a : f.b);
      s.raw(v ? 'true' : 'false');
      return false;
    case 'undefined':
    case 'function':
    case 'symbol':
      return first;
    default: {
      if (v === null) {
        s.bytes(first ? f.a : f.b);
        s.raw('null');
        return false;
      }
      const text = genericJson(v, key, secrets, f.nl);
      if (text === undefined) return first;
      s.bytes(first ? f.a : f.b);
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
  s.raw('{');
  let first = true;
  first = field(s, first, p.frame, req.frame, 'frame', S_FRAME, secrets);
  first = field(s, first, p.time, req.time, 'time', S_TIME, secrets);
  first = field(s, first, p.method, req.method, 'method', S_METHOD, secrets);
  first = field(s, first, p.uri, uri, 'uri', S_URI, secrets);
  first = field(s, first, p.version, req.version, 'version', S_VERSION, secrets);
  s.bytes(first ? p.headers.a : p.headers.b);
  headersJson(s, req.headers, values, secrets, p);
  first = field(s, false, p.bodyLength, req.bodyLength, 'bodyLength', S_BODYLENGTH, secrets);
  const c = req.credentials as unknown;
  if (c) {
    s.bytes(first ? p.credentials.a : p.credentials.b);
    credentialsJson(s, c as Obj, secrets, p);
  } else field(s, first, p.credentials, c, 'credentials', S_CREDENTIALS, secrets);
  if (added) addedJson(s, false, req as unknown as Obj, added, secrets, p.nl[2]);
  s.bytes(p.close1);
}

function responseJson(s: JsonSink, res: ResponseJson, values: string[] | null, added: string[] | null, secrets: SecretSet | undefined, p: Pads): void {
  s.raw('{');
  let first = true;
  first = field(s, first, p.frame, res.frame, 'frame', S_FRAME, secrets);
  first = field(s, first, p.time, res.time, 'time', S_TIME, secrets);
  first = field(s, first, p.status, res.status, 'status', S_STATUS, secrets);
  first = field(s, first, p.reason, res.reason, 'reason', S_REASON, secrets);
  s.bytes(first ? p.headers.a : p.headers.b);
  headersJson(s, res.headers, values, secrets, p);
  field(s, false, p.bodyLength, res.bodyLength, 'bodyLength', S_BODYLENGTH, secrets);
  if (added) addedJson(s, false, res as unknown as Obj, added, secrets, p.nl[2]);
  s.bytes(p.close1);
}

/** Credentials in kind/user/fields order, then added keys. */
function credentialsJson(s: JsonSink, c: Obj, secrets: SecretSet | undefined, p: Pads): void {
  s.raw('{');
  let first = true;
  first = field(s, first, p.kind, c.kind, 'kind', S_KIND, secrets);
  first = field(s, first, p.user, c.user, 'user', S_USER, secrets);
  const f = c.fields;
  if (Array.isArray(f)) {
    s.bytes(first ? p.fields.a : p.fields.b);
    stringsJson(s, f, secrets, p);
    first = false;
  } else first = field(s, first, p.fields, f, 'fields', S_FIELDS, secrets);
  const added = CRED_ADDED.of(c);
  if (added) first = addedJson(s, first, c, added, secrets, p.nl[3]);
  if (first) s.raw('}');
  else s.bytes(p.close2);
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
  s.bytes(p.fieldsEnd);
}

/** Header pairs (names and values are array items: scrubbed when there are secrets). */
function headersJson(s: JsonSink, h: [string, string][], values: string[] | null, secrets: SecretSet | undefined, p: Pads): void {
  if (h.length === 0) {
    s.raw('[]');
    return;
  }
  for (let i = 0; i < h.length; i++) {
    let n = h[i][0];
    let v = values ? values[i] : h[i][1];
    if (secrets) {
      n = secrets.scrub(n);
      v = secrets.scrub(v);
    }
    s.bytes(i === 0 ? p.pairFirst : p.pairNext);
    s.str(n);
    s.bytes(p.pairMid);
    s.str(v);
  }
  s.bytes(p.pairsEnd);
}

/**
 * The redacted header values (redactHeaderValue of each pair, in order); null when every value is shown
 * as it is; false when `h` is not a list of [name, value] string pairs (see isPairs), found before the
 * pair is read.
 */
function redactValues(h: unknown, secrets: SecretSet): string[] | null | false {
  if (!Array.isArray(h)) return false;
  let out: string[] | null = null;
  for (let i = 0; i < h.length; i++) {
    const pair: unknown = h[i];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return false;
    const v = pair[1];
    const shown = redactHeaderValue(pair[0], v, secrets);
    if (out !== null) out[i] = shown;
    else if (shown !== v) {
      out = new Array<string>(h.length);
      for (let j = 0; j < i; j++) out[j] = (h[j] as [string, string])[1];
      out[i] = shown;
    }
  }
  return out;
}

/** Added keys (sorted) written as orderExchange then safeJson write them; returns `first` as field does. */
function addedJson(s: JsonSink, first: boolean, src: Obj, keys: string[], secrets: SecretSet | undefined, nl: string): boolean {
  const frags = addedFrags(keys, nl);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    first = field(s, first, frags[i], src[k], k, !isStructuralKey(k), secrets);
  }
  return first;
}

/** The last few added-key lists met (the same arrays come back from AddedKeys) with their fragments at one indentation. */
const fragMemo: { keys: string[]; nl: string; frags: Frag[] }[] = [];

function addedFrags(keys: string[], nl: string): Frag[] {
  for (let i = 0; i < fragMemo.length; i++) {
    const m = fragMemo[i];
    if (m.keys === keys && m.nl === nl) return m.frags;
  }
  const frags = keys.map((k) => addedFrag(nl, k));
  if (fragMemo.length >= 8) fragMemo.shift();
  fragMemo.push({ keys, nl, frags });
  return frags;
}

/** Fragments of added keys by indentation and key (a handful of names in practice: kept, bounded). */
const fragCache = new Map<string, Map<string, Frag>>();
let addedFragCount = 0;

function addedFrag(nl: string, k: string): Frag {
  let m = fragCache.get(nl);
  let f = m?.get(k);
  if (f === undefined) {
    if (addedFragCount >= 1024) {
      fragCache.clear();
      addedFragCount = 0;
      m = undefined;
    }
    if (!m) fragCache.set(nl, (m = new Map()));
    f = textFrag(nl, `${safeJsonString(k)}: `);
    m.set(k, f);
    addedFragCount++;
  }
  return f;
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
 * lists of [name, value] string pairs (checked here when `checkPairs`), a "response" key, and no added
 * key that JSON.stringify or an object literal treats specially. Null otherwise (the generic path is taken).
 */
function knownShape(x: Exchange, checkPairs: boolean): Shape | null {
  if (!isPlain(x) || !('response' in x)) return null;
  const xa = X_ADDED.of(x);
  if (xa === false) return null;
  const req = x.request as unknown;
  if (!isPlain(req)) return null;
  const ra = REQ_ADDED.of(req);
  if (ra === false) return null;
  const r = req as unknown as RequestJson;
  if (typeof r.uri !== 'string' || (checkPairs && !isPairs(r.headers))) return null;
  const c = r.credentials as unknown;
  if (c && (!isPlain(c) || CRED_ADDED.of(c) === false)) return null;
  const res = x.response as unknown;
  let sa: string[] | null | false = null;
  if (res) {
    if (!isPlain(res) || (checkPairs && !isPairs(res.headers))) return null;
    sa = RES_ADDED.of(res);
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
