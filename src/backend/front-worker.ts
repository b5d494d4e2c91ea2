// The reading thread (see front.ts): reads and parses the capture and sends the exchanges in batches to
// the back-end worker through the port it is given; when the input is read it posts what the report
// needs from this side and ends, so that its heap is gone before the back end's final checks.

import { parentPort, workerData } from 'node:worker_threads';
import { analyzeReading } from '../analyze.js';
import type { FrontInit, FromFront } from './front.js';

const init = workerData as FrontInit;
const parent = parentPort!;
try {
  const front = await analyzeReading(init.files, {
    ...init.options,
    onProgress: init.progress ? (p) => parent.postMessage({ type: 'progress', p } satisfies FromFront) : undefined,
    offload: { ...init.offload, port: init.port },
  });
  parent.postMessage({ type: 'front', front } satisfies FromFront);
} catch (e) {
  const err = e as Error;
  parent.postMessage({ type: 'error', name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack ?? String(e) } satisfies FromFront);
}
init.port.close();
