// Reassembler on its own: one direction's ordering, first-seen overlaps, the out-of-order bound, ACK-past
// holes, FIN handling and flush, with sequence numbers chosen by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamChunk, TcpGap, Timestamp } from '../../src/types.js';
import { Reassembler, SegmentKind, MAX_PENDING_PIECES } from '../../src/flows/reassembler.js';

const SYN = 0x02, FIN = 0x01, ACK = 0x10;
const T: Timestamp = { sec: 1, nsec: 0, digits: 6 };

function make(limit = 1 << 20) {
  const out: (string | TcpGap)[] = [];
  const chunks: StreamChunk[] = [];
  let fin: number | null = null;
  const r = new Reassembler(limit, {
    data: (c) => { chunks.push(c); out.push(c.data.toString('latin1')); },
    gap: (g) => out.push(g),
    fin: (f) => { fin = f; },
  });
  return { r, out, chunks, fin: () => fin };
}

const b = (s: string) => Buffer.from(s, 'latin1');

test('delivers in order from the byte after the SYN: in-order bytes as a view, held bytes copied', () => {
  const { r, out, chunks } = make();
  r.segment(100, SYN, b(''), 0, 1, T);
  const src = b('abc');
  assert.equal(r.segment(101, ACK, src, 0, 2, T), SegmentKind.New);
  src.fill(0x7a); // the caller's buffer is reused after the call
  const held = b('def');
  assert.equal(r.segment(107, ACK, held, 0, 3, T), SegmentKind.OutOfOrder);
  held.fill(0x7a);
  r.segment(104, ACK, b('XYZ'), 0, 4, T);
  assert.deepEqual(out, ['abc', 'XYZ', 'def']);
  // in order: the handler gets a view of the caller's payload, valid during the call only (no copy per segment)
  assert.ok(chunks[0].data.buffer === src.buffer && chunks[0].data.byteOffset === src.byteOffset, 'in-order bytes are not copied');
  assert.equal(chunks[0].data.toString(), 'zzz', 'so a handler must copy what it keeps');
  // buffered out of order: the reassembler's own copy, unaffected by the caller reusing its buffer
  assert.equal(chunks[2].data.toString(), 'def');
  assert.deepEqual(chunks.map((c) => [c.streamOffset, c.frames[0]]), [[0, 2], [3, 4], [6, 3]]);
});

test('data before the initial sequence number is ignored', () => {
  const { r, out } = make();
  r.segment(5000, ACK, b('mid'), 0, 1, T); // mid-stream: offset 0 is seq 5000
  assert.equal(r.segment(4990, ACK, b('0123456789'), 0, 2, T), SegmentKind.Ignored);
  r.segment(4998, ACK, b('..midX'), 0, 3, T); // straddles the start: only the new byte counts
  assert.deepEqual(out, ['mid', 'X']);
});

test('a start taken from a segment without data moves back to the first data (corrupt or early pure ACK)', () => {
  const { r, out, chunks } = make();
  r.segment(9000, ACK, b(''), 0, 1, T); // pure ACK, no SYN seen: its seq is 1000 past the real data
  assert.equal(r.segment(8000, ACK, b('HTTP/1.1 100'), 0, 2, T), SegmentKind.New);
  r.segment(8012, ACK, b(' Continue'), 0, 3, T);
  assert.deepEqual(out, ['HTTP/1.1 100', ' Continue']);
  assert.deepEqual(chunks.map((c) => [c.streamOffset, c.frames[0]]), [[0, 2], [12, 3]]);
  // once data was delivered the start is fixed: older data is pre-capture retransmission
  assert.equal(r.segment(7990, ACK, b('0123456789'), 0, 4, T), SegmentKind.Ignored);
});

test('after a pure-ACK start, a keep-alive byte at start-1 is still ignored; a SYN start is never moved', () => {
  const k = make();
  k.r.segment(5000, ACK, b(''), 0, 1, T);
  assert.equal(k.r.segment(4999, ACK, b('\0'), 0, 2, T), SegmentKind.Ignored);
  k.r.segment(5000, ACK, b('data'), 0, 3, T);
  assert.deepEqual(k.out, ['data']);
  const s = make();
  s.r.segment(5000, SYN, b(''), 0, 1, T); // first byte is seq 5001
  assert.equal(s.r.segment(4000, ACK, b('before the SYN'), 0, 2, T), SegmentKind.Ignored);
  s.r.segment(5001, ACK, b('x'), 0, 3, T);
  assert.deepEqual(s.out, ['x']);
});

test('an acknowledgement taken before the re-basing keeps its place in sequence space', () => {
  const { r, out } = make();
  r.segment(9000, ACK, b(''), 0, 1, T);
  r.ack(8010); // peer got 10 bytes from 8000 on (relative to the bogus start: before it, so nothing yet)
  r.segment(8000, ACK, b('abc'), 0, 2, T); // re-based at 8000; bytes 8003..8010 were acknowledged but not captured
  r.ack(8010);
  r.segment(8010, ACK, b('xyz'), 0, 3, T);
  assert.deepEqual(out, ['abc', { streamOffset: 3, bytes: 7, frameBefore: 2, frameAfter: null }, 'xyz']);
});

