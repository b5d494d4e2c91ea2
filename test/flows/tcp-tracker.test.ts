// TcpTracker: reassembly of both directions (order, retransmissions, overlaps, keep-alives, wrap, gaps,
// FIN/RST) and connection summaries, on TCP conversations written by test/lib/packets.ts TcpSession.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, PSH, RST, SYN, TcpSession, interleave } from '../lib/packets.js';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/types.js';
import { TcpTracker } from '../../src/flows/tcp-tracker.js';
import { Recorder, decodeAll } from './helpers.js';

const C = '192.0.2.10:51234';
const S = '198.51.100.7:80';

function run(frames: WrittenPacket[], limits: Partial<Limits> = {}, finish = true) {
  const rec = new Recorder();
  const limitCalls: [string, Record<string, unknown>][] = [];
  const tr = new TcpTracker({ limits: { ...DEFAULT_LIMITS, ...limits }, factory: rec.factory, onLimit: (w, d) => limitCalls.push([w, d]) });
  const streams = decodeAll(frames).map((p) => tr.packet(p));
  if (finish) tr.finish();
  return { rec, tr, streams, limitCalls };
}

/** Push a data segment at an explicit sequence number without touching the session's counters. */
function raw(s: TcpSession, from: 'client' | 'server', data: string, seq: number, flags = PSH | ACK): void {
  s.push(s.segment(from, flags, Buffer.from(data, 'latin1'), { seq }));
}

test('in-order conversation: bytes, frame map, FIN ends and summary', () => {
  const s = new TcpSession(C, S, { isn: [1000, 5000] });
  s.handshake(); // frames 1-3
  const req = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n';
  const reqFrames = s.send('client', req, { mss: 10 }).map((i) => i + 1); // 3 segments + ACK
  const res = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const resFrames = s.send('server', res).map((i) => i + 1);
  s.close(); // client FIN, server FIN, ACK
  const { rec, tr } = run(s.packets);
  assert.equal(tr.streams, 1);
  assert.equal(rec.text(0, 'client'), req);
  assert.equal(rec.text(0, 'server'), res);
  const chunks = rec.of('data').filter((e) => e.dir === 'client');
  assert.deepEqual(chunks.map((e) => e.chunk.frames[0]), reqFrames);
  assert.deepEqual(chunks.map((e) => e.chunk.streamOffset), [0, 10, 20]);
  assert.equal(chunks[1].chunk.times[0].sec * 1e6 + chunks[1].chunk.times[0].nsec / 1e3, Math.round(1_700_000_000e6 + 4e3));
  const ends = rec.of('end');
  const finFrames = s.packets.length - 2; // client FIN is third from last
  assert.deepEqual(ends.map((e) => [e.dir, e.how, e.frame]), [['client', 'fin', finFrames], ['server', 'fin', finFrames + 1]]);
  assert.equal(rec.events.at(-1)?.ev, 'close');
  const sum = rec.summary(0);
  assert.deepEqual(sum.client, { ip: '192.0.2.10', port: 51234 });
  assert.deepEqual(sum.server, { ip: '198.51.100.7', port: 80 });
  assert.equal(sum.sawSyn, true);
  assert.deepEqual(sum.synFrames, [1]);
  assert.equal(sum.synAckFrame, 2);
  assert.deepEqual(sum.bytes, { client: req.length, server: res.length });
  assert.deepEqual(sum.firstDataFrame, { client: reqFrames[0], server: resFrames[0] });
  assert.deepEqual(sum.fins.map((f) => [f.from, f.frame]), [['client', finFrames], ['server', finFrames + 1]]);
  assert.deepEqual(sum.resets, []);
  assert.equal(sum.gaps, 0);
  // released when both FINs are delivered: the final ACK comes after the close
  assert.equal(sum.lastFrame, finFrames + 1);
  assert.equal(tr.stats.segments, s.packets.length);
});

test('out-of-order segments are buffered and delivered in order with their own frames', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const base = s.nextSeq.client;
  raw(s, 'client', 'BBBB', base + 4); // frame 4 arrives first
  raw(s, 'client', 'CCCC', base + 8); // frame 5
  raw(s, 'client', 'AAAA', base); // frame 6 fills the hole
  const { rec, tr } = run(s.packets);
  assert.equal(rec.text(0, 'client'), 'AAAABBBBCCCC');
  const chunks = rec.of('data');
  assert.deepEqual(chunks.map((e) => [e.chunk.streamOffset, e.chunk.frames[0]]), [[0, 6], [4, 4], [8, 5]]);
  assert.equal(tr.stats.outOfOrder, 2);
  assert.equal(rec.of('gap').length, 0);
});

