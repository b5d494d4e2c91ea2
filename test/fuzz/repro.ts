// Reproduces one fuzz case: `node dist/test/fuzz/repro.js <seed> [outfile]` writes its capture (and key
// log, if any) and prints the authcap command line with the case's options. Copy a failing one into
// test/fuzz/regressions/ (with its arguments in a .args file) once it is small.

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareBombs } from './bases.js';
import { describeCase, makeCase, type FuzzCase } from './cases.js';

const FLAG: Record<string, string> = {
  bodyBytes: '--max-body', headerBytes: '--max-header', decompressedBytes: '--max-decompressed',
  reassemblyBytes: '--max-reassembly', streams: '--max-streams', fragments: '--max-fragments',
};

/** The CLI arguments equivalent to a case's analysis options (the key log written beside `file`). */
export function caseArgs(c: FuzzCase, file: string): string[] {
  const args: string[] = [];
  if (c.options.key) args.push('--key', c.options.key);
  if (c.options.password) args.push('--password', c.options.password);
  if (c.options.keylog) {
    writeFileSync(`${file}.keylog`, c.options.keylog);
    args.push('--keylog', `${file}.keylog`);
  }
  for (const [k, v] of Object.entries(c.options.limits ?? {})) args.push(FLAG[k], String(v));
  return args;
}

async function main(): Promise<void> {
  const seed = Number(process.argv[2]);
  if (!Number.isInteger(seed)) {
    process.stderr.write('usage: node dist/test/fuzz/repro.js <seed> [outfile]\n');
    process.exitCode = 2;
    return;
  }
  await prepareBombs();
  const c = makeCase(seed);
  const file = process.argv[3] ?? join(tmpdir(), `authcap-fuzz-${seed}${c.container.endsWith('.gz') ? '.pcap.gz' : c.container.startsWith('pcapng') ? '.pcapng' : '.pcap'}`);
  writeFileSync(file, c.bytes);
  const args = caseArgs(c, file);
  process.stdout.write(`${describeCase(c)}${c.witness ? ' [witness: the sms-gateway findings must survive]' : ''}\n`);
  process.stdout.write(`node bin/authcap.js ${[file, ...args, '--format', 'json'].map((a) => (/^[\w./:=+-]+$/.test(a) ? a : `'${a}'`)).join(' ')}\n`);
}

if (process.argv[1]?.endsWith('repro.js')) void main();
