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
import { rng, syntheticMessages } from '../test/lib/synthetic.js';

const parserPath = process.argv.includes('--parser') ? process.argv[process.argv.indexOf('--parser') + 1] : null;
const HttpStreamParser: typeof BuiltIn = parserPath ? (await import(pathToFileURL(resolve(parserPath)).href)).HttpStreamParser : BuiltIn;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const MSS = 1448;

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
      const m = syntheticMessages(r, `user${e}`, authed);
      if (m.accepted) authed = true;
      const { req, res } = m;
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