test('retransmissions: exact and overlapping, the first-seen bytes win', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'abcd', b); // 4
  raw(s, 'client', 'abcd', b); // 5 exact retransmission
  raw(s, 'client', 'XXef', b + 2); // 6 overlaps 2 delivered bytes with other bytes ('XX'), adds 'ef'
  // out of order piece, then an in-order segment overlapping it with other bytes
  raw(s, 'client', 'ij', b + 8); // 7 buffered
  raw(s, 'client', 'ghYYkl', b + 6); // 8 covers 6..12; 'YY' (8..10) conflicts with the buffered 'ij'
  const { rec, tr } = run(s.packets);
  assert.equal(rec.text(0, 'client'), 'abcdefghijkl');
  assert.equal(tr.stats.retransmissions, 3);
  const chunks = rec.of('data');
  // frame map: 'ij' is credited to frame 7, the parts around it to frame 8
  assert.deepEqual(chunks.map((e) => [e.chunk.streamOffset, e.chunk.data.toString(), e.chunk.frames[0]]), [
    [0, 'abcd', 4], [4, 'ef', 6], [6, 'gh', 8], [8, 'ij', 7], [10, 'kl', 8],
  ]);
});

test('keep-alives and zero-window probes do not duplicate data', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'hello', b);
  s.push(s.segment('client', ACK, Buffer.from([0]), { seq: b + 4 })); // keep-alive: seq = next-1, 1 garbage byte
  s.push(s.segment('client', ACK, Buffer.alloc(0), { seq: b + 4 })); // keep-alive without data
  raw(s, 'client', ' ', b + 5); // zero-window probe: the next byte alone
  raw(s, 'client', ' world', b + 5); // the same byte again with the rest once the window opens
  const { rec, tr } = run(s.packets);
  assert.equal(rec.text(0, 'client'), 'hello world');
  assert.equal(tr.stats.retransmissions, 1); // the probe's byte sent again; keep-alives are not counted
});

test('sequence numbers wrapping past 2^32, in order and out of order', () => {
  const s = new TcpSession(C, S, { isn: [0xfffffff0, 0xffffffff] });
  s.handshake();
  const b = s.nextSeq.client; // 0xfffffff1
  raw(s, 'client', '0123456789abcdef', (b + 16) >>> 0); // past the wrap, out of order
  raw(s, 'client', 'ABCDEFGHIJKLMNOP', b); // crosses 2^32
  s.send('server', 'response bytes', { ackEach: false }); // server ISN+1 = 0 exactly
  const { rec } = run(s.packets);
  assert.equal(rec.text(0, 'client'), 'ABCDEFGHIJKLMNOP0123456789abcdef');
  assert.equal(rec.text(0, 'server'), 'response bytes');
  assert.deepEqual(rec.of('data').filter((e) => e.dir === 'client').map((e) => e.chunk.streamOffset), [0, 16]);
});

test('mid-stream start: offsets from the first byte seen, the higher port is the client', () => {
  const s = new TcpSession('10.1.1.1:8080', '10.1.1.2:49152', { isn: [777, 999] });
  // no handshake: the server (port 49152 is higher, so it is guessed as the client) talks first
  s.send('client', 'first bytes seen');
  s.send('server', 'reply');
  const { rec, tr } = run(s.packets);
  assert.equal(tr.streams, 1);
  const conn = rec.conns[0];
  assert.equal(conn.sawSyn, false);
  assert.deepEqual(conn.client, { ip: '10.1.1.2', port: 49152 });
  assert.equal(rec.text(0, 'server'), 'first bytes seen');
  assert.equal(rec.of('data')[0].chunk.streamOffset, 0);
  assert.equal(rec.text(0, 'client'), 'reply');
});

