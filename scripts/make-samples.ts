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

// The HTTPS sample is a real TLS session (randomised), so it is written once and kept, with its key log.
import { existsSync } from 'node:fs';
import { opensrsTlsSample } from '../test/tls/sample.js';
const tlsFile = join(dir, 'opensrs-tls-trailing-nul.pcap');
if (!existsSync(tlsFile) || process.argv.includes('--tls')) {
  const { pcap, keylog } = await opensrsTlsSample();
  writeFileSync(tlsFile, pcap);
  writeFileSync(join(dir, 'opensrs-tls-trailing-nul.keys.txt'), keylog);
  console.log(`${tlsFile}  --keylog samples/opensrs-tls-trailing-nul.keys.txt`);
}
