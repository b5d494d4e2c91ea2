// Writes the sample captures in samples/ with authcap's own pcap writer (test/lib/samples.ts).
// Run: npm run samples
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allSamples, sampleBytes } from '../test/lib/samples.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'samples');
mkdirSync(dir, { recursive: true });
for (const s of allSamples()) {
  const file = join(dir, `${s.name}.pcap`);
  writeFileSync(file, sampleBytes(s));
  console.log(`${file}  ${s.args.join(' ')}`);
}