test('a corrupt first ACK ahead of the server data does not hide the server data (corpus fuzz-2006-09-29, stream 33)', () => {
  // Mid-stream capture. The client's first ACK points 11264 bytes past where the server's data starts;
  // the server's first segment is a pure ACK whose sequence number is 512 KiB ahead; then the real data.
  const s = new TcpSession('172.20.3.13:53136', '172.20.3.5:80', { isn: [3403950668, 3847462945] });
  const real = s.nextSeq.server;
  s.push(s.segment('client', ACK, undefined, { ack: real + 11264 })); // frame 1: bogus ACK
  const req = 'POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n';
  s.send('client', req, { ackEach: false }); // frame 2, ACKs the real start
  s.push(s.segment('server', ACK, undefined, { seq: real + 524288 })); // frame 3: corrupt pure ACK
  const cont = 'HTTP/1.1 100 Continue\r\n\r\n';
  const accepted = 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n';
  const contFrames = s.send('server', cont, { ackEach: false }).map((i) => i + 1); // frame 4
  s.send('client', 'body');
  const accFrames = s.send('server', accepted).map((i) => i + 1);
  s.close('server');
  const { rec, tr } = run(s.packets);
  assert.equal(tr.streams, 1);
  assert.equal(rec.text(0, 'server'), cont + accepted);
  const server = rec.of('data').filter((e) => e.dir === 'server');
  assert.deepEqual(server.map((e) => [e.chunk.streamOffset, e.chunk.frames[0]]), [[0, contFrames[0]], [cont.length, accFrames[0]]]);
  assert.deepEqual(rec.of('gap').filter((e) => e.dir === 'server'), []);
  assert.deepEqual(rec.of('end').map((e) => [e.dir, e.how]), [['server', 'fin'], ['client', 'fin']]);
  assert.equal(rec.summary(0).bytes.server, cont.length + accepted.length);
});

test('mid-stream start with equal ports: the first sender is the client', () => {
  const s = new TcpSession('10.1.1.1:5060', '10.1.1.2:5060');
  s.send('server', 'x');
  const { rec } = run(s.packets);
  assert.deepEqual(rec.conns[0].client, { ip: '10.1.1.2', port: 5060 });
});

test('a hole the receiver ACKs past is a permanent gap, then delivery continues', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'part1-', b); // frame 4
  // 'part2-' (6 bytes) was sent but not captured
  raw(s, 'client', 'part3', b + 12); // frame 5, buffered
  s.push(s.segment('server', ACK, undefined, { ack: b + 17 })); // frame 6: the server got it all
  raw(s, 'client', 'part2-', b + 6); // frame 7: a late copy must not be delivered after the gap
  const { rec } = run(s.packets, {}, false);
  const client = rec.events.filter((e) => e.ev !== 'close' && 'dir' in e && e.dir === 'client');
  assert.deepEqual(client.map((e) => e.ev), ['data', 'gap', 'data']);
  assert.deepEqual(rec.of('gap')[0].gap, { streamOffset: 6, bytes: 6, frameBefore: 4, frameAfter: 5 });
  assert.equal(rec.text(0, 'client'), 'part1-part3');
});

test('a request missing from the capture: the response ACKs past it, the gap comes before the response', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  s.nextSeq.client += 20; // 20 bytes of request sent, not captured
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\n\r\n', { ackEach: false });
  const { rec } = run(s.packets, {}, false);
  const kinds = rec.events.map((e) => `${e.ev}:${'dir' in e ? e.dir : ''}`);
  assert.deepEqual(kinds, ['gap:client', 'data:server']);
  assert.deepEqual(rec.of('gap')[0].gap, { streamOffset: 0, bytes: 20, frameBefore: null, frameAfter: null });
});

test('a hole before the FIN: gap when the FIN is acknowledged, then end(fin)', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'aaaa', b); // 4
  raw(s, 'client', 'cccc', b + 8); // 5 (bbbb lost)
  s.push(s.segment('client', FIN | ACK, undefined, { seq: b + 12 })); // 6
  s.push(s.segment('server', FIN | ACK, undefined, { ack: b + 13 })); // 7 acknowledges the FIN
  s.push(s.segment('client', ACK, undefined, { seq: b + 13, ack: s.nextSeq.server + 1 })); // 8
  const { rec } = run(s.packets, {}, false);
  assert.deepEqual(rec.of('gap')[0].gap, { streamOffset: 4, bytes: 4, frameBefore: 4, frameAfter: 5 });
  assert.equal(rec.text(0, 'client'), 'aaaacccc');
  assert.deepEqual(rec.of('end').map((e) => [e.dir, e.how, e.frame]), [['client', 'fin', 6], ['server', 'fin', 7]]);
  assert.equal(rec.of('close').length, 1, 'released once both FINs are delivered');
  assert.equal(rec.summary(0).gaps, 1);
});

