// Gzip-compressed captures: a damaged trailer (bad CRC-32, bad size) loses no packet and is reported
// as capture.malformed after them; a trailer cut short is capture.truncated; concatenated members,
// zero padding and every header flag (FEXTRA/FNAME/FCOMMENT/FHCRC) are read; and the Gunzip stream
// gives the same bytes whatever the input chunking, including splits inside headers and trailers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { writePcap, type WrittenPacket } from '../lib/capture-writer.js';
import { rng } from '../lib/synthetic.js';
import { readInput } from '../../src/capture/open.js';
import { Gunzip, crc32Table, type GzipIssue } from '../../src/capture/gzip.js';
import type { CaptureProblem, RawPacket } from '../../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-gzip-'));

/** Packets of pseudo-random bytes (barely compressible), so a few MB of capture stays a few MB compressed. */
function packets(n: number, size: number, seed = 7): WrittenPacket[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const data = Buffer.alloc(size + (i % 13));
    for (let j = 0; j < data.length; j++) data[j] = (r() * 256) | 0;
    return { time: 1_700_000_000 + i, data };
  });
}

async function read(name: string, bytes: Buffer) {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  const got: Buffer[] = [];
  const problems: CaptureProblem[] = [];
  const order: string[] = [];
  const r = await readInput(f, {
    input: 0,
    firstFrame: 1,
    onPacket: (p: RawPacket) => {
      got.push(Buffer.from(p.data));
      order.push('packet');
    },
    onProblem: (p) => {
      problems.push(p);
      order.push(p.code);
    },
  });
  return { ...r, got, problems, order };
}

function flipCrc(z: Buffer): Buffer {
  const b = Buffer.from(z);
  b.writeUInt32LE(~b.readUInt32LE(b.length - 8) >>> 0, b.length - 8);
  return b;
}

const small = packets(50, 80);
const smallPcap = writePcap(small);

test('bad CRC-32 in a small file: every packet analysed, then one capture.malformed naming both CRCs', async () => {
  const z = zlib.gzipSync(smallPcap);
  const r = await read('crc-small.pcap.gz', flipCrc(z));
  assert.equal(r.summary.packets, 50);
  assert.deepEqual(r.got, small.map((p) => p.data), 'every packet, byte for byte');
  assert.deepEqual(r.order, [...Array(50).fill('packet'), 'capture.malformed'], 'the problem comes after the last packet');
  const p = r.problems[0];
  assert.equal(p.frame, 50, 'names the last frame');
  assert.equal(p.evidence?.storedCrc32, (~z.readUInt32LE(z.length - 8) >>> 0).toString(16).padStart(8, '0'));
  assert.equal(p.evidence?.computedCrc32, z.readUInt32LE(z.length - 8).toString(16).padStart(8, '0'));
  assert.match(p.message, /CRC-32/);
  assert.equal(r.summary.compressed, true);
  assert.equal(r.summary.bytes, smallPcap.length);
});

test('bad CRC-32 in a multi-MB file: the last chunk is not lost', async () => {
  const big = packets(4000, 1400, 11);
  const pcap = writePcap(big);
  assert.ok(pcap.length > 5 << 20);
  const r = await read('crc-big.pcap.gz', flipCrc(zlib.gzipSync(pcap, { level: 1 })));
  assert.equal(r.summary.packets, 4000);
  assert.equal(r.summary.bytes, pcap.length);
  assert.deepEqual(r.got[3999], big[3999].data, 'the last packet arrives intact');
  assert.deepEqual(r.problems.map((p) => p.code), ['capture.malformed']);
  assert.equal(r.order.at(-1), 'capture.malformed');
});

test('bad ISIZE (length mod 2^32) in the trailer: capture.malformed, every packet analysed', async () => {
  const z = Buffer.from(zlib.gzipSync(smallPcap));
  z.writeUInt32LE(smallPcap.length + 1, z.length - 4);
  const r = await read('isize.pcap.gz', z);
  assert.equal(r.summary.packets, 50);
  assert.deepEqual(r.problems.map((p) => p.code), ['capture.malformed']);
  assert.equal(r.problems[0].evidence?.storedSize, smallPcap.length + 1);
  assert.equal(r.problems[0].evidence?.decompressedSize, smallPcap.length);
  assert.match(r.problems[0].message, /size/);
  assert.doesNotMatch(r.problems[0].message, /CRC-32/, 'the CRC itself is right');
});

test('two concatenated gzip members (split inside a record) read as one capture, no problem', async () => {
  const cutAt = 24 + 16 + 40; // inside the first record's data
  const z = Buffer.concat([zlib.gzipSync(smallPcap.subarray(0, cutAt)), zlib.gzipSync(smallPcap.subarray(cutAt))]);
  const r = await read('two.pcap.gz', z);
  assert.equal(r.summary.packets, 50);
  assert.deepEqual(r.got, small.map((p) => p.data));
  assert.deepEqual(r.problems, []);
});

test('concatenated members: a bad CRC in the first is reported once, the second still read', async () => {
  const half = 24 + 25 * (16 + 80) + 150;
  const a = flipCrc(zlib.gzipSync(smallPcap.subarray(0, half)));
  const z = Buffer.concat([a, zlib.gzipSync(smallPcap.subarray(half))]);
  const r = await read('two-bad.pcap.gz', z);
  assert.equal(r.summary.packets, 50);
  assert.deepEqual(r.problems.map((p) => [p.code, p.evidence?.member]), [['capture.malformed', 1]]);
});

