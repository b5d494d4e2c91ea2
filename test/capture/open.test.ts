// readInput: files, gzip (detected by magic, not name), cut-short gzip, and unreadable inputs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writePcap, writePcapng, type WrittenPacket } from '../lib/capture-writer.js';
import { InputError, readInput } from '../../src/capture/open.js';
import type { CaptureProblem, RawPacket } from '../../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-open-'));
const pkts: WrittenPacket[] = Array.from({ length: 50 }, (_, i) => ({ time: 1_700_000_000 + i, data: Buffer.alloc(60 + i, i) }));

async function read(file: string, firstFrame = 1) {
  const frames: number[] = [];
  const sizes: number[] = [];
  const problems: CaptureProblem[] = [];
  const r = await readInput(file, {
    input: 0,
    firstFrame,
    onPacket: (p: RawPacket) => {
      frames.push(p.frame);
      sizes.push(p.data.length);
    },
    onProblem: (p) => problems.push(p),
  });
  return { ...r, frames, sizes, problems };
}

test('plain pcap file: summary names the file, counts packets and bytes', async () => {
  const f = join(dir, 'a.pcap');
  const data = writePcap(pkts);
  writeFileSync(f, data);
  const r = await read(f, 5);
  assert.equal(r.summary.file, f);
  assert.equal(r.summary.format, 'pcap');
  assert.equal(r.summary.packets, 50);
  assert.equal(r.summary.bytes, data.length);
  assert.equal(r.summary.compressed, undefined);
  assert.equal(r.frames[0], 5);
  assert.equal(r.nextFrame, 55);
  assert.deepEqual(r.sizes, pkts.map((p) => p.data.length));
});

test('gzip is detected by its magic bytes whatever the name, and counted decompressed', async () => {
  const f = join(dir, 'no-gz-suffix.cap');
  const data = writePcapng(pkts);
  writeFileSync(f, gzipSync(data));
  const r = await read(f);
  assert.equal(r.summary.format, 'pcapng');
  assert.equal(r.summary.compressed, true);
  assert.equal(r.summary.packets, 50);
  assert.equal(r.summary.bytes, data.length);
  assert.deepEqual(r.problems, []);
});

test('a gzip stream cut short -> capture.truncated, packets before the cut analysed', async () => {
  const f = join(dir, 'cut.pcap.gz');
  const big = writePcap(Array.from({ length: 3000 }, (_, i) => ({ time: 1_700_000_000 + i, data: Buffer.alloc(200, i & 0xff) })));
  const gz = gzipSync(big, { level: 1 });
  writeFileSync(f, gz.subarray(0, Math.floor(gz.length / 2)));
  const r = await read(f);
  assert.ok(r.summary.packets > 0 && r.summary.packets < 3000, `${r.summary.packets}`);
  assert.deepEqual(r.problems.map((p) => p.code), ['capture.truncated']);
});

test('not a capture -> InputError naming the file and its first bytes', async () => {
  const f = join(dir, 'page.pcap');
  writeFileSync(f, '<html><body>nope</body></html>');
  await assert.rejects(read(f), (e: unknown) => e instanceof InputError && e.message === `authcap: cannot read '${f}': not a pcap or pcapng file (starts with 3c 68 74 6d)`);
});

test('missing file and directory -> InputError with a one-line reason', async () => {
  const missing = join(dir, 'nope.pcap');
  await assert.rejects(read(missing), (e: unknown) => e instanceof InputError && e.message === `authcap: cannot read '${missing}': no such file`);
  await assert.rejects(read(dir), (e: unknown) => e instanceof InputError && e.message === `authcap: cannot read '${dir}': is a directory`);
});

test('an empty file -> InputError', async () => {
  const f = join(dir, 'empty.pcap');
  writeFileSync(f, '');
  await assert.rejects(read(f), InputError);
});
