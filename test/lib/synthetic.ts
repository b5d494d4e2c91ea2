// Synthetic HTTP traffic for the benchmark and the memory tests: many interleaved keep-alive connections,
// mixed POST/GET, 5-10% 401s with Basic/Digest challenges, bodies of 200 B to 8 KB, chunked responses, MSS
// segmentation, some out-of-order and retransmitted segments. Seeded, so the same size gives the same file.
// Written as a stream of pcap records (never the whole file in memory).

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pcapHeader, pcapRecord } from './capture-writer.js';
import { ACK, FIN, PSH, SYN, ethernet, ipv4, tcp } from './packets.js';

/** Small fast PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Conn {
  cip: string;
  sip: string;
  cport: number;
  sport: number;
  seq: [number, number];
  /** Pending segments to emit, in order: [fromServer, flags, payload]. */
  queue: [boolean, number, Buffer][];
  requestsLeft: number;
  user: string;
  authed: boolean;
}

const MSS = 1448;

function frame(c: Conn, fromServer: boolean, flags: number, payload: Buffer, seqOverride?: number): Buffer {
  const i = fromServer ? 1 : 0;
  const seq = seqOverride ?? c.seq[i];
  const seg = tcp(payload, {
    sport: fromServer ? c.sport : c.cport,
    dport: fromServer ? c.cport : c.sport,
    seq,
    ack: flags & ACK ? c.seq[1 - i] : 0,
    flags,
  });
  return ethernet(ipv4(seg, { src: fromServer ? c.sip : c.cip, dst: fromServer ? c.cip : c.sip, proto: 6 }));
}

function body(r: () => number, n: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'msisdn', 'text', 'order', 'domain', 'lookup'];
  let s = '';
  while (s.length < n) s += `${words[Math.floor(r() * words.length)]}=${Math.floor(r() * 1e6)}&`;
  return s.slice(0, n);
}

/**
 * One request/response pair of the synthetic traffic: mixed POST/GET, Basic or Digest credentials once
 * `authed` (or by chance), a 401 challenge now and then (often for the first request), chunked or
 * Content-Length responses. Shared by the capture writer below and scripts/bench-http.ts.
 */
export function syntheticMessages(r: () => number, user: string, authed: boolean): { req: Buffer; res: Buffer; accepted: boolean } {
  const post = r() < 0.6;
  const refuse = !authed && r() < 0.5 ? true : r() < 0.04; // first request often challenged; ~7% overall
  const digest = r() < 0.3;
  const auth = authed || !refuse
    ? digest
      ? `Authorization: Digest username="${user}", realm="api", nonce="n${user}", uri="/api/v1/send", response="${'0'.repeat(32)}", qop=auth, nc=00000001, cnonce="c"\r\n`
      : `Authorization: Basic ${Buffer.from(`${user}:secret`).toString('base64')}\r\n`
    : '';
  const reqBody = post ? body(r, 200 + Math.floor(r() * 8000)) : '';
  const req = Buffer.from(
    `${post ? 'POST' : 'GET'} /api/v1/${post ? 'send' : `status?id=${Math.floor(r() * 1e6)}`} HTTP/1.1\r\nHost: api.example.net\r\nUser-Agent: bench/1.0\r\n${auth}` +
      (post ? `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${reqBody.length}\r\n` : '') +
      `\r\n${reqBody}`,
    'latin1',
  );
  if (refuse) {
    const res = Buffer.from(
      `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${digest ? 'Digest realm="api", nonce="n1", qop="auth"' : 'Basic realm="api"'}\r\nContent-Length: 12\r\n\r\nUnauthorized`,
      'latin1',
    );
    return { req, res, accepted: false };
  }
  if (r() < 0.4) {
    const b = body(r, 200 + Math.floor(r() * 6000));
    const half = Math.floor(b.length / 2);
    const res = Buffer.from(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n${b.slice(0, half)}\r\n${(b.length - half).toString(16)}\r\n${b.slice(half)}\r\n0\r\n\r\n`,
      'latin1',
    );
    return { req, res, accepted: true };
  }
  const b = body(r, 200 + Math.floor(r() * 4000));
  return { req, res: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${b.length}\r\n\r\n${b}`, 'latin1'), accepted: true };
}

