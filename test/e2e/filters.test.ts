// --host, --port, --stream, --since/--until: they narrow what is reported, never how it is numbered
// (frames and tcp.stream stay Wireshark's), and the 401 correlation still sees the whole capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allSamples, sampleBytes } from '../lib/samples.js';
import { runJson } from '../lib/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-filters-'));
const file = join(dir, 'sms.pcap');
writeFileSync(file, sampleBytes(allSamples().find((s) => s.name === 'sms-gateway-missing-user')!));
const all = runJson([file]).report;
const byId = new Map<string, any>(all.exchanges.map((x: any) => [x.id, x]));

function check(args: string[], keep: (x: any) => boolean) {
  const { report } = runJson([file, ...args]);
  const want = all.exchanges.filter(keep);
  assert.ok(want.length > 0 && want.length < all.exchanges.length, `${args.join(' ')}: the filter should select some, not all`);
  // Same exchanges, with the same ids, frames and streams as without the filter.
  assert.deepEqual(report.exchanges.map((x: any) => [x.id, x.stream, x.request.frame]), want.map((x: any) => [x.id, x.stream, x.request.frame]), args.join(' '));
  for (const f of report.findings) if (f.exchange) assert.ok(keep(byId.get(f.exchange)), `${args.join(' ')}: finding ${f.code} about a filtered-out exchange`);
  return report;
}

test('--host keeps what involves that address, with unchanged numbering and correlation', () => {
  const r = check(['--host', '192.0.2.44'], (x) => x.client.startsWith('192.0.2.44:'));
  // The refusals are still explained by comparison with accepted requests from other clients.
  assert.equal(r.findings.filter((f: any) => f.code === 'auth.field-missing').length, 2);
});

test('--port, --stream', () => {
  check(['--port', '40110'], (x) => x.client.endsWith(':40110'));
  check(['--stream', '4'], (x) => x.stream === 4);
});

test('--since and --until select by request time (UTC unless a zone is given)', () => {
  check(['--since', '2024-05-14T09:31:30Z'], (x) => x.request.time >= '2024-05-14T09:31:30');
  check(['--until', '2024-05-14 09:31'], (x) => x.request.time < '2024-05-14T09:31');
  check(['--since', '2024-05-14T11:31:30+02:00'], (x) => x.request.time >= '2024-05-14T09:31:30');
});

test('a bad time is a usage error', () => {
  const r = runJson([file, '--fail-on', 'none']); // sanity: the file is fine
  assert.equal(r.code, 0);
  assert.throws(() => runJson([file, '--since', 'yesterday-ish']), /printed no JSON \(exit 2\)/);
});
