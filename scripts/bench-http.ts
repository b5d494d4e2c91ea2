// node dist/scripts/bench-http.js [--exchanges 6000] [--runs 7] [--parser path/to/http.js]
// Micro-benchmark of the HTTP stream parser alone: keep-alive connections of request/response pairs shaped
// like the synthetic benchmark capture (Basic/Digest auth, form POST bodies of 200 B - 8 KB, 401s, ~40%
// chunked responses), cut into 1448-byte segments, each handed over as its own StreamChunk the way the
// reassembler does. The chunks are built once; each run parses them all. Prints median time, MB/s, msgs/s.
// --parser loads HttpStreamParser from another compiled http.js, to compare two versions (A/B) on one machine.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HttpStreamParser as BuiltIn } from '../src/protocols/http.js';
import { DEFAULT_LIMITS, type Message, type StreamChunk } from '../src/types.js';

const parserPath = process.argv.includes('--parser') ? process.argv[process.argv.indexOf('--parser') + 1] : null;
const HttpStreamParser: typeof BuiltIn = parserPath ? (await import(pathToFileURL(resolve(parserPath)).href)).HttpStreamParser : BuiltIn;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/** mulberry32: seeded, so every run parses the same bytes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MSS = 1448;
const WORDS = 'alpha beta gamma delta msisdn text sender message priority callback '.split(' ');

function text(r: () => number, n: number): string {
  let s = '';
  while (s.length < n) s += `${WORDS[Math.floor(r() * WORDS.length)]}=${Math.floor(r() * 1e6)}&`;
  return s.slice(0, n);
}

interface Conn {
  /** Per direction: the segments in order, plus which request each response answers (for expectMethod). */
  client: StreamChunk[];
  server: StreamChunk[];
  bytes: number;
}

function segments(data: Buffer, start: number, frame: { n: number }): StreamChunk[] {
  const out: StreamChunk[] = [];
  for (let off = 0; off < data.length; off += MSS) {
    const piece = Buffer.from(data.subarray(off, off + MSS)); // the reassembler hands over copies
    out.push({ data: piece, streamOffset: start + off, offsets: [0], frames: [frame.n++], times: [{ sec: 1_715_680_000 + frame.n, nsec: 0, digits: 6 }] });
  }
  return out;
}

function build(exchanges: number, perConn: number): Conn[] {
  const r = rng(42);
  const frame = { n: 1 };
  const conns: Conn[] = [];
  for (let e = 0; e < exchanges; e += perConn) {
    const c: Conn = { client: [], server: [], bytes: 0 };
    let co = 0;
    let so = 0;
    let authed = false;
    for (let k = 0; k < perConn; k++) {
      const post = r() < 0.6;
      const refuse = !authed && r() < 0.5 ? true : r() < 0.04;
      const digest = r() < 0.3;
      const auth = authed || !refuse
        ? digest
          ? `Authorization: Digest username="user${e}", realm="api", nonce="n${e}", uri="/api/v1/send", response="${'0'.repeat(32)}", qop=auth, nc=00000001, cnonce="c"\r\n`
          : `Authorization: Basic ${Buffer.from(`user${e}:secret`).toString('base64')}\r\n`
        : '';
      const reqBody = post ? text(r, 200 + Math.floor(r() * 8000)) : '';
      const req = Buffer.from(
        `${post ? 'POST' : 'GET'} /api/v1/${post ? 'send' : `status?id=${Math.floor(r() * 1e6)}`} HTTP/1.1\r\nHost: api.example.net\r\nUser-Agent: bench/1.0\r\n${auth}` +
          (post ? `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${reqBody.length}\r\n` : '') +
          `\r\n${reqBody}`,
        'latin1',
      );
      let res: Buffer;
      if (refuse) {
        res = Buffer.from(`HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${digest ? 'Digest realm="api", nonce="n1", qop="auth"' : 'Basic realm="api"'}\r\nContent-Length: 12\r\n\r\nUnauthorized`, 'latin1');
      } else if (r() < 0.4) {
        const b = text(r, 200 + Math.floor(r() * 6000));
        const half = Math.floor(b.length / 2);
        res = Buffer.from(
          `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n${b.slice(0, half)}\r\n${(b.length - half).toString(16)}\r\n${b.slice(half)}\r\n0\r\n\r\n`,
          'latin1',
        );
        authed = true;
      } else {
        const b = text(r, 200 + Math.floor(r() * 4000));
        res = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${b.length}\r\n\r\n${b}`, 'latin1');
        authed = true;
      }
      c.client.push(...segments(req, co, frame));
      c.server.push(...segments(res, so, frame));
      co += req.length;
      so += res.length;
    }
    c.bytes = co + so;
    conns.push(c);
  }
  return conns;
}

/** Parses every connection: all of a connection's requests, then its responses (each response parser is told the methods). */
function run(conns: Conn[]): { messages: number; bodyBytes: number } {
  let messages = 0;
  let bodyBytes = 0;
  const onMessage = (m: Message) => {
    messages++;
    bodyBytes += m.body.length;
  };
  const onMalformed = () => {
    throw new Error('bench traffic must parse cleanly');
  };
  for (const c of conns) {
    const res = new HttpStreamParser('response', { limits: DEFAULT_LIMITS, onMessage, onMalformed });
    const req = new HttpStreamParser('request', {
      limits: DEFAULT_LIMITS,
      onMessage: (m) => {
        onMessage(m);
        res.expectMethod(m.method!);
      },
      onMalformed,
    });
    for (const s of c.client) req.push(s);
    for (const s of c.server) res.push(s);
    req.end({ how: 'fin' });
    res.end({ how: 'fin' });
  }
  return { messages, bodyBytes };
}

const exchanges = arg('exchanges', 6000);
const runs = arg('runs', 7);
const conns = build(exchanges, 10);
const bytes = conns.reduce((a, c) => a + c.bytes, 0);
const segs = conns.reduce((a, c) => a + c.client.length + c.server.length, 0);
run(conns); // warm-up
const times: number[] = [];
const cpu: number[] = [];
let last = { messages: 0, bodyBytes: 0 };
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  last = run(conns);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
  const d = process.cpuUsage(c);
  cpu.push((d.user + d.system) / 1000);
}
times.sort((a, b) => a - b);
cpu.sort((a, b) => a - b);
const ms = times[times.length >> 1];
if (last.messages !== 2 * exchanges) throw new Error(`parsed ${last.messages} messages, expected ${2 * exchanges}`);
console.log(
  `${exchanges} exchanges, ${segs} segments, ${(bytes / 1048576).toFixed(1)} MiB: median ${ms.toFixed(1)} ms of ${runs} ` +
    `(min ${times[0].toFixed(1)}), ${(bytes / 1048576 / (ms / 1000)).toFixed(0)} MiB/s, ${Math.round(last.messages / (ms / 1000))} msgs/s, ` +
    `${(ms * 1e6 / segs).toFixed(0)} ns/segment; CPU time median ${cpu[cpu.length >> 1].toFixed(1)} ms (min ${cpu[0].toFixed(1)}) (a loaded machine moves wall time more than CPU time)`,
);
