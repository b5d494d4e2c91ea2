// How completed exchanges travel to the back-end worker. A batch is one ArrayBuffer (transferred, not
// copied again): first the fields of every item in a fixed order, binary (numbers as float64, strings as
// their bytes with a length), then the message bodies, which the messages point into with [offset,
// length] spans. Binary costs the front end about what JSON.stringify of positional arrays did and the
// worker a third less than JSON.parse (measured on the bench capture); both are several times cheaper
// than structured cloning many small objects. The exchange's JSON form is not sent: the worker rebuilds it
// from the messages exactly as the builder does (toRequestJson / toResponseJson).

import type { Exchange, ExchangeContext, HttpHeaders, Message, Timestamp } from '../types.js';
import { endpointText } from '../types.js';
import { toRequestJson, toResponseJson } from '../exchanges/builder.js';
import { splitHead } from '../protocols/http.js';
import type { BackendItem, SeqFinding } from './backend.js';
import type {} from '../util/buffer-methods.js';
import { isStub, type StubFinding } from '../report/findings-spill.js';

export interface WireBatch {
  /** Field bytes [0, fields), then the bodies. */
  arena: ArrayBuffer;
  fields: number;
  count: number;
}

// A string's length word: (length << 2) | kind; NULL_STR for null.
const S_ASCII = 0; // bytes = chars (read back as latin1)
const S_UTF8 = 1; // UTF-8 with no lone surrogate (round-trips)
const S_JSON = 2; // anything else: its JSON text (lone surrogates survive JSON)
const NULL_STR = 0xffffffff;
const NO_SPAN = -1;

