// The streamed JSON report (what --format json writes) must be the same report as the one rendered
// from memory: same exchanges in the same order, same findings, same redaction; also when it spills
// to a temporary file, and with --show-secrets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { analyze } from '../../src/analyze.js';
import { JsonReportWriter } from '../../src/report/json-stream.js';
import { renderJson } from '../../src/report/json.js';
import { redactReport } from '../../src/report/redact.js';
import { allSamples, sampleBytes } from '../lib/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-jsonstream-'));

async function streamed(file: string, args: { key?: string; password?: string }, o: { redact: boolean; memoryBytes?: number }): Promise<string> {
  const w = new JsonReportWriter(o);
  const { report } = await analyze([file], { ...args, onExchange: (x) => w.exchange(x) });
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (d: Buffer) => parts.push(Buffer.from(d)));
  await w.finish(report, out);
  out.end();
  return Buffer.concat(parts).toString('utf8');
}

async function inMemory(file: string, args: { key?: string; password?: string }, redact: boolean): Promise<string> {
  const { report } = await analyze([file], args);
  return renderJson(redact ? redactReport(report) : report);
}

function argsOf(a: string[]): { key?: string; password?: string } {
  const out: { key?: string; password?: string } = {};
  for (let i = 0; i < a.length; i += 2) (out as Record<string, string>)[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}

test('streamed JSON equals the in-memory report on every sample, redacted and not, in memory and spilled', async () => {
  for (const s of allSamples()) {
    const f = join(dir, `${s.name}.pcap`);
    writeFileSync(f, sampleBytes(s));
    const args = argsOf(s.args);
    for (const redact of [true, false]) {
      const want = JSON.parse(await inMemory(f, args, redact));
      for (const memoryBytes of [undefined, 64]) {
        const text = await streamed(f, args, { redact, memoryBytes });
        const got = JSON.parse(text);
        assert.deepEqual(got, want, `${s.name} redact=${redact} memoryBytes=${memoryBytes}`);
        assert.deepEqual(Object.keys(got), Object.keys(want), `${s.name}: key order`);
      }
    }
  }
});

test('the temporary file is removed after the report is written', async () => {
  const before = readdirSync(tmpdir()).filter((n) => n.startsWith('authcap-spill-')).length;
  const s = allSamples()[0];
  const f = join(dir, 'tmpcheck.pcap');
  writeFileSync(f, sampleBytes(s));
  await streamed(f, {}, { redact: true, memoryBytes: 16 });
  const after = readdirSync(tmpdir()).filter((n) => n.startsWith('authcap-spill-')).length;
  assert.equal(after, before);
});
