// Test harness for the TLS stage: a minimal classic-pcap + Ethernet/IPv4/TCP reader that drives one
// TlsConnection per TCP connection (streams numbered like tcp.stream), builds the connection summaries
// the checks need, and can re-cut the byte stream (coalesced pieces, tiny chunks) to test framing.

import type { Direction, StreamChunk, TcpConnectionSummary, Timestamp } from '../../src/types.js';
import { TlsConnection, type TlsEvent } from '../../src/protocols/tls/connection.js';
import type { KeyLog } from '../../src/protocols/tls/keylog.js';

export interface DrivenConnection {
  stream: number;
  events: TlsEvent[];
  /** Plaintext chunks as the TLS stage handed them out. */
  plain: Record<Direction, StreamChunk[]>;
  summary: TcpConnectionSummary;
  tls: TlsConnection;
}

export interface DriveOptions {
  keylog?: KeyLog;
  /** Merge this many consecutive same-direction segments into one multi-piece StreamChunk. */
  coalesce?: number;
  /** Cut every segment's payload into chunks of this many bytes. */
  split?: number;
}

interface Seg {
  frame: number;
  time: Timestamp;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  payload: Buffer;
}

function* readPcap(buf: Buffer): Generator<Seg> {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const nanos = (le ? buf.readUInt32LE(0) : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20);
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const sec = u32(off), frac = u32(off + 4), cap = u32(off + 8);
    const data = buf.subarray(off + 16, off + 16 + cap);
    off += 16 + cap;
    frame++;
    let p = link === 1 ? 14 : link === 113 ? 16 : 0;
    if (link === 1 && data.readUInt16BE(12) === 0x8100) p += 4;
    if (data[p] >> 4 !== 4 || data[p + 9] !== 6) continue;
    const ihl = (data[p] & 15) * 4;
    const total = data.readUInt16BE(p + 2);
    const t = p + ihl;
    const thl = (data[t + 12] >> 4) * 4;
    yield {
      frame,
      time: { sec, nsec: nanos ? frac : frac * 1000, digits: nanos ? 9 : 6 },
      src: [...data.subarray(p + 12, p + 16)].join('.'),
      dst: [...data.subarray(p + 16, p + 20)].join('.'),
      sport: data.readUInt16BE(t),
      dport: data.readUInt16BE(t + 2),
      seq: data.readUInt32BE(t + 4),
      flags: data[t + 13],
      payload: data.subarray(t + thl, Math.min(data.length, p + total)),
    };
  }
}

interface Dir {
  next: number | null;
  offset: number;
  pending: { data: Buffer; frame: number; time: Timestamp }[];
}

