// tshark as an oracle for the TLS tests (skipped where tshark is not installed).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_TSHARK = !spawnSync('tshark', ['-v'], { stdio: 'ignore' }).error;

/** tshark -T fields over a pcap (with an optional key log); null when tshark is not installed. */
export function tsharkFields(pcap: Buffer, filter: string, fields: string[], o: { keylog?: string; extra?: string[] } = {}): string[][] | null {
  if (!HAVE_TSHARK) return null;
  const dir = mkdtempSync(join(tmpdir(), 'authcap-tls-'));
  try {
    writeFileSync(join(dir, 'f.pcap'), pcap);
    const args = [...(o.extra ?? [])];
    if (o.keylog !== undefined) {
      writeFileSync(join(dir, 'keys.txt'), o.keylog);
      args.push('-o', `tls.keylog_file:${join(dir, 'keys.txt')}`);
    }
    const r = spawnSync('tshark', [...args, '-r', join(dir, 'f.pcap'), '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Frames tshark shows HTTP at, decrypting with the key log; null when tshark is not installed. */
export function tsharkHttpFrames(pcap: Buffer, keylog: string, extra: string[] = []): number[] | null {
  const rows = tsharkFields(pcap, 'http', ['frame.number'], { keylog, extra });
  return rows && rows.map((r) => Number(r[0]));
}