test('a segment overlapping several buffered pieces fills only the holes between them', () => {
  const { r, out, chunks } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(3, ACK, b('CC'), 0, 2, T); // offsets 2-3
  r.segment(7, ACK, b('EE'), 0, 3, T); // offsets 6-7
  r.segment(1, ACK, b('aabbccddeeff'), 0, 4, T); // offsets 0-11
  assert.deepEqual(out, ['aa', 'CC', 'cc', 'EE', 'eeff']); // bb and dd lose to the earlier CC and EE
  assert.deepEqual(chunks.map((c) => [c.streamOffset, c.frames[0]]), [[0, 4], [2, 2], [4, 4], [6, 3], [8, 4]]);
});

test('over the out-of-order bound the oldest hole becomes a gap', () => {
  const { r, out } = make(10);
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(1, ACK, b('aa'), 0, 2, T);
  r.segment(6, ACK, b('cccccc'), 0, 3, T); // 6 bytes held, hole at 2..5
  assert.deepEqual(out, ['aa']);
  assert.equal(r.overflowed, false);
  r.segment(13, ACK, b('eeeee'), 0, 4, T); // 11 bytes held > 10: hole 2..5 given up
  assert.equal(r.overflowed, true);
  assert.deepEqual(out, ['aa', { streamOffset: 2, bytes: 3, frameBefore: 2, frameAfter: 3 }, 'cccccc']);
  assert.equal(r.pendingBytes, 5);
  assert.ok(r.pendingBytes <= 10);
});

test('the number of buffered pieces is bounded too', () => {
  const { r, out } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  for (let i = 0; i <= MAX_PENDING_PIECES; i++) r.segment(3 + 2 * i, ACK, b('x'), 0, 2 + i, T); // 1-byte pieces with 1-byte holes
  assert.equal((out[0] as TcpGap).streamOffset, 0);
  assert.equal(out[1], 'x');
});

test('ACK past a hole with data after it: gap; ACK past the end of everything: gap up to the ACK', () => {
  const { r, out } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(1, ACK, b('aa'), 0, 2, T);
  r.segment(5, ACK, b('dd'), 0, 3, T);
  r.ack(3); // not past the hole
  assert.deepEqual(out, ['aa']);
  r.ack(10); // past the hole and past what was captured
  assert.deepEqual(out, [
    'aa', { streamOffset: 2, bytes: 2, frameBefore: 2, frameAfter: 3 }, 'dd',
    { streamOffset: 6, bytes: 3, frameBefore: 3, frameAfter: null },
  ]);
  r.segment(10, ACK, b('late'), 0, 4, T);
  assert.deepEqual(out.slice(4), ['late']);
});

test('one acknowledged byte with nothing after it may be a missed FIN: no gap unless data follows', () => {
  const a = make();
  a.r.segment(0, SYN, b(''), 0, 1, T);
  a.r.segment(1, ACK, b('abc'), 0, 2, T);
  a.r.ack(5);
  a.r.flush();
  assert.deepEqual(a.out, ['abc']);

  const d = make();
  d.r.segment(0, SYN, b(''), 0, 1, T);
  d.r.segment(1, ACK, b('abc'), 0, 2, T);
  d.r.ack(5);
  d.r.segment(5, ACK, b('e'), 0, 3, T); // data after it: it was a lost byte
  assert.deepEqual(d.out, ['abc', { streamOffset: 3, bytes: 1, frameBefore: 2, frameAfter: 3 }, 'e']);
});

test('FIN in sequence ends the direction; data after the FIN is dropped', () => {
  const { r, out, fin } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(4, FIN | ACK, b(''), 0, 3, T); // FIN at offset 3, ahead of the data
  assert.equal(fin(), null);
  r.segment(1, ACK, b('abcdef'), 0, 2, T); // 'def' would be after the FIN
  assert.deepEqual(out, ['abc']);
  assert.equal(fin(), 3);
  assert.equal(r.ended, true);
});

test('flush declares the holes before a FIN and delivers the FIN', () => {
  const { r, out, fin } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(1, ACK, b('a'), 0, 2, T);
  r.segment(3, ACK, b('c'), 0, 3, T);
  r.segment(6, FIN | ACK, b(''), 0, 4, T);
  r.flush();
  assert.deepEqual(out, [
    'a', { streamOffset: 1, bytes: 1, frameBefore: 2, frameAfter: 3 }, 'c',
    { streamOffset: 3, bytes: 2, frameBefore: 3, frameAfter: null },
  ]);
  assert.equal(fin(), 4);
});

test('an ACK absurdly far ahead is ignored', () => {
  const { r, out } = make();
  r.segment(0, SYN, b(''), 0, 1, T);
  r.segment(1, ACK, b('aa'), 0, 2, T);
  r.ack((3 + 2 ** 30 + 1) >>> 0);
  r.segment(3, ACK, b('bb'), 0, 3, T);
  assert.deepEqual(out, ['aa', 'bb']);
});

test('offsets keep counting past 4 GiB of stream', () => {
  const { r, chunks } = make();
  r.segment(0xfffffff0, SYN, b(''), 0, 1, T);
  // pretend 5 GiB went by in order: feed 2 large jumps through the ACK rule
  let seq = 0xfffffff1;
  for (let i = 0; i < 5; i++) {
    seq = (seq + 0x40000000) >>> 0;
    r.ack(seq); // 1 GiB acknowledged each time, never captured
  }
  r.segment(seq, ACK, b('z'), 0, 2, T);
  assert.equal(chunks[0].streamOffset, 5 * 0x40000000);
});
