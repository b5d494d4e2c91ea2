// The fuzz worker (a worker_thread): for each seed the parent sends, builds the case, writes it to a
// temp file, runs analyze() on it, renders every report format (raw and redacted), parses the JSON
// back and checks the report contract; for "witness" cases it also checks that the sms-gateway
// sample's findings survived the hostile traffic beside them. Posts one message per case.

import { parentPort } from 'node:worker_threads';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze } from '../../src/analyze.js';
import { InputError } from '../../src/capture/open.js';
import { renderJson } from '../../src/report/json.js';
import { renderTable } from '../../src/report/table.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { redactReport } from '../../src/report/redact.js';
import type { Report } from '../../src/types.js';
import { prepareBombs, serialize, smsSample } from './bases.js';
import { describeCase, makeCase, type CaseOptions } from './cases.js';

export type Outcome = 'clean' | 'errors-found' | 'input-error' | 'crash' | 'contract' | 'lost' | 'leak';

export type ToParent =
  | { type: 'ready' }
  | { type: 'start'; seed: number; what: string }
  | { type: 'done'; seed: number; what: string; outcome: Outcome; ms: number; detail?: string };

export type ToWorker = { seed: number } | { stop: true };

/** Every finding code of REPORT.md, plus limit.reached. */
export const KNOWN_CODES = new Set([
  'capture.truncated', 'capture.malformed', 'capture.snaplen', 'tcp.gap', 'tcp.refused', 'tcp.no-answer', 'tcp.reset',
  'tls.reset-after-hello', 'tls.alert', 'tls.encrypted', 'tls.undecrypted', 'http.unauthorized', 'auth.missing',
  'auth.field-missing', 'auth.challenge-unanswered', 'auth.rejected-after-retry', 'auth.stale-nonce', 'auth.digest-mismatch',
  'auth.basic-malformed', 'auth.token-expired', 'auth.challenge-mismatch', 'method.get-not-post', 'body.trailing-nul',
  'body.missing', 'body.length-mismatch', 'signature.uppercase', 'signature.mismatch', 'signature.variant',
  'app.ip-not-allowed', 'http.malformed', 'limit.reached',
]);
const SEVERITIES = new Set(['error', 'warning', 'info']);

/** Checks a parsed JSON report against REPORT.md's invariants; returns the first violation. */
export function contractViolation(j: any): string | null {
  for (const k of ['tool', 'inputs', 'stats', 'exchanges', 'findings']) if (!(k in j)) return `missing top-level "${k}"`;
  const packets = j.stats.packets;
  if (!Number.isInteger(packets) || packets < 0) return `stats.packets is ${packets}`;
  const frameOk = (f: unknown) => Number.isInteger(f) && (f as number) >= 1 && (f as number) <= packets;
  const ids = new Set<string>();
  for (const x of j.exchanges) {
    if (ids.has(x.id)) return `exchange id ${x.id} used twice`;
    ids.add(x.id);
    if (!frameOk(x.request?.frame)) return `exchange ${x.id}: request frame ${x.request?.frame} not in 1..${packets}`;
    if (x.response && !frameOk(x.response.frame)) return `exchange ${x.id}: response frame ${x.response.frame} not in 1..${packets}`;
    if (typeof x.request.time !== 'string' || Number.isNaN(Date.parse(x.request.time))) return `exchange ${x.id}: request time ${x.request.time}`;
  }
  for (const f of j.findings) {
    if (!KNOWN_CODES.has(f.code)) return `unknown finding code ${f.code}`;
    if (!SEVERITIES.has(f.severity)) return `${f.code}: severity ${f.severity}`;
    if (typeof f.message !== 'string' || !f.message || f.message.includes('\n')) return `${f.code}: message is not one line: ${JSON.stringify(f.message).slice(0, 200)}`;
    if (!Array.isArray(f.frames) || !f.frames.every(frameOk)) return `${f.code}: frames ${JSON.stringify(f.frames).slice(0, 200)} not all in 1..${packets}`;
    if (f.exchange !== null && !ids.has(f.exchange)) return `${f.code}: exchange ${f.exchange} is not in the report`;
    if (typeof f.filter !== 'string') return `${f.code}: filter is not a string`;
  }
  return null;
}

