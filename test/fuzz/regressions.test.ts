// Runs the saved fuzz regressions (test/fuzz/regressions/*) through the built CLI in every format:
// exit 0, 1 or 2 only, no internal error, valid JSON that keeps the report contract, and for the
// ones whose meaning is known, the findings a user would expect.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/paths.js';
import { runCli } from '../lib/run-cli.js';
import { contractViolation } from './worker.js';

const DIR = join(ROOT, 'test', 'fuzz', 'regressions');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /\.(pcap|pcapng|gz)$/.test(f)).sort() : [];

/** Codes that must be in the report (the captures were built to show them). */
const EXPECT: Record<string, string[]> = {
  'jwt-exp-out-of-range.pcap': ['http.unauthorized'],
  'jwt-iat-out-of-range.pcap': ['http.unauthorized', 'auth.token-expired'],
  'pcapng-timestamp-out-of-range.pcapng': ['http.unauthorized'],
  'pcapng-all-timestamps-out-of-range.pcapng': ['http.unauthorized'],
};

test('there are regression captures to run', () => {
  assert.ok(files.length >= 4, `found ${files.length} in ${DIR}`);
});

for (const f of files) {
  test(`fuzz regression ${f}`, () => {
    const path = join(DIR, f);
    const extra: string[] = existsSync(`${path}.args`) ? JSON.parse(readFileSync(`${path}.args`, 'utf8')) : [];
    const json = runCli([path, ...extra, '--format', 'json'], { timeoutMs: 30_000 });
    assert.ok([0, 1, 2].includes(json.code), `exit ${json.code}: ${json.stderr}`);
    assert.doesNotMatch(json.stderr, /internal error/);
    if (json.code === 2) {
      assert.match(json.stderr, /^authcap: [^\n]+\n$/, 'one clear line on stderr');
      return;
    }
    const report = JSON.parse(json.stdout);
    assert.equal(contractViolation(report), null);
    const codes = new Set(report.findings.map((x: { code: string }) => x.code));
    for (const c of EXPECT[f] ?? []) assert.ok(codes.has(c), `${c} expected, got ${[...codes].join(', ')}`);
    for (const format of ['table', 'markdown', 'html']) {
      const r = runCli([path, ...extra, '--format', format], { timeoutMs: 30_000 });
      assert.equal(r.code, json.code, `--format ${format}: exit ${r.code}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0, `--format ${format} printed nothing`);
    }
  });
}