/** The field bytes of a batch, grown as needed and reused from batch to batch. */
class FieldWriter {
  buf = Buffer.allocUnsafe(1 << 20);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  num(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** A number or null (NaN stands for null: no field sent here is ever NaN). */
  numOrNull(v: number | null | undefined): void {
    this.num(v ?? NaN);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  time(t: Timestamp): void {
    this.num(t.sec);
    this.num(t.nsec);
    this.num(t.digits);
  }

  str(s: string | null | undefined): void {
    if (s === null || s === undefined) {
      this.room(4);
      this.view.setUint32(this.pos, NULL_STR, true);
      this.pos += 4;
      return;
    }
    this.room(4 + 3 * s.length);
    const at = this.pos + 4;
    const n = this.buf.utf8Write(s, at, this.buf.length - at);
    let kind = S_ASCII;
    let len = n;
    if (n !== s.length) {
      kind = S_UTF8;
      if (/[\ud800-\udfff]/.test(s)) {
        const j = JSON.stringify(s);
        this.room(4 + 3 * j.length);
        len = this.buf.utf8Write(j, at, this.buf.length - at);
        kind = S_JSON;
      }
    }
    this.view.setUint32(this.pos, (len << 2) | kind, true);
    this.pos = at + len;
  }

  strings(list: readonly string[]): void {
    this.num(list.length);
    for (let i = 0; i < list.length; i++) this.str(list[i]);
  }

  headers(h: HttpHeaders): void {
    this.num(h.length);
    for (let i = 0; i < h.length; i++) {
      this.str(h[i][0]);
      this.str(h[i][1]);
    }
  }
}

/** Reads the fields back, in the order they were written. */
class FieldReader {
  private view: DataView;
  private buf: Buffer;
  pos = 0;

  constructor(arena: ArrayBuffer, size: number) {
    this.view = new DataView(arena, 0, size);
    this.buf = Buffer.from(arena, 0, size);
  }

  num(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  numOrNull(): number | null {
    const v = this.num();
    return v !== v ? null : v;
  }

  u8(): number {
    return this.buf[this.pos++];
  }

  time(): Timestamp {
    return { sec: this.num(), nsec: this.num(), digits: this.num() };
  }

  str(): string | null {
    const w = this.view.getUint32(this.pos, true);
    this.pos += 4;
    if (w === NULL_STR) return null;
    const len = w >>> 2;
    const at = this.pos;
    this.pos += len;
    const kind = w & 3;
    if (kind === S_ASCII) return this.buf.latin1Slice(at, at + len);
    const t = this.buf.utf8Slice(at, at + len);
    return kind === S_UTF8 ? t : (JSON.parse(t) as string);
  }

  strings(): string[] {
    const n = this.num();
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.str()!;
    return out;
  }

  headers(): HttpHeaders {
    const n = this.num();
    if (n === -1) return splitHead(this.str()!);
    const out: HttpHeaders = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = this.str()!;
      out[i] = [k, this.str()!];
    }
    return out;
  }
}

/** Collects the items of one batch and the bytes of their bodies. */
export class BatchWriter {
  private f = new FieldWriter();
  private count = 0;
  private buffers: Buffer[] = [];
  private bytes = 0;

  get size(): number {
    return this.count;
  }
  get bodyBytes(): number {
    return this.bytes;
  }

  add(item: BackendItem): void {
    const { ctx } = item;
    const x = ctx.exchange;
    const f = this.f;
    this.count++;
    f.u8((item.kept ? 1 : 0) | (x.tls ? 2 : 0) | (ctx.res ? 4 : 0));
    f.num(item.seq);
    f.num(item.watermark);
    f.str(x.id);
    f.numOrNull(x.stream);
    // x.client and x.server are not sent: they are endpointText of the addresses below (builder.emit).
    f.str(x.transport ?? null);
    f.str(x.interim ? JSON.stringify(x.interim) : null);
    f.str(ctx.clientIp);
    f.num(ctx.clientPort);
    f.str(ctx.serverIp);
    f.num(ctx.serverPort);
    f.str(ctx.transport);
    this.message(ctx.req);
    if (ctx.res) this.message(ctx.res);
  }

  private span(b: Buffer): number {
    const at = this.bytes;
    if (b.length) {
      this.buffers.push(b);
      this.bytes += b.length;
    }
    return at;
  }

  private message(m: Message): void {
    const f = this.f;
    const t = m.time;
    const ft = m.firstTime;
    f.u8(
      (m.protocol === 'sip' ? 1 : 0) |
        (m.kind === 'response' ? 2 : 0) |
        (m.bodyTruncated ? 4 : 0) |
        (m.incomplete ? 8 : 0) |
        (m.chunked === undefined ? 0 : m.chunked ? 16 : 32) |
        (m.trailers ? 64 : 0) |
        (ft === t ? 128 : 0),
    );
    f.num(m.firstFrame);
    f.num(m.frame);
    f.time(t);
    if (ft !== t) f.time(ft);
    f.str(m.method);
    f.str(m.uri);
    f.numOrNull(m.status);
    f.str(m.reason);
    f.str(m.version);
    // A head kept as text goes as that text (-1 for the count); the worker makes its fields (splitHead).
    if (m.rawHead !== undefined) {
      f.num(-1);
      f.str(m.rawHead);
    } else f.headers(m.headers);
    if (m.trailers) f.headers(m.trailers);
    f.num(m.bodyLength);
    f.num(this.span(m.body));
    f.num(m.body.length);
    if (m.decodedBody === m.body) f.num(NO_SPAN);
    else {
      f.num(this.span(m.decodedBody));
      f.num(m.decodedBody.length);
    }
    f.numOrNull(m.contentLength);
    f.strings(m.anomalies);
  }

  /** The batch, ready to post (transfer `arena`), and a fresh start. */
  take(): WireBatch {
    const fields = this.f.pos;
    // Not zero-filled (every byte is written below); its own ArrayBuffer, never a pool's, so it can be transferred.
    const view = Buffer.allocUnsafeSlow(fields + this.bytes);
    const arena = view.buffer as ArrayBuffer;
    view.set(this.f.buf.subarray(0, fields), 0);
    let at = fields;
    for (const b of this.buffers) {
      view.set(b, at);
      at += b.length;
    }
    const batch: WireBatch = { arena, fields, count: this.count };
    this.f.pos = 0;
    this.count = 0;
    this.buffers = [];
    this.bytes = 0;
    return batch;
  }
}

function readMessage(r: FieldReader, arena: ArrayBuffer, base: number): Message {
  const bits = r.u8();
  const firstFrame = r.num();
  const frame = r.num();
  const time = r.time();
  const firstTime = bits & 128 ? time : r.time();
  const method = r.str();
  const uri = r.str();
  const status = r.numOrNull();
  const reason = r.str();
  const version = r.str()!;
  const headers = r.headers();
  const trailers = bits & 64 ? r.headers() : null;
  const bodyLength = r.num();
  const bodyAt = r.num();
  const body = Buffer.from(arena, base + bodyAt, r.num());
  const decodedAt = r.num();
  const decodedBody = decodedAt === NO_SPAN ? body : Buffer.from(arena, base + decodedAt, r.num());
  const contentLength = r.numOrNull();
  const m: Message = {
    protocol: bits & 1 ? 'sip' : 'http',
    kind: bits & 2 ? 'response' : 'request',
    firstFrame,
    frame,
    time,
    firstTime,
    version,
    headers,
    bodyLength,
    body,
    decodedBody,
    bodyTruncated: (bits & 4) !== 0,
    incomplete: (bits & 8) !== 0,
    anomalies: r.strings(),
  };
  if (method !== null) m.method = method;
  if (uri !== null) m.uri = uri;
  if (status !== null) m.status = status;
  if (reason !== null) m.reason = reason;
  if (trailers) m.trailers = trailers;
  if (contentLength !== null) m.contentLength = contentLength;
  if (bits & 48) m.chunked = (bits & 16) !== 0;
  return m;
}

/** The items of a batch, rebuilt: messages with their bodies as Buffers over the arena, and the exchange. */
export function readBatch(batch: WireBatch): BackendItem[] {
  const { arena, fields } = batch;
  const r = new FieldReader(arena, fields);
  const items: BackendItem[] = new Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const bits = r.u8();
    const seq = r.num();
    const watermark = r.num();
    const id = r.str()!;
    const stream = r.numOrNull();
    const transport = r.str();
    const interim = r.str();
    const clientIp = r.str()!;
    const clientPort = r.num();
    const serverIp = r.str()!;
    const serverPort = r.num();
    const ctxTransport = r.str()!;
    const req = readMessage(r, arena, fields);
    const res = bits & 4 ? readMessage(r, arena, fields) : null;
    const exchange: Exchange = {
      id,
      protocol: req.protocol,
      stream,
      client: endpointText(clientIp, clientPort),
      server: endpointText(serverIp, serverPort),
      request: toRequestJson(req),
      response: res ? toResponseJson(res) : null,
    };
    if (transport !== null) exchange.transport = transport as Exchange['transport'];
    if (bits & 2) exchange.tls = true;
    if (interim !== null) exchange.interim = JSON.parse(interim) as Exchange['interim'];
    const ctx: ExchangeContext = {
      exchange,
      req,
      res,
      clientIp,
      clientPort,
      serverIp,
      serverPort,
      transport: ctxTransport as ExchangeContext['transport'],
      time: req.time,
    };
    items[i] = { ctx, kept: (bits & 1) === 1, seq, watermark };
  }
  if (r.pos !== fields) throw new Error('internal: a batch from the front end was not read to its end');
  return items;
}

// ---------------------------------------------------------------- the worker's findings, back
// At the end the worker returns its findings: on big captures tens of thousands of stubs (their texts
// are in the findings file, findings-spill.ts). Structured cloning that many small objects costs both
// threads more than this binary form; anything that is not a plain stub travels as it is, cloned.

export interface WireFindings {
  arena: ArrayBuffer;
  fields: number;
  count: number;
  /** Findings that are not stubs, with their place in the list. */
  others: { at: number; sf: SeqFinding }[];
}

const STUB_KEYS = 'code,severity,message,exchange,stream,frames,filter,evidence,textRef';

/** The shape FindingsSpill.add gives a stub, and nothing else (so that reading it back rebuilds it exactly). */
function plainStub(sf: SeqFinding): boolean {
  const f = sf.finding as StubFinding;
  if (!isStub(f) || Object.keys(f).join(',') !== STUB_KEYS || f.message !== '' || f.filter !== '') return false;
  if (typeof f.code !== 'string' || typeof f.severity !== 'string') return false;
  if (f.exchange !== null && typeof f.exchange !== 'string') return false;
  if (f.stream !== null && typeof f.stream !== 'number') return false;
  if (f.frames.length > 1 || (f.frames.length === 1 && typeof f.frames[0] !== 'number')) return false;
  const ev = Object.keys(f.evidence);
  if (ev.length > 1 || (ev.length === 1 && typeof f.evidence[ev[0]] !== 'string')) return false;
  return sf.order === undefined || typeof sf.order === 'number';
}

/**
 * Findings gathered in their binary form as they are made (the worker hands each one over once it is
 * final), so that tens of thousands of stubs are not held as objects until the end.
 */
export class FindingsWriter {
  private w = new FieldWriter();
  private n = 0;
  private count = 0;
  private others: WireFindings['others'] = [];