/** Run the TLS stage over every TCP connection of a classic pcap (in-order segments; later gaps reported as gaps). */
export function driveTls(pcap: Buffer, o: DriveOptions = {}): DrivenConnection[] {
  const conns = new Map<string, { c: DrivenConnection; dirs: Record<Direction, Dir>; cli: string; ended: Record<Direction, boolean> }>();
  const out: DrivenConnection[] = [];
  const flush = (st: { c: DrivenConnection; dirs: Record<Direction, Dir> }, dir: Direction) => {
    const d = st.dirs[dir];
    if (!d.pending.length) return;
    const data = Buffer.concat(d.pending.map((x) => x.data));
    const offsets: number[] = [];
    let acc = 0;
    for (const x of d.pending) { offsets.push(acc); acc += x.data.length; }
    const chunk: StreamChunk = { data, streamOffset: d.offset, offsets, frames: d.pending.map((x) => x.frame), times: d.pending.map((x) => x.time) };
    d.offset += data.length;
    d.pending = [];
    if (o.split) {
      for (let i = 0; i < data.length; i += o.split) {
        const piece = data.subarray(i, i + o.split);
        let k = 0;
        while (k + 1 < offsets.length && offsets[k + 1] <= i) k++;
        st.c.tls.data(dir, { data: piece, streamOffset: chunk.streamOffset + i, offsets: [0], frames: [chunk.frames[k]], times: [chunk.times[k]] });
      }
    } else st.c.tls.data(dir, chunk);
  };
  for (const s of readPcap(pcap)) {
    const a = `${s.src}:${s.sport}`, b = `${s.dst}:${s.dport}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let st = conns.get(key);
    if (!st) {
      const events: TlsEvent[] = [];
      const plain: Record<Direction, StreamChunk[]> = { client: [], server: [] };
      const tls = new TlsConnection({ keylog: o.keylog, onEvent: (e) => events.push(e), onPlaintext: (d, ch) => plain[d].push({ ...ch, data: Buffer.from(ch.data) }) });
      const summary: TcpConnectionSummary = {
        stream: conns.size, client: { ip: s.src, port: s.sport }, server: { ip: s.dst, port: s.dport }, firstFrame: s.frame, firstTime: s.time,
        sawSyn: (s.flags & 2) !== 0, synFrames: [], synTimes: [], synAckFrame: null, resets: [], fins: [], bytes: { client: 0, server: 0 },
        firstDataFrame: { client: null, server: null }, lastFrame: s.frame, lastTime: s.time, gaps: 0,
      };
      const c: DrivenConnection = { stream: conns.size, events, plain, summary, tls };
      st = { c, cli: a, dirs: { client: { next: null, offset: 0, pending: [] }, server: { next: null, offset: 0, pending: [] } }, ended: { client: false, server: false } };
      conns.set(key, st);
      out.push(c);
    }
    const dir: Direction = a === st.cli ? 'client' : 'server';
    const sum = st.c.summary;
    sum.lastFrame = s.frame;
    sum.lastTime = s.time;
    const d = st.dirs[dir];
    if (s.flags & 2) {
      if (dir === 'client') { sum.synFrames.push(s.frame); sum.synTimes.push(s.time); } else sum.synAckFrame = s.frame;
      d.next = (s.seq + 1) >>> 0;
    }
    if (s.payload.length) {
      if (d.next === null) d.next = s.seq;
      const delta = (s.seq - d.next) | 0;
      if (delta > 0) {
        flush(st, dir);
        sum.gaps++;
        st.c.tls.gap(dir, { streamOffset: d.offset, bytes: delta, frameBefore: null, frameAfter: s.frame });
        d.offset += delta;
        d.next = s.seq;
      }
      if (delta >= 0) {
        sum.bytes[dir] += s.payload.length;
        sum.firstDataFrame[dir] ??= s.frame;
        d.pending.push({ data: Buffer.from(s.payload), frame: s.frame, time: s.time });
        d.next = (s.seq + s.payload.length) >>> 0;
        if (d.pending.length >= (o.coalesce ?? 1)) flush(st, dir);
      }
    }
    if (s.flags & 4) sum.resets.push({ frame: s.frame, from: dir, time: s.time });
    if (s.flags & 1) sum.fins.push({ frame: s.frame, from: dir, time: s.time });
    if (s.flags & 5 && !st.ended[dir]) {
      flush(st, 'client');
      flush(st, 'server');
      st.ended[dir] = true;
      st.c.tls.end(dir);
    }
  }
  for (const st of conns.values()) { flush(st, 'client'); flush(st, 'server'); }
  return out;
}

/** The frame that carried plaintext byte `offset` of a direction (null when not decrypted that far). */
export function frameOfPlainByte(chunks: StreamChunk[], offset: number): number | null {
  for (const c of chunks) {
    if (offset >= c.streamOffset && offset < c.streamOffset + c.data.length) {
      const rel = offset - c.streamOffset;
      let k = 0;
      while (k + 1 < c.offsets.length && c.offsets[k + 1] <= rel) k++;
      return c.frames[k];
    }
  }
  return null;
}

export function plaintextOf(chunks: StreamChunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => c.data));
}