test('trailer cut short: every packet analysed, capture.truncated (not malformed)', async () => {
  const z = zlib.gzipSync(smallPcap);
  for (const drop of [3, 8]) {
    const r = await read(`trailer-${drop}.pcap.gz`, z.subarray(0, z.length - drop));
    assert.equal(r.summary.packets, 50, `dropping ${drop}: every packet`);
    assert.deepEqual(r.problems.map((p) => p.code), ['capture.truncated'], `dropping ${drop} trailer bytes`);
    assert.equal(r.problems[0].frame, 50);
  }
});

test('zero padding after the last member is ignored; other trailing bytes are reported, packets kept', async () => {
  const z = zlib.gzipSync(smallPcap);
  const padded = await read('padded.pcap.gz', Buffer.concat([z, Buffer.alloc(512)]));
  assert.equal(padded.summary.packets, 50);
  assert.deepEqual(padded.problems, []);
  const junk = await read('junk.pcap.gz', Buffer.concat([z, Buffer.from('garbage!')]));
  assert.equal(junk.summary.packets, 50);
  assert.deepEqual(junk.problems.map((p) => p.code), ['capture.malformed']);
  assert.match(junk.problems[0].message, /not gzip/);
});

/** A gzip member written by hand with every optional header field (RFC 1952 2.3.1). */
function fullHeaderMember(data: Buffer, hcrc: 'good' | 'bad' = 'good'): Buffer {
  const extra = Buffer.from([0x41, 0x70, 4, 0, 1, 2, 3, 4]); // SI1 SI2 LEN data
  const fixed = Buffer.from([0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3]);
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(extra.length);
  const head = Buffer.concat([fixed, xlen, extra, Buffer.from('capture.pcap\0'), Buffer.from('a comment\0')]);
  const h = Buffer.alloc(2);
  h.writeUInt16LE((zlib.crc32(head) & 0xffff) ^ (hcrc === 'bad' ? 1 : 0));
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, h, zlib.deflateRawSync(data), trailer]);
}

test('a header with FEXTRA, FNAME, FCOMMENT and FHCRC is read; a bad header CRC-16 is refused', async () => {
  const r = await read('flags.pcap.gz', fullHeaderMember(smallPcap));
  assert.equal(r.summary.packets, 50);
  assert.deepEqual(r.problems, []);
  await assert.rejects(read('flags-bad.pcap.gz', fullHeaderMember(smallPcap, 'bad')), /gzip data is corrupt.*header CRC-16/);
});

test('corrupt deflate data part-way: packets before it analysed, capture.malformed', async () => {
  const big = writePcap(packets(3000, 300, 3));
  const z = Buffer.from(zlib.gzipSync(big, { level: 1 }));
  z.fill(0xff, z.length >> 1, (z.length >> 1) + 64);
  const r = await read('corrupt.pcap.gz', z);
  assert.ok(r.summary.packets > 100 && r.summary.packets < 3000, `${r.summary.packets}`);
  assert.ok(r.problems.some((p) => p.code === 'capture.malformed'), r.problems.map((p) => p.code).join());
});

test('a gzip stream that is not a capture: one-line error', async () => {
  await assert.rejects(read('text.gz', zlib.gzipSync('hello, this is text and not a capture file\n')), /not a pcap or pcapng file.*gzip-compressed/);
});

async function gunzipPieces(z: Buffer, cuts: number[]): Promise<{ out: Buffer; issues: GzipIssue[] }> {
  const parts: Buffer[] = [];
  const issues: GzipIssue[] = [];
  const g = new Gunzip({ onData: (c) => parts.push(Buffer.from(c)), onIssue: (i) => issues.push(i) }, 64);
  let prev = 0;
  for (const c of [...cuts, z.length]) {
    await g.write(z.subarray(prev, c));
    prev = c;
  }
  await g.end();
  return { out: Buffer.concat(parts), issues };
}

test('Gunzip: the same output for every split of a two-member stream (header, deflate end, trailer)', async () => {
  const a = Buffer.from('first member: ' + 'x'.repeat(300));
  const b = Buffer.from('second member, with a name');
  const z = Buffer.concat([zlib.gzipSync(a), fullHeaderMember(b)]);
  const want = Buffer.concat([a, b]);
  for (let cut = 1; cut < z.length; cut++) {
    const r = await gunzipPieces(z, [cut]);
    assert.deepEqual(r.out, want, `split at ${cut}`);
    assert.deepEqual(r.issues, [], `split at ${cut}`);
  }
  const bytewise = await gunzipPieces(z, Array.from({ length: z.length - 1 }, (_, i) => i + 1));
  assert.deepEqual(bytewise.out, want, 'one byte at a time');
});

test('table CRC-32 (for Node without zlib.crc32) matches zlib, also when continued', () => {
  const d = Buffer.from(packets(1, 5000)[0].data);
  assert.equal(crc32Table(d, 0), zlib.crc32(d));
  assert.equal(crc32Table(d.subarray(1000), crc32Table(d.subarray(0, 1000), 0)), zlib.crc32(d));
  assert.equal(crc32Table(Buffer.from('123456789'), 0), 0xcbf43926); // the standard check value
});
