// The streamed JSON report (what --format json writes) must be the same report as the one rendered
// from memory: same exchanges in the same order, same findings, same redaction; also when it spills
// to a temporary file, and with --show-secrets.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { analyze } from '../../src/analyze.js';
import type { Exchange, Report } from '../../src/types.js';
import { JsonReportWriter } from '../../src/report/json-stream.js';
import { renderJson } from '../../src/report/json.js';
import { redactReport } from '../../src/report/redact.js';
import { allSamples, sampleBytes } from '../lib/samples.js';

// The tests below count authcap's temporary directories: a private TMPDIR (os.tmpdir() reads it on
// every call) keeps other authcap runs on the machine, e.g. parallel CI jobs, out of the count.
const privateTmp = mkdtempSync(join(tmpdir(), 'authcap-jsonstream-tmp-'));
process.env.TMPDIR = privateTmp;
const dir = mkdtempSync(join(tmpdir(), 'authcap-jsonstream-'));
after(() => rmSync(privateTmp, { recursive: true, force: true }));

async function streamed(file: string, args: { key?: string; password?: string }, o: { redact: boolean; memoryBytes?: number }): Promise<string> {
  const w = new JsonReportWriter(o);
  const { report } = await analyze([file], { ...args, onExchange: (x) => w.exchange(x) });
  return finished(w, report);
}

/** What the writer writes for `report`, as text. */
async function finished(w: JsonReportWriter, report: Report): Promise<string> {
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

test('with --show-secrets the streamed JSON is byte for byte the in-memory report; spilling changes no byte', async () => {
  for (const s of allSamples()) {
    const f = join(dir, `${s.name}.bytes.pcap`);
    writeFileSync(f, sampleBytes(s));
    const args = argsOf(s.args);
    const want = await inMemory(f, args, false);
    assert.equal(await streamed(f, args, { redact: false }), want, `${s.name}: not spilled`);
    assert.equal(await streamed(f, args, { redact: false, memoryBytes: 64 }), want, `${s.name}: spilled`);
    const redacted = await streamed(f, args, { redact: true });
    assert.equal(await streamed(f, args, { redact: true, memoryBytes: 1 }), redacted, `${s.name}: redacted, spilled`);
  }
});

/** The exchanges and the finished report of one sample, written by `write` (which may hand the writer over). */
async function finishWith(file: string, args: { key?: string; password?: string }, write: (xs: Exchange[]) => JsonReportWriter): Promise<string> {
  const xs: Exchange[] = [];
  const { report } = await analyze([file], { ...args, onExchange: (x) => xs.push(structuredClone(x)) });
  return finished(write(xs), report);
}

test('a writer handed over (handoff, structured clone, resume) writes the same report and removes its file', async () => {
  const spills = () => readdirSync(tmpdir()).filter((n) => n.startsWith('authcap-spill-')).length;
  const before = spills();
  for (const s of allSamples()) {
    const f = join(dir, `${s.name}.handoff.pcap`);
    writeFileSync(f, sampleBytes(s));
    const args = argsOf(s.args);
    for (const memoryBytes of [undefined, 32]) {
      const want = await finishWith(f, args, (xs) => {
        const w = new JsonReportWriter({ redact: true, memoryBytes });
        for (const x of xs) w.exchange(x);
        return w;
      });
      const got = await finishWith(f, args, (xs) => {
        const w = new JsonReportWriter({ redact: true, memoryBytes });
        const half = xs.length >> 1;
        for (const x of xs.slice(0, half)) w.exchange(x);
        const h = structuredClone(w.handoff());
        w.dispose(); // must not remove what was handed over
        const r = JsonReportWriter.resume(h, { memoryBytes });
        for (const x of xs.slice(half)) r.exchange(x);
        return r;
      });
      assert.equal(got, want, `${s.name} memoryBytes=${memoryBytes}`);
    }
  }
  assert.equal(spills(), before);
});

test('the head and exchanges written first (writeHead, as with two threads), then the rest: the same report, byte for byte', async () => {
  for (const s of allSamples()) {
    const f = join(dir, `${s.name}.head.pcap`);
    writeFileSync(f, sampleBytes(s));
    const args = argsOf(s.args);
    for (const redact of [true, false]) {
      for (const memoryBytes of [undefined, 32]) {
        const xs: Exchange[] = [];
        const { report } = await analyze([f], { ...args, onExchange: (x) => xs.push(structuredClone(x)) });
        const whole = new JsonReportWriter({ redact, memoryBytes });
        for (const x of xs) whole.exchange(x);
        const want = await finished(whole, report);

        const w = JsonReportWriter.resume(structuredClone((() => {
          const first = new JsonReportWriter({ redact, memoryBytes });
          for (const x of xs) first.exchange(x);
          return first.handoff();
        })()));
        const out = new PassThrough();
        const parts: Buffer[] = [];
        out.on('data', (d: Buffer) => parts.push(Buffer.from(d)));
        // Only the head's sections are known when it is written.
        await w.writeHead({ tool: report.tool, inputs: report.inputs, stats: report.stats }, out);
        const head = Buffer.concat(parts).toString('utf8');
        assert.ok(want.startsWith(head), `${s.name}: the head is the report's beginning`);
        assert.match(head, /\n {2}"exchanges": \[(\n[^]*\n {2}\]|\]),\n$/, `${s.name}: the head ends after the exchanges`);
        await w.finish(report, out);
        out.end();
        assert.equal(Buffer.concat(parts).toString('utf8'), want, `${s.name} redact=${redact} memoryBytes=${memoryBytes}`);
      }
    }
  }
});

test('a small report makes no temporary file; a large one does, and dispose() removes it', async () => {
  const spills = () => readdirSync(tmpdir()).filter((n) => n.startsWith('authcap-spill-')).length;
  const s = allSamples()[0];
  const f = join(dir, 'small.pcap');
  writeFileSync(f, sampleBytes(s));
  const before = spills();
  const xs: Exchange[] = [];
  await analyze([f], { onExchange: (x) => xs.push(x) });
  assert.ok(xs.length > 0);
  const small = new JsonReportWriter({ redact: true });
  for (const x of xs) small.exchange(x);
  assert.equal(spills(), before, 'no file for a few exchanges');
  small.dispose();
  const big = new JsonReportWriter({ redact: true, memoryBytes: 16 });
  for (const x of xs) big.exchange(x);
  assert.equal(spills(), before + 1, 'the text went to a file');
  big.dispose();
  assert.equal(spills(), before);
});
