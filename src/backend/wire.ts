// How completed exchanges travel to the back-end worker. A batch is one JSON text of positional arrays
// (V8's JSON.stringify/parse of flat arrays is several times faster than structured cloning many small
// objects), plus one ArrayBuffer with the message bodies (transferred, not copied again): the messages
// carry [offset, length] spans into it. The exchange's JSON form is not sent: the worker rebuilds it
// from the messages exactly as the builder does (toRequestJson / toResponseJson).

import type { Exchange, ExchangeContext, HttpHeaders, Message, Timestamp } from '../types.js';
import { toRequestJson, toResponseJson } from '../exchanges/builder.js';
import type { BackendItem } from './backend.js';

export interface WireBatch {
  json: string;
  arena: ArrayBuffer;
}

type Json = null | number | string | boolean | Json[] | { [k: string]: Json };

function flatHeaders(h: HttpHeaders): string[] {
  const out: string[] = new Array(h.length * 2);
  for (let i = 0; i < h.length; i++) {
    out[2 * i] = h[i][0];
    out[2 * i + 1] = h[i][1];
  }
  return out;
}

function pairHeaders(f: string[]): HttpHeaders {
  const out: HttpHeaders = new Array(f.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = [f[2 * i], f[2 * i + 1]];
  return out;
}

/** Collects the items of one batch and the bytes of their bodies. */
export class BatchWriter {
  private items: Json[] = [];
  private buffers: Buffer[] = [];
  private bytes = 0;

  get size(): number {
    return this.items.length;
  }
  get bodyBytes(): number {
    return this.bytes;
  }

  add(item: BackendItem): void {
    const { ctx } = item;
    const x = ctx.exchange;
    this.items.push([
      item.kept ? 1 : 0,
      item.seq,
      // -Infinity and Infinity are not JSON: clamp (frames are positive integers).
      Math.max(-1, Math.min(item.watermark, Number.MAX_SAFE_INTEGER)),
      x.id,
      x.stream,
      x.client,
      x.server,
      x.transport ?? null,
      x.tls ? 1 : 0,
      (x.interim as Json) ?? null,
      ctx.clientIp,
      ctx.clientPort,
      ctx.serverIp,
      ctx.serverPort,
      ctx.transport,
      this.message(ctx.req),
      ctx.res ? this.message(ctx.res) : null,
    ]);
  }

  private span(b: Buffer): number {
    const at = this.bytes;
    if (b.length) {
      this.buffers.push(b);
      this.bytes += b.length;
    }
    return at;
  }

  private message(m: Message): Json {
    const t = m.time;
    const ft = m.firstTime;
    const body = this.span(m.body);
    const decoded = m.decodedBody === m.body ? -1 : this.span(m.decodedBody);
    return [
      m.protocol,
      m.kind,
      m.firstFrame,
      m.frame,
      t.sec,
      t.nsec,
      t.digits,
      ft.sec,
      ft.nsec,
      ft.digits,
      m.method ?? null,
      m.uri ?? null,
      m.status ?? null,
      m.reason ?? null,
      m.version,
      flatHeaders(m.headers),
      m.trailers ? flatHeaders(m.trailers) : null,
      m.bodyLength,
      body,
      m.body.length,
      decoded,
      m.decodedBody.length,
      m.bodyTruncated ? 1 : 0,
      m.incomplete ? 1 : 0,
      m.contentLength ?? null,
      m.chunked === undefined ? null : m.chunked ? 1 : 0,
      m.anomalies,
    ];
  }

  /** The batch, ready to post (transfer `arena`), and a fresh start. */
  take(): WireBatch {
    const arena = new ArrayBuffer(this.bytes);
    const view = new Uint8Array(arena);
    let at = 0;
    for (const b of this.buffers) {
      view.set(b, at);
      at += b.length;
    }
    const batch = { json: JSON.stringify(this.items), arena };
    this.items = [];
    this.buffers = [];
    this.bytes = 0;
    return batch;
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function readMessage(a: any[], arena: ArrayBuffer): Message {
  const time: Timestamp = { sec: a[4], nsec: a[5], digits: a[6] };
  const firstTime: Timestamp = a[7] === a[4] && a[8] === a[5] && a[9] === a[6] ? time : { sec: a[7], nsec: a[8], digits: a[9] };
  const body = Buffer.from(arena, a[18], a[19]);
  const m: Message = {
    protocol: a[0],
    kind: a[1],
    firstFrame: a[2],
    frame: a[3],
    time,
    firstTime,
    version: a[14],
    headers: pairHeaders(a[15]),
    bodyLength: a[17],
    body,
    decodedBody: a[20] < 0 ? body : Buffer.from(arena, a[20], a[21]),
    bodyTruncated: a[22] === 1,
    incomplete: a[23] === 1,
    anomalies: a[26],
  };
  if (a[10] !== null) m.method = a[10];
  if (a[11] !== null) m.uri = a[11];
  if (a[12] !== null) m.status = a[12];
  if (a[13] !== null) m.reason = a[13];
  if (a[16] !== null) m.trailers = pairHeaders(a[16]);
  if (a[24] !== null) m.contentLength = a[24];
  if (a[25] !== null) m.chunked = a[25] === 1;
  return m;
}

/** The items of a batch, rebuilt: messages with their bodies as Buffers over the arena, and the exchange. */
export function readBatch(batch: WireBatch): BackendItem[] {
  const rows = JSON.parse(batch.json) as any[][];
  const items: BackendItem[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const req = readMessage(r[15], batch.arena);
    const res = r[16] ? readMessage(r[16], batch.arena) : null;
    const exchange: Exchange = {
      id: r[3],
      protocol: req.protocol,
      stream: r[4],
      client: r[5],
      server: r[6],
      request: toRequestJson(req),
      response: res ? toResponseJson(res) : null,
    };
    if (r[7] !== null) exchange.transport = r[7];
    if (r[8] === 1) exchange.tls = true;
    if (r[9] !== null) exchange.interim = r[9];
    const ctx: ExchangeContext = {
      exchange,
      req,
      res,
      clientIp: r[10],
      clientPort: r[11],
      serverIp: r[12],
      serverPort: r[13],
      transport: r[14],
      time: req.time,
    };
    items[i] = { ctx, kept: r[0] === 1, seq: r[1], watermark: r[2] };
  }
  return items;
}
