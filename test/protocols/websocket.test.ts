// WebSocket framing (RFC 6455 section 5): length forms, masking, fragmentation, control frames, headers and
// payloads split across TCP segments, compressed messages, close, and holes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamChunk, TcpGap } from '../../src/types.js';
import { WebSocketDeframer } from '../../src/protocols/websocket.js';

/** One WebSocket frame as a client (masked) or server (unmasked) sends it. */
function frame(opcode: number, payload: Buffer | string, o: { fin?: boolean; mask?: number[]; rsv1?: boolean; len64?: boolean } = {}): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const b0 = (o.fin === false ? 0 : 0x80) | (o.rsv1 ? 0x40 : 0) | opcode;
  const m = o.mask ? 0x80 : 0;
  let head: Buffer;
  if (o.len64 || p.length > 0xffff) {
    head = Buffer.alloc(10);
    head[1] = m | 127;
    head.writeBigUInt64BE(BigInt(p.length), 2);
  } else if (p.length > 125) {
    head = Buffer.alloc(4);
    head[1] = m | 126;
    head.writeUInt16BE(p.length, 2);
  } else {
    head = Buffer.alloc(2);
    head[1] = m | p.length;
  }
  head[0] = b0;
  if (!o.mask) return Buffer.concat([head, p]);
  const key = Buffer.from(o.mask);
  const body = Buffer.from(p.map((x, i) => x ^ key[i & 3]));
  return Buffer.concat([head, key, body]);
}

/** Feed `bytes` split at `cuts`, piece i in frame 100+i, optionally losing bytes after a piece; collect what comes out. */
function run(bytes: Buffer, cuts: number[] = [], gapAfter?: { piece: number; bytes: number }) {
  const out: { text: string; frames: number[]; offsets: number[]; at: number }[] = [];
  const gaps: TcpGap[] = [];
  const bad: string[] = [];
  const ws = new WebSocketDeframer({
    onData: (c) => out.push({ text: c.data.toString('latin1'), frames: c.frames.slice(), offsets: c.offsets.slice(), at: c.streamOffset }),
    onGap: (g) => gaps.push(g),
    onMalformed: (e) => bad.push(`${e.frame}: ${e.reason}`),
  });
  const bounds = [0, ...cuts, bytes.length];
  let offset = 0;
  let skip = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const data = bytes.subarray(bounds[i] + skip, bounds[i + 1]);
    skip = 0;
    const chunk: StreamChunk = { data, streamOffset: offset, offsets: [0], frames: [100 + i], times: [{ sec: i, nsec: 0, digits: 6 }] };
    ws.push(chunk);
    offset += data.length;
    if (gapAfter?.piece === i) {
      ws.gap({ streamOffset: offset, bytes: gapAfter.bytes, frameBefore: 100 + i, frameAfter: 101 + i });
      offset += gapAfter.bytes;
      skip = gapAfter.bytes; // those bytes were never captured
    }
  }
  return { text: out.map((o) => o.text).join(''), out, gaps, bad };
}

test('masked client frame and unmasked server frame: the payload comes out unmasked', () => {
  const r = run(Buffer.concat([frame(1, 'REGISTER sip:x SIP/2.0\r\n\r\n', { mask: [0x37, 0xfa, 0x21, 0x3d] }), frame(1, 'SIP/2.0 401 Unauthorized\r\n\r\n')]));
  assert.equal(r.text, 'REGISTER sip:x SIP/2.0\r\n\r\nSIP/2.0 401 Unauthorized\r\n\r\n');
  assert.deepEqual(r.bad, []);
});

test('16-bit and 64-bit payload lengths', () => {
  const mid = 'a'.repeat(300);
  const big = 'b'.repeat(70_000);
  const r = run(Buffer.concat([frame(2, mid, { mask: [1, 2, 3, 4] }), frame(2, big), frame(1, 'ok', { len64: true })]));
  assert.equal(r.text, mid + big + 'ok');
});

test('fragmented message with a ping between the fragments; header and masking key split across segments', () => {
  const bytes = Buffer.concat([
    frame(1, 'INVITE sip:b SIP/2.0\r\n', { fin: false, mask: [9, 8, 7, 6] }),
    frame(9, 'ping', { mask: [1, 1, 1, 1] }),
    frame(0, 'Call-ID: c\r\n\r\n', { mask: [5, 6, 7, 8] }),
  ]);
  // Cut inside the first header (after 1 byte), inside the masking key, and inside the last payload.
  const r = run(bytes, [1, 4, bytes.length - 5]);
  assert.equal(r.text, 'INVITE sip:b SIP/2.0\r\nCall-ID: c\r\n\r\n');
  // The payload's bytes keep the frames that carried them, and the output offsets run on without the headers.
  const last = r.out[r.out.length - 1];
  assert.deepEqual([last.frames, last.text], [[103], 'c\r\n\r\n']);
  assert.equal(last.at, r.text.length - 5);
});

test('a close frame ends the stream; a compressed message is skipped and reported once', () => {
  const r = run(Buffer.concat([frame(1, 'xx', { rsv1: true }), frame(0, 'yy'), frame(1, 'kept'), frame(8, '\x03\xe8'), frame(1, 'after close')]));
  assert.equal(r.text, 'kept');
  assert.deepEqual(r.bad, ['100: compressed WebSocket message (permessage-deflate) not decoded']);
});

test('a bad control frame (longer than 125 bytes) stops the framing and is reported', () => {
  const r = run(Buffer.concat([frame(1, 'one'), frame(9, 'p'.repeat(126)), frame(1, 'two')]));
  assert.equal(r.text, 'one');
  assert.equal(r.bad.length, 1);
});

test('a hole inside a payload keeps the framing; a hole that swallows a header loses it', () => {
  const payload = 'x'.repeat(100);
  const inside = run(Buffer.concat([frame(1, payload), frame(1, 'next')]), [40], { piece: 0, bytes: 20 });
  // 38 payload bytes, a 20-byte hole, the remaining 42 bytes and the next frame.
  assert.equal(inside.text, 'x'.repeat(38) + 'x'.repeat(42) + 'next');
  assert.deepEqual(inside.gaps.map((g) => [g.streamOffset, g.bytes]), [[38, 20]]);
  const across = run(Buffer.concat([frame(1, 'abc'), frame(1, 'def')]), [5], { piece: 0, bytes: 3 });
  assert.equal(across.text, 'abc');
  assert.equal(across.gaps.length, 1);
});