test('a hole that is never filled nor acknowledged becomes a gap at the end of the capture', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'aaaa', b);
  raw(s, 'client', 'cccc', b + 8);
  const before = run(s.packets, {}, false);
  assert.equal(before.rec.text(0, 'client'), 'aaaa');
  assert.equal(before.rec.of('gap').length, 0, 'a retransmission may still come');
  const { rec, tr } = run(s.packets);
  assert.deepEqual(rec.of('gap')[0].gap, { streamOffset: 4, bytes: 4, frameBefore: 4, frameAfter: 5 });
  assert.equal(rec.text(0, 'client'), 'aaaacccc');
  assert.equal(rec.of('end').length, 0, 'no FIN, no RST: only close()');
  assert.equal(rec.of('close').length, 1);
  assert.deepEqual([tr.stats.gaps, tr.stats.gapBytes], [1, 4]);
});

test('a hole followed by RST: gap, then end(rst) for both directions, then close', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'aaaa', b); // 4
  raw(s, 'client', 'cccc', b + 8); // 5
  s.push(s.segment('server', RST | ACK, undefined, { ack: b + 4 })); // 6
  const { rec } = run(s.packets, {}, false);
  assert.deepEqual(rec.events.map((e) => `${e.ev}:${'dir' in e ? e.dir : ''}`), [
    'data:client', 'gap:client', 'data:client', 'end:client', 'end:server', 'close:',
  ]);
  assert.deepEqual(rec.of('end').map((e) => [e.how, e.frame]), [['rst', 6], ['rst', 6]]);
  assert.deepEqual(rec.summary(0).resets.map((r) => [r.from, r.frame]), [['server', 6]]);
});

test('a retransmission that fills a hole in time is not a gap', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'aaaa', b);
  raw(s, 'client', 'cccc', b + 8);
  s.push(s.segment('server', ACK, undefined, { ack: b + 4 })); // duplicate ACK at the hole
  s.push(s.segment('client', FIN | ACK, undefined, { seq: b + 12 }));
  raw(s, 'client', 'bbbb', b + 4); // retransmitted after the FIN
  const { rec } = run(s.packets);
  assert.equal(rec.of('gap').length, 0);
  assert.equal(rec.text(0, 'client'), 'aaaabbbbcccc');
  assert.deepEqual(rec.of('end').map((e) => [e.dir, e.how]), [['client', 'fin']]);
});

test('a FIN missing from the capture is not reported as a one-byte gap', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  s.send('client', 'GET / HTTP/1.0\r\n\r\n');
  s.nextSeq.client += 1; // the client FIN was not captured
  s.fin('server'); // acknowledges the FIN
  const { rec } = run(s.packets);
  assert.equal(rec.of('gap').length, 0);
  assert.deepEqual(rec.of('end').map((e) => e.dir), ['server']);
});

test('bytes cut by the snap length are a gap inside the segment', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  s.send('client', 'x'.repeat(100), { ackEach: false }); // frame 4
  s.send('client', 'tail', { ackEach: false }); // frame 5
  const cut = s.packets[3];
  s.packets[3] = { ...cut, data: cut.data.subarray(0, cut.data.length - 60), origLen: cut.data.length };
  const { rec } = run(s.packets);
  assert.deepEqual(rec.of('gap')[0].gap, { streamOffset: 40, bytes: 60, frameBefore: 4, frameAfter: null });
  assert.equal(rec.text(0, 'client'), 'x'.repeat(40) + 'tail');
  assert.deepEqual(rec.of('data').map((e) => e.chunk.streamOffset), [0, 100]);
});

test('data carried in a RST is not stream data', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  s.send('client', 'abc');
  s.push(s.segment('server', RST | ACK, Buffer.from('diagnostic')));
  const { rec } = run(s.packets);
  assert.equal(rec.text(0, 'server'), '');
  assert.equal(rec.summary(0).bytes.server, 0);
});

test('a refused connection with SYN retries stays one connection until the end', () => {
  const s = new TcpSession(C, '198.51.100.7:55443', { step: 0.5 });
  for (let i = 0; i < 3; i++) {
    s.push(s.segment('client', SYN));
    s.push(s.segment('server', RST | ACK, undefined, { seq: 0, ack: s.nextSeq.client + 1 }));
  }
  const open = run(s.packets, {}, false);
  assert.equal(open.rec.of('close').length, 0);
  const { rec, tr } = run(s.packets);
  assert.equal(tr.streams, 1);
  const sum = rec.summary(0);
  assert.deepEqual(sum.synFrames, [1, 3, 5]);
  assert.equal(sum.synAckFrame, null);
  assert.deepEqual(sum.resets.map((r) => [r.from, r.frame]), [['server', 2], ['server', 4], ['server', 6]]);
  assert.deepEqual(sum.bytes, { client: 0, server: 0 });
});