/** Queue one request/response pair on the connection. */
function exchange(c: Conn, r: () => number): void {
  const { req, res, accepted } = syntheticMessages(r, c.user, c.authed);
  if (accepted) c.authed = true;
  for (const [fromServer, data] of [[false, req], [true, res]] as [boolean, Buffer][]) {
    for (let off = 0; off < data.length; off += MSS) c.queue.push([fromServer, PSH | ACK, data.subarray(off, off + MSS)]);
    c.queue.push([!fromServer, ACK, Buffer.alloc(0)]);
  }
}

/**
 * Writes about `bytes` bytes of capture to `file`. Returns packet and connection counts.
 */
export async function writeSynthetic(file: string, bytes: number, seed = 42, concurrent = 2000): Promise<{ packets: number; connections: number; bytes: number }> {
  const r = rng(seed);
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const opts = {};
  let written = 0;
  let packets = 0;
  let connections = 0;
  let time = 1_715_680_000;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const put = async (data: Buffer) => {
    time += 0.00002;
    const rec = pcapRecord(opts, { time, data });
    batch.push(rec);
    batchBytes += rec.length;
    written += rec.length;
    packets++;
    if (batchBytes >= 1 << 20) {
      if (!out.write(Buffer.concat(batch))) await once(out, 'drain');
      batch = [];
      batchBytes = 0;
    }
  };
  out.write(pcapHeader(opts));
  written += 24;
  const open: Conn[] = [];
  const newConn = (): Conn => {
    const n = connections++;
    const c: Conn = {
      cip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) | 1}`,
      sip: `192.0.2.${1 + (n % 8)}`,
      cport: 1024 + (n % 60000),
      sport: 80,
      seq: [Math.floor(r() * 2 ** 32) >>> 0, Math.floor(r() * 2 ** 32) >>> 0],
      queue: [],
      requestsLeft: 1 + Math.floor(r() * 8),
      user: `user${n % 500}`,
      authed: false,
    };
    return c;
  };
  while (written < bytes) {
    while (open.length < concurrent) {
      const c = newConn();
      // handshake
      await put(frame(c, false, SYN, Buffer.alloc(0)));
      c.seq[0] = (c.seq[0] + 1) >>> 0;
      await put(frame(c, true, SYN | ACK, Buffer.alloc(0)));
      c.seq[1] = (c.seq[1] + 1) >>> 0;
      await put(frame(c, false, ACK, Buffer.alloc(0)));
      open.push(c);
    }
    const i = Math.floor(r() * open.length);
    const c = open[i];
    if (!c.queue.length) {
      if (c.requestsLeft-- > 0) exchange(c, r);
      else {
        // close
        await put(frame(c, false, FIN | ACK, Buffer.alloc(0)));
        c.seq[0] = (c.seq[0] + 1) >>> 0;
        await put(frame(c, true, FIN | ACK, Buffer.alloc(0)));
        c.seq[1] = (c.seq[1] + 1) >>> 0;
        await put(frame(c, false, ACK, Buffer.alloc(0)));
        open[i] = open[open.length - 1];
        open.pop();
        continue;
      }
    }
    // Emit a few segments of this connection; now and then swap two (out of order) or repeat one.
    for (let k = 0; k < 3 && c.queue.length; k++) {
      const [fromServer, flags, payload] = c.queue.shift()!;
      const idx = fromServer ? 1 : 0;
      const next = c.queue[0];
      const roll = r();
      if (payload.length && next && next[0] === fromServer && next[2].length && roll < 0.01) {
        // out of order: the next segment first, then this one
        c.queue.shift();
        const seq0 = c.seq[idx];
        await put(frame(c, fromServer, next[1], next[2], (seq0 + payload.length) >>> 0));
        await put(frame(c, fromServer, flags, payload, seq0));
        c.seq[idx] = (seq0 + payload.length + next[2].length) >>> 0;
        continue;
      }
      await put(frame(c, fromServer, flags, payload));
      if (payload.length && roll > 0.99) await put(frame(c, fromServer, flags, payload)); // retransmission
      c.seq[idx] = (c.seq[idx] + payload.length) >>> 0;
    }
  }
  if (batch.length) out.write(Buffer.concat(batch));
  out.end();
  await once(out, 'finish');
  return { packets, connections, bytes: written };
}
