// Runs fuzz seeds on worker threads and watches them: a case with no progress for `hangMs` is a hang
// (the worker is terminated and replaced, the run goes on), a worker that dies is a crash of the case
// it was running, and the process's resident memory is sampled against `rssLimit`.

import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Outcome, ToParent, ToWorker } from './worker.js';

export interface CaseResult {
  seed: number;
  what: string;
  outcome: Outcome | 'hang' | 'worker-died';
  ms: number;
  detail?: string;
}

export interface FuzzRun {
  results: CaseResult[];
  ms: number;
  peakRss: number;
  /** Seeds running when rss went over the limit, if it did. */
  rssExceeded: { rss: number; running: string[] } | null;
}

export interface PoolOptions {
  seeds: number[];
  workers: number;
  hangMs: number;
  rssLimit: number;
  /** Stop handing out seeds after this long (the run still reports what it did). */
  budgetMs?: number;
}

interface Slot {
  w: Worker;
  seed: number | null;
  what: string;
  since: number;
  ready: boolean;
}

export function runFuzz(o: PoolOptions): Promise<FuzzRun> {
  const url = new URL('./worker.js', import.meta.url);
  const queue = o.seeds.slice();
  const results: CaseResult[] = [];
  const t0 = performance.now();
  let peakRss = 0;
  let rssExceeded: FuzzRun['rssExceeded'] = null;
  const slots = new Set<Slot>();

  return new Promise<FuzzRun>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      for (const s of slots) void s.w.terminate();
      resolve({ results, ms: performance.now() - t0, peakRss, rssExceeded });
    };
    const outOfTime = () => o.budgetMs !== undefined && performance.now() - t0 > o.budgetMs;
    const next = (s: Slot) => {
      const seed = outOfTime() ? undefined : queue.shift();
      if (seed === undefined) {
        s.seed = null;
        s.w.postMessage({ stop: true } satisfies ToWorker);
        slots.delete(s);
        void s.w.terminate();
        if (slots.size === 0) finish();
        return;
      }
      s.seed = seed;
      s.what = `seed ${seed}`;
      s.since = performance.now();
      s.w.postMessage({ seed } satisfies ToWorker);
    };
    const spawn = () => {
      const s: Slot = { w: new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: 3072, maxYoungGenerationSizeMb: 64 } }), seed: null, what: '', since: performance.now(), ready: false };
      slots.add(s);
      s.w.on('message', (m: ToParent) => {
        if (m.type === 'ready') {
          s.ready = true;
          next(s);
        } else if (m.type === 'start') {
          s.what = m.what;
          s.since = performance.now();
        } else {
          results.push({ seed: m.seed, what: m.what, outcome: m.outcome, ms: m.ms, detail: m.detail });
          next(s);
        }
      });
      s.w.on('error', (e) => {
        if (!slots.has(s)) return;
        slots.delete(s);
        if (s.seed !== null) results.push({ seed: s.seed, what: s.what, outcome: 'worker-died', ms: performance.now() - s.since, detail: e.stack?.split('\n').slice(0, 6).join('\n') });
        else results.push({ seed: -1, what: 'worker start-up', outcome: 'worker-died', ms: 0, detail: e.stack?.split('\n').slice(0, 6).join('\n') });
        if (s.seed === null && !s.ready) return finish(); // the harness itself is broken: stop
        spawn();
      });
    };
    const timer = setInterval(() => {
      const rss = process.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss);
      if (rss > o.rssLimit && !rssExceeded) rssExceeded = { rss, running: [...slots].map((s) => s.what) };
      const now = performance.now();
      for (const s of [...slots]) {
        const limit = s.ready ? o.hangMs : o.hangMs * 3; // start-up builds the bombs
        if (now - s.since <= limit) continue;
        slots.delete(s);
        void s.w.terminate();
        results.push({ seed: s.seed ?? -1, what: s.what || 'worker start-up', outcome: 'hang', ms: now - s.since, detail: `no progress for ${Math.round((now - s.since) / 1000)} s` });
        if (!s.ready) return finish();
        spawn();
      }
      if (slots.size === 0) finish();
    }, 250);
    for (let i = 0; i < o.workers; i++) spawn();
  });
}
