// tcp.stream numbering: the expected index of every frame is written by hand from Wireshark 4.0's rules,
// checked against the tracker, and (when tshark is installed) against tshark on the same frames.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, RST, SYN, TcpSession, ethernet, interleave, ipv4, tcp } from '../lib/packets.js';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { DEFAULT_LIMITS } from '../../src/types.js';
import { TcpTracker } from '../../src/flows/tcp-tracker.js';
import { Recorder, decodeAll, tsharkStreams } from './helpers.js';

const C = '192.0.2.10:51234';
const S = '198.51.100.7:80';

function check(frames: WrittenPacket[], expected: number[]) {
  const rec = new Recorder();
  const tr = new TcpTracker({ limits: DEFAULT_LIMITS, factory: rec.factory });
  const got = decodeAll(frames).map((p) => tr.packet(p));
  tr.finish();
  assert.deepEqual(got, expected, 'tracker');
  assert.equal(tr.streams, Math.max(...expected) + 1);
  const ts = tsharkStreams(frames);
  if (ts) assert.deepEqual(ts, expected, 'tshark');
  return { rec, tr };
}

/** Concatenate sessions one after the other in time. */
function seq(...sessions: TcpSession[]): WrittenPacket[] {
  return sessions.flatMap((s) => s.packets);
}

