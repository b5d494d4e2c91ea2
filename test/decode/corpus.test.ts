// Shared corpus: every HTTP/SIP message tshark decodes (oracle/*.jsonl) sits in a frame that our
// decoder turns into a TCP/UDP packet with the same addresses, ports and transport. This covers
// the corpus's encapsulations: Ethernet, VLAN/QinQ, SLL, SLL2, NULL, raw IP, IPv4 (228), ARCNET,
// and ERSPAN (GRE) with IPv4 fragments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInput } from '../../src/capture/open.js';
import { Decoder } from '../../src/decode/decoder.js';
import { DEFAULT_LIMITS } from '../../src/types.js';

const CORPUS = '/work/shared/corpus';

test('shared corpus: frames of tshark-decoded HTTP/SIP messages decode to the same endpoints', async (t) => {
  if (!existsSync(join(CORPUS, 'oracle'))) {
    t.skip(`${CORPUS} not found`);
    return;
  }
  let messages = 0;
  const failures: string[] = [];
  for (const name of readdirSync(join(CORPUS, 'oracle'))) {
    const lines = readFileSync(join(CORPUS, 'oracle', name), 'utf8').trim().split('\n').filter(Boolean);
    if (lines.length === 0) continue;
    const file = name.replace(/\.jsonl$/, '');
    const seen = new Map<number, string>();
    const dec = new Decoder({ limits: DEFAULT_LIMITS, onProblem: () => {} });
    await readInput(join(CORPUS, file), {
      input: 0,
      firstFrame: 1,
      onPacket: (raw) => {
        const d = dec.decode(raw);
        if (d) seen.set(d.frame, `${d.transport} ${d.src}:${d.srcPort} > ${d.dst}:${d.dstPort}`);
      },
      onProblem: () => {},
    });
    for (const l of lines) {
      const m = JSON.parse(l) as { frame: number; transport: string; src: string; dst: string; sport: number; dport: number };
      messages++;
      const want = `${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport}`;
      if (seen.get(m.frame) !== want) failures.push(`${file} frame ${m.frame}: ${seen.get(m.frame)} != ${want}`);
    }
  }
  console.log(`decode corpus: ${messages - failures.length} of ${messages} tshark messages found in decoded frames`);
  assert.deepEqual(failures.slice(0, 20), []);
});