test('IPv6 connection', () => {
  const s = new TcpSession('[2001:db8::10]:40000', '[2001:db8::7]:443');
  s.handshake();
  s.send('client', 'hi');
  s.close();
  const { rec } = run(s.packets);
  assert.deepEqual(rec.conns[0].client, { ip: '2001:db8::10', port: 40000 });
  assert.equal(rec.text(0, 'client'), 'hi');
});

test('20,000 simultaneous connections with limits.streams = 100 keep at most 100 open', () => {
  const N = 20_000, LIMIT = 100;
  const sessions: TcpSession[] = [];
  for (let i = 0; i < N; i++) {
    const ip = `10.${(i >> 8) & 255}.${i & 255}.1`;
    sessions.push(new TcpSession(`${ip}:${40000 + (i % 1000)}`, '10.255.255.254:80', { time: 1_700_000_000 }));
  }
  // phase by phase, so that all connections are open at once
  const frames: WrittenPacket[] = [];
  for (const s of sessions) { s.handshake(); frames.push(...s.packets.splice(0)); }
  for (const [i, s] of sessions.entries()) { s.send('client', `req ${i}`, { ackEach: false }); frames.push(...s.packets.splice(0)); }
  for (const s of sessions) { s.close(); frames.push(...s.packets.splice(0)); }
  const rec = new Recorder();
  let limitCalls = 0;
  const tr = new TcpTracker({ limits: { ...DEFAULT_LIMITS, streams: LIMIT }, factory: rec.factory, onLimit: () => limitCalls++ });
  let maxOpen = 0;
  for (const p of decodeAll(frames)) {
    tr.packet(p);
    if (tr.openConnections > maxOpen) maxOpen = tr.openConnections;
  }
  tr.finish();
  assert.equal(tr.streams, N);
  assert.ok(maxOpen <= LIMIT, `max open ${maxOpen}`);
  assert.ok(tr.stats.evicted > N - LIMIT);
  assert.equal(limitCalls, tr.stats.evicted, 'onLimit once per eviction');
  // an evicted connection resumes with its own index when its data comes: every request is delivered
  const byStream = new Map<number, string>();
  for (const e of rec.of('data')) byStream.set(e.stream, (byStream.get(e.stream) ?? '') + e.chunk.data.toString());
  assert.equal(byStream.size, N);
  for (let i = 0; i < N; i += 997) assert.equal(byStream.get(i), `req ${i}`);
  assert.equal(rec.of('close').length, rec.conns.length, 'every connection handed to a handler is closed once');
});

test('interleaved connections keep separate streams in order of first appearance', () => {
  const a = new TcpSession('192.0.2.1:1111', S, { time: 10, step: 0.01 });
  const b = new TcpSession('192.0.2.2:2222', S, { time: 10.005, step: 0.01 });
  a.handshake(); b.handshake();
  a.send('client', 'from a'); b.send('client', 'from b');
  const { rec, streams } = run(interleave(a.packets, b.packets));
  assert.deepEqual(streams.slice(0, 4), [0, 1, 0, 1]);
  assert.equal(rec.text(0, 'client'), 'from a');
  assert.equal(rec.text(1, 'client'), 'from b');
});

test('out-of-order data over limits.reassemblyBytes: the hole becomes a gap and onLimit says so', () => {
  const s = new TcpSession(C, S);
  s.handshake();
  const b = s.nextSeq.client;
  raw(s, 'client', 'a'.repeat(10), b); // 4
  raw(s, 'client', 'c'.repeat(30), b + 20); // 5: 30 bytes held
  raw(s, 'client', 'd'.repeat(30), b + 50); // 6: 60 held > 50
  const { rec, limitCalls } = run(s.packets, { reassemblyBytes: 50 }, false);
  assert.deepEqual(rec.of('gap').map((e) => e.gap), [{ streamOffset: 10, bytes: 10, frameBefore: 4, frameAfter: 5 }]);
  assert.equal(rec.text(0, 'client'), 'a'.repeat(10) + 'c'.repeat(30) + 'd'.repeat(30));
  assert.deepEqual(limitCalls, [['reassembly', { limit: 50, stream: 0, frame: 6 }]]);
});
