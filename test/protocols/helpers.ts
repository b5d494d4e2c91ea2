// Test helpers for the protocol parsers: build StreamChunks from (frame, bytes) pieces and feed them the
// way the TCP stage would (one chunk per frame), all at once (one chunk, several pieces), or byte by byte.

import type { Limits, Message, StreamChunk, Timestamp } from '../../src/types.js';
import { DEFAULT_LIMITS } from '../../src/types.js';
import { HttpStreamParser, type MalformedEvent } from '../../src/protocols/http.js';
import { SipStreamParser } from '../../src/protocols/sip.js';

export type Piece = [frame: number, data: string | Buffer];

export function bytes(d: string | Buffer): Buffer {
  return typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
}

/** Time of a frame in these tests: second 1000 + frame. */
export function timeOf(frame: number): Timestamp {
  return { sec: 1000 + frame, nsec: 0, digits: 6 };
}

/** One StreamChunk holding these pieces back to back, starting at `streamOffset`. */
export function chunkOf(pieces: Piece[], streamOffset: number): StreamChunk {
  const bufs = pieces.map(([, d]) => bytes(d));
  const offsets: number[] = [];
  let off = 0;
  for (const b of bufs) {
    offsets.push(off);
    off += b.length;
  }
  return { data: Buffer.concat(bufs), streamOffset, offsets, frames: pieces.map(([f]) => f), times: pieces.map(([f]) => timeOf(f)) };
}

export type Mode = 'frames' | 'whole' | 'bytes';
export const MODES: Mode[] = ['frames', 'whole', 'bytes'];

interface Pushable {
  push(c: StreamChunk): void;
}

/** Feed pieces starting at stream offset `start`; returns the offset after them. */
export function feed(p: Pushable, pieces: Piece[], mode: Mode, start = 0): number {
  let off = start;
  if (mode === 'whole') {
    const c = chunkOf(pieces, off);
    p.push(c);
    return off + c.data.length;
  }
  for (const [frame, d] of pieces) {
    const b = bytes(d);
    if (mode === 'frames') {
      p.push(chunkOf([[frame, b]], off));
      off += b.length;
    } else {
      for (let i = 0; i < b.length; i++) p.push(chunkOf([[frame, b.subarray(i, i + 1)]], off++));
    }
  }
  return off;
}

export interface Collected<P> {
  parser: P;
  messages: Message[];
  malformed: MalformedEvent[];
}

export function httpParser(kind: 'request' | 'response', limits: Partial<Limits> = {}): Collected<HttpStreamParser> {
  const messages: Message[] = [];
  const malformed: MalformedEvent[] = [];
  const parser = new HttpStreamParser(kind, {
    limits: { ...DEFAULT_LIMITS, ...limits },
    onMessage: (m) => messages.push(m),
    onMalformed: (e) => malformed.push(e),
  });
  return { parser, messages, malformed };
}

export function sipParser(limits: Partial<Limits> = {}): Collected<SipStreamParser> {
  const messages: Message[] = [];
  const malformed: MalformedEvent[] = [];
  const parser = new SipStreamParser({
    limits: { ...DEFAULT_LIMITS, ...limits },
    onMessage: (m) => messages.push(m),
    onMalformed: (e) => malformed.push(e),
  });
  return { parser, messages, malformed };
}

/** What a test compares across feeding modes: everything but Buffer identity. */
export function summary(m: Message): Record<string, unknown> {
  return {
    kind: m.kind,
    method: m.method,
    uri: m.uri,
    status: m.status,
    reason: m.reason,
    version: m.version,
    firstFrame: m.firstFrame,
    frame: m.frame,
    time: m.time.sec,
    firstTime: m.firstTime.sec,
    headers: m.headers,
    trailers: m.trailers,
    bodyLength: m.bodyLength,
    body: m.body.toString('latin1'),
    decodedBody: m.decodedBody.toString('latin1'),
    bodyTruncated: m.bodyTruncated,
    incomplete: m.incomplete,
    contentLength: m.contentLength,
    chunked: m.chunked,
    anomalies: m.anomalies,
  };
}
