// Fuzzes the whole pipeline with thousands of seeded hostile and damaged captures (test/fuzz/cases.ts)
// on two worker threads: no case may crash, hang (10 s without progress), break the report contract,
// lose the findings of the untouched traffic beside it, or push the process over 1.5 GB of memory.
// AUTHCAP_FUZZ_CASES / AUTHCAP_FUZZ_SEED change how many cases run and where the seeds start;
// AUTHCAP_FUZZ_SEEDS=12,345 runs just those seeds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz, type CaseResult } from './pool.js';

const CASES = Number(process.env.AUTHCAP_FUZZ_CASES ?? 3000);
const FIRST = Number(process.env.AUTHCAP_FUZZ_SEED ?? 1);
const WORKERS = Number(process.env.AUTHCAP_FUZZ_WORKERS ?? 2);
const RSS_LIMIT = 1.5 * 1024 ** 3;
const FAILURES = new Set(['crash', 'contract', 'lost', 'leak', 'hang', 'worker-died']);

test(`fuzz: ${CASES} hostile captures, no crash, hang, contract break or loss`, { timeout: 600_000 }, async () => {
  const seeds = process.env.AUTHCAP_FUZZ_SEEDS ? process.env.AUTHCAP_FUZZ_SEEDS.split(',').map(Number) : Array.from({ length: CASES }, (_, i) => FIRST + i);
  const run = await runFuzz({ seeds, workers: WORKERS, hangMs: 10_000, rssLimit: RSS_LIMIT });
  const byOutcome = new Map<string, number>();
  for (const r of run.results) byOutcome.set(r.outcome, (byOutcome.get(r.outcome) ?? 0) + 1);
  const slowest = run.results.reduce<CaseResult | null>((a, b) => (!a || b.ms > a.ms ? b : a), null);
  const byMutator = new Map<string, number>();
  for (const r of run.results) {
    const m = /: (\S+) on /.exec(r.what)?.[1] ?? '?';
    byMutator.set(m.split('+')[0], (byMutator.get(m.split('+')[0]) ?? 0) + 1);
  }
  console.log(
    `fuzz: ${run.results.length} cases in ${(run.ms / 1000).toFixed(1)} s on ${WORKERS} worker(s); ` +
      [...byOutcome].map(([k, n]) => `${k} ${n}`).join(', ') +
      `; slowest ${slowest ? `${slowest.ms.toFixed(0)} ms (${slowest.what})` : '-'}; peak rss ${(run.peakRss / 2 ** 20).toFixed(0)} MB`,
  );
  console.log(`fuzz mutators: ${[...byMutator].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const failures = run.results.filter((r) => FAILURES.has(r.outcome));
  const text = failures
    .slice(0, 20)
    .map((f) => `- ${f.outcome}: ${f.what}\n    ${(f.detail ?? '').split('\n').join('\n    ')}\n    reproduce: node dist/test/fuzz/repro.js ${f.seed}`)
    .join('\n');
  assert.equal(failures.length, 0, `${failures.length} failing case(s):\n${text}`);
  assert.equal(run.rssExceeded, null, `rss went over 1.5 GB (${((run.rssExceeded?.rss ?? 0) / 2 ** 20).toFixed(0)} MB) while running: ${run.rssExceeded?.running.join('; ')}`);
  assert.equal(run.results.length, seeds.length, 'every seed ran');
});

test('the fuzz harness notices a hung case, names its seed, and goes on with the others', { timeout: 120_000 }, async () => {
  process.env.AUTHCAP_FUZZ_SELFTEST_HANG = '2';
  try {
    const run = await runFuzz({ seeds: [1, 2, 3, 4], workers: 1, hangMs: 2_000, rssLimit: RSS_LIMIT });
    const hung = run.results.filter((r) => r.outcome === 'hang');
    assert.deepEqual(hung.map((r) => r.seed), [2]);
    assert.deepEqual(run.results.filter((r) => r.outcome !== 'hang').map((r) => r.seed).sort(), [1, 3, 4]);
  } finally {
    delete process.env.AUTHCAP_FUZZ_SELFTEST_HANG;
  }
});