test('port reuse after FIN with a new ISN is a new stream; after it, the old final ACK gets the new index', () => {
  const a = new TcpSession(C, S, { isn: [1000, 5000] });
  a.handshake(); a.send('client', 'one'); a.fin('client'); a.fin('server'); // 1-7
  const b = new TcpSession(C, S, { isn: [90000, 70000], time: a.time + 1 });
  b.handshake(); b.send('client', 'two'); // 8-12
  a.time = b.time + 1;
  a.ack('client'); // 13: the first connection's last ACK, after the new SYN: Wireshark finds the newest conversation
  const frames = [...a.packets.slice(0, 7), ...b.packets, a.packets[7]];
  const { rec } = check(frames, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.equal(rec.text(0, 'client'), 'one');
  assert.equal(rec.text(1, 'client'), 'two');
  assert.deepEqual(rec.conns.map((c) => c.stream), [0, 1]);
});

test('late packets of a released connection keep its index and open nothing', () => {
  const a = new TcpSession(C, S, { isn: [1000, 5000] });
  a.handshake(); a.send('client', 'one'); a.fin('client'); a.fin('server'); // 1-7: released here
  a.ack('client'); // 8: final ACK
  a.push(a.segment('server', 0x11 /* FIN|ACK */, undefined, { seq: a.nextSeq.server - 1 })); // 9: retransmitted FIN
  const { rec } = check(a.packets, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(rec.conns.map((c) => c.stream), [0]);
  assert.equal(rec.summary(0).lastFrame, 7);
});

test('port reuse after RST with a new ISN is a new stream', () => {
  const a = new TcpSession(C, S, { isn: [1000, 5000] });
  a.handshake(); a.send('client', 'one'); a.rst('client'); // 1-6
  const b = new TcpSession(C, S, { isn: [2000, 6000], time: a.time + 1 });
  b.handshake(); // 7-9
  const { rec } = check(seq(a, b), [0, 0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(rec.summary(0).resets.map((r) => r.from), ['client']);
});

test('a retransmitted SYN (same ISN) stays in the same stream', () => {
  const s = new TcpSession(C, S, { step: 1 });
  s.push(s.segment('client', SYN));
  s.push(s.segment('client', SYN));
  s.handshake(); // SYN again, SYN-ACK, ACK
  s.send('client', 'x');
  const { rec } = check(s.packets, [0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(rec.summary(0).synFrames, [1, 2, 3]);
});

test('Wireshark 4.0: a SYN with the same ISN after FIN or RST keeps the stream index', () => {
  const a = new TcpSession(C, S, { isn: [1000, 5000] });
  a.handshake(); a.send('client', 'one'); a.close(); // 1-8
  const b = new TcpSession(C, S, { isn: [1000, 5000], time: a.time + 1 });
  b.handshake(); b.send('client', 'two'); b.rst('server'); // 9-14
  const c = new TcpSession(C, S, { isn: [1000, 5000], time: b.time + 1 });
  c.handshake(); c.send('client', 'three'); // 15-19
  const { rec } = check(seq(a, b, c), [...Array(19).fill(0)]);
  // three connections for the handlers, all with index 0
  assert.deepEqual(rec.conns.map((x) => x.stream), [0, 0, 0]);
  assert.deepEqual(['one', 'two', 'three'].map((t, i) => rec.of('close')[i].summary.bytes.client), [3, 3, 5]);
});

test('SYN from the former server side with a new ISN; a SYN-ACK with a new ISN moves the base', () => {
  const a = new TcpSession(C, S, { isn: [1000, 5000] });
  a.handshake(); // 1-3
  a.push(a.segment('server', SYN | ACK, undefined, { seq: 8000 })); // 4: new server base 8000
  a.push(a.segment('server', SYN, undefined, { seq: 8000 })); // 5: same as the moved base: same stream
  a.push(a.segment('server', SYN, undefined, { seq: 4242 })); // 6: new stream
  check(a.packets, [0, 0, 0, 0, 0, 1]);
});

test('mid-stream start: the base comes from seq-1 and from the peer ACK-1', () => {
  const s = new TcpSession(C, S, { isn: [3000, 7000] });
  s.nextSeq.client = 3001;
  s.send('server', 'HTTP/1.1 200 OK\r\n\r\n', { ackEach: false }); // 1: client base = ack-1 = 3000
  s.push(s.segment('client', SYN, undefined, { seq: 3000 })); // 2: equals the base: same stream
  s.push(s.segment('client', SYN, undefined, { seq: 3001 })); // 3: differs: new stream
  s.push(s.segment('server', RST | ACK, undefined, { seq: 0, ack: 3002 })); // 4
  check(s.packets, [0, 0, 1, 1]);
});

test('interleaved connections and a reused port number in order of first appearance', () => {
  const a = new TcpSession('192.0.2.1:1111', S, { time: 10, step: 0.01 });
  const b = new TcpSession('192.0.2.2:2222', S, { time: 10.005, step: 0.01 });
  a.handshake(); b.handshake(); a.rst('client'); b.close();
  const a2 = new TcpSession('192.0.2.1:1111', S, { time: 11, isn: [99, 77] });
  a2.push(a2.segment('client', SYN)); // unanswered
  check(interleave(a.packets, b.packets, a2.packets), [0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 2]);
});

test('a TCP header longer than its segment is numbered but sets no base sequence number', () => {
  const s = new TcpSession(C, S, { isn: [1000, 5000] });
  const seg = tcp(Buffer.alloc(0), { sport: 51234, dport: 80, seq: 7, flags: SYN });
  seg[12] = 0xa0; // 40-byte header in a 20-byte segment
  s.push(ethernet(ipv4(seg, { src: '192.0.2.10', dst: '198.51.100.7', proto: 6 }))); // 1
  s.handshake(); // 2-4: SYN seq 1000 != 7 but no base was set: same stream
  s.send('client', 'x'); // 5-6
  const { rec } = check(s.packets, [0, 0, 0, 0, 0, 0]);
  assert.equal(rec.conns.length, 1);
  assert.equal(rec.conns[0].firstFrame, 2);
  assert.equal(rec.text(0, 'client'), 'x');
});

test('many distinct addresses: the address ids are reassigned without changing any index', () => {
  // 40 connections from 40 client addresses; each is released, then its final ACK comes after all the
  // others started, and a reused port with a new ISN opens a new index at the end.
  const sessions: TcpSession[] = [];
  for (let i = 0; i < 40; i++) {
    const s = new TcpSession(`10.9.${i >> 8}.${(i & 255) + 1}:${40000 + i}`, `198.51.100.${(i % 3) + 1}:80`, { isn: [1000 + i, 9000 + i], time: 1_700_000_000 + i });
    s.handshake(); s.send('client', `req ${i}`); s.send('server', `res ${i}`); s.fin('client'); s.fin('server');
    sessions.push(s);
  }
  const frames = sessions.flatMap((s) => s.packets);
  const expected = sessions.flatMap((s, i) => s.packets.map(() => i));
  for (const [i, s] of sessions.entries()) {
    frames.push({ time: 1_700_000_100 + i, data: s.segment('client', ACK) }); // final ACK: same index
    expected.push(i);
  }
  const again = new TcpSession('10.9.0.1:40000', '198.51.100.1:80', { isn: [777, 888], time: 1_700_000_200 });
  again.handshake();
  frames.push(...again.packets);
  expected.push(40, 40, 40);
  check(frames, expected);
  // the same with an id table of 4 addresses: reassigned on almost every new address
  const tr = new TcpTracker({ limits: DEFAULT_LIMITS, factory: new Recorder().factory, addressIdLimit: 4 });
  assert.deepEqual(decodeAll(frames).map((p) => tr.packet(p)), expected);
  assert.equal(tr.streams, 41);
});
