// Cross-check: our reader and the pcap-parser package agree on packets, time stamps and bytes for
// the classic microsecond captures pcap-parser can read (a generated one, and the shared corpus's
// undamaged ones).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../lib/capture-writer.js';
import { readInput } from '../../src/capture/open.js';

interface PcapParserPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface PcapParserEmitter {
  on(ev: 'packet', f: (p: PcapParserPacket) => void): this;
  on(ev: 'end', f: () => void): this;
  on(ev: 'error', f: (e: Error) => void): this;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(path: string): PcapParserEmitter };

function fingerprint(sec: number, usec: number, cap: number, orig: number, data: Buffer): string {
  return `${sec}.${usec} ${cap}/${orig} ${createHash('sha1').update(data).digest('hex')}`;
}

function theirs(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    pcapParser
      .parse(path)
      .on('packet', (p) => out.push(fingerprint(p.header.timestampSeconds, p.header.timestampMicroseconds, p.header.capturedLength, p.header.originalLength, p.data)))
      .on('end', () => resolve(out))
      .on('error', reject);
  });
}

async function ours(path: string): Promise<{ prints: string[]; damaged: boolean }> {
  const prints: string[] = [];
  let damaged = false;
  await readInput(path, {
    input: 0,
    firstFrame: 1,
    onPacket: (p) => prints.push(fingerprint(p.time.sec, p.time.nsec / 1000, p.capLen, p.origLen, p.data)),
    onProblem: (p) => {
      if (p.code !== 'capture.snaplen') damaged = true;
    },
  });
  return { prints, damaged };
}

test('pcap-parser agrees on a generated µs capture (both byte orders)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'authcap-xcheck-'));
  const pkts = Array.from({ length: 500 }, (_, i) => ({ time: 1_600_000_000 + i * 0.001234, data: Buffer.alloc(40 + (i % 300), i & 0xff), origLen: 40 + (i % 300) + (i % 7) }));
  for (const bigEndian of [false, true]) {
    const f = join(dir, `g${bigEndian ? 'be' : 'le'}.pcap`);
    writeFileSync(f, writePcap(pkts, { bigEndian }));
    const a = await ours(f);
    const b = await theirs(f);
    assert.equal(a.prints.length, 500);
    assert.deepEqual(a.prints, b);
  }
});

test('pcap-parser agrees on the corpus µs pcap files', async (t) => {
  const corpus = '/work/shared/corpus';
  if (!existsSync(join(corpus, 'MANIFEST.tsv'))) {
    t.skip(`${corpus} not found`);
    return;
  }
  const rows = readFileSync(join(corpus, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  let compared = 0;
  for (const [file, , , , , format] of rows) {
    if (!/^pcap usec/.test(format) || !existsSync(join(corpus, file))) continue;
    const a = await ours(join(corpus, file));
    if (a.damaged) continue; // pcap-parser drops a cut-short record silently and cannot stop at a bogus one
    const b = await theirs(join(corpus, file));
    assert.deepEqual(a.prints, b, file);
    compared++;
  }
  console.log(`pcap-parser cross-check: ${compared} corpus captures agree packet for packet`);
  assert.ok(compared > 0);
});