/** Findings and exchanges of the sms-gateway sample, keyed without frame numbers or ids. */
export function witnessKeys(j: any): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const byId = new Map<string, any>(j.exchanges.map((x: any) => [x.id, x]));
  for (const x of j.exchanges) {
    if (x.server === '203.0.113.10:80') add(`exchange ${x.request.method} ${x.request.uri} -> ${x.response?.status ?? 'none'}`);
  }
  for (const f of j.findings) {
    const x = f.exchange ? byId.get(f.exchange) : null;
    if (x && x.server === '203.0.113.10:80') add(`${f.code} on ${x.request.method} ${x.request.uri}`);
  }
  return m;
}

function analyzeOptions(o: CaseOptions) {
  return { key: o.key, password: o.password, keylog: o.keylog, limits: o.limits as any };
}

/** Renders every format of the report, raw and redacted; returns the parsed redacted JSON. */
export function renderAll(report: Report): any {
  const shown = redactReport(report);
  JSON.parse(renderJson(report));
  renderTable(report, { color: true, width: 80 });
  renderTable(shown, { color: false, width: 120 });
  renderMarkdown(shown);
  renderHtml(shown);
  return JSON.parse(renderJson(shown));
}

async function main(): Promise<void> {
  const port = parentPort!;
  await prepareBombs();
  const dir = mkdtempSync(join(tmpdir(), 'authcap-fuzz-'));
  // The witness: what the untouched sms-gateway sample reports.
  const smsFile = join(dir, 'sms.pcap');
  writeFileSync(smsFile, serialize(smsSample().packets, 'pcap'));
  const expected = witnessKeys(renderAll((await analyze([smsFile])).report));
  if ((expected.get('http.unauthorized on POST /customerzzz/customerzzz.sms') ?? 0) < 2) {
    throw new Error(`the witness (sms-gateway sample) no longer shows its two refusals: ${JSON.stringify([...expected])}`);
  }
  const selfTestHang = Number(process.env.AUTHCAP_FUZZ_SELFTEST_HANG ?? NaN);

  const queue: ToWorker[] = [];
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    queue.push(m);
    wake?.();
  });
  port.postMessage({ type: 'ready' } satisfies ToParent);
  for (;;) {
    while (!queue.length) await new Promise<void>((r) => (wake = r));
    const m = queue.shift()!;
    if ('stop' in m) break;
    const t0 = performance.now();
    if (m.seed === selfTestHang) for (;;); // the harness's own test: a case that never returns
    const c = makeCase(m.seed);
    const what = describeCase(c);
    port.postMessage({ type: 'start', seed: c.seed, what } satisfies ToParent);
    const file = join(dir, `case-${c.seed}${c.container.endsWith('.gz') ? '.gz' : ''}`);
    writeFileSync(file, c.bytes);
    let outcome: Outcome;
    let detail: string | undefined;
    try {
      const { report } = await analyze([file], analyzeOptions(c.options));
      const j = renderAll(report);
      const bad = contractViolation(j);
      if (bad) {
        outcome = 'contract';
        detail = bad;
      } else if (c.witness && (detail = lostWitness(expected, witnessKeys(j)))) {
        outcome = 'lost';
      } else if (c.witness && /s3cret-/.test(JSON.stringify(j))) {
        outcome = 'leak';
        detail = 'a sample password (s3cret-...) is in the redacted JSON report';
      } else {
        outcome = j.findings.some((f: any) => f.severity === 'error') ? 'errors-found' : 'clean';
      }
    } catch (e) {
      if (e instanceof InputError) {
        outcome = 'input-error';
        detail = e.message;
      } else {
        outcome = 'crash';
        detail = (e as Error)?.stack?.split('\n').slice(0, 6).join('\n') ?? String(e);
      }
    } finally {
      rmSync(file, { force: true });
    }
    port.postMessage({ type: 'done', seed: c.seed, what, outcome, ms: performance.now() - t0, detail } satisfies ToParent);
  }
  rmSync(dir, { recursive: true, force: true });
}

function lostWitness(expected: Map<string, number>, got: Map<string, number>): string | undefined {
  const missing: string[] = [];
  for (const [k, n] of expected) if ((got.get(k) ?? 0) < n) missing.push(`${k} (${got.get(k) ?? 0} of ${n})`);
  return missing.length ? `sample findings lost: ${missing.join('; ')}` : undefined;
}

if (parentPort) void main();