  add(sf: SeqFinding): void {
    const i = this.n++;
    if (!plainStub(sf)) {
      this.others.push({ at: i, sf });
      return;
    }
    this.count++;
    const w = this.w;
    const f = sf.finding as StubFinding;
    const ev = Object.keys(f.evidence);
    w.u8((sf.order !== undefined ? 1 : 0) | (f.frames.length ? 2 : 0) | (ev.length ? 4 : 0));
    w.num(i);
    w.num(sf.seq);
    if (sf.order !== undefined) w.num(sf.order);
    w.str(f.code);
    w.str(f.severity);
    w.str(f.exchange);
    w.numOrNull(f.stream);
    if (f.frames.length) w.num(f.frames[0]);
    if (ev.length) {
      w.str(ev[0]);
      w.str(f.evidence[ev[0]] as string);
    }
    w.num(f.textRef[0]);
    w.num(f.textRef[1]);
  }

  /** Everything added, ready to post (transfer `arena`). */
  take(): WireFindings {
    const w = this.w;
    const view = Buffer.allocUnsafeSlow(w.pos);
    view.set(w.buf.subarray(0, w.pos));
    const arena = view.buffer as ArrayBuffer;
    const out: WireFindings = { arena, fields: w.pos, count: this.count, others: this.others };
    this.w = new FieldWriter();
    this.n = 0;
    this.count = 0;
    this.others = [];
    return out;
  }
}

export function readFindings(wf: WireFindings): SeqFinding[] {
  const out: SeqFinding[] = new Array(wf.count + wf.others.length);
  for (const o of wf.others) out[o.at] = o.sf;
  const r = new FieldReader(wf.arena, wf.fields);
  for (let n = 0; n < wf.count; n++) {
    const bits = r.u8();
    const at = r.num();
    const seq = r.num();
    const order = bits & 1 ? r.num() : undefined;
    const code = r.str() as StubFinding['code'];
    const severity = r.str() as StubFinding['severity'];
    const exchange = r.str();
    const stream = r.numOrNull();
    const frames = bits & 2 ? [r.num()] : [];
    const evidence: Record<string, unknown> = {};
    if (bits & 4) {
      const k = r.str()!;
      evidence[k] = r.str();
    }
    const textRef: StubFinding['textRef'] = [r.num(), r.num()];
    const finding: StubFinding = { code, severity, message: '', exchange, stream, frames, filter: '', evidence, textRef };
    out[at] = order === undefined ? { seq, finding } : { seq, order, finding };
  }
  if (r.pos !== wf.fields) throw new Error('internal: the findings from the worker were not read to their end');
  return out;
}
