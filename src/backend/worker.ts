// The back-end worker thread: runs the checks and writes the JSON report's exchanges (ExchangeBackend +
// JsonReportWriter) for the batches the front end posts, acknowledging each so the front end can pace
// itself; at the end it returns the findings and summaries, and hands the written text over.

import { parentPort, workerData } from 'node:worker_threads';
import type { AnalysisOptions } from '../types.js';
import { JsonReportWriter } from '../report/json-stream.js';
import { ExchangeBackend } from './backend.js';
import { readBatch, type WireBatch } from './wire.js';

export interface WorkerInit {
  options: AnalysisOptions;
  filtering: boolean;
  redact: boolean;
  /** An empty directory for the report's temporary file, made (and removed on failure) by the front end. */
  spillDir: string;
}

export type ToWorker = { type: 'batch'; batch: WireBatch } | { type: 'finish'; seq: number };

const init = workerData as WorkerInit;
const port = parentPort!;
const writer = new JsonReportWriter({ redact: init.redact, dir: init.spillDir });
const backend = new ExchangeBackend(init.options, { filtering: init.filtering, onExchange: (x) => writer.exchange(x) });

port.on('message', (m: ToWorker) => {
  if (m.type === 'batch') {
    for (const item of readBatch(m.batch)) backend.exchange(item);
    port.postMessage({ type: 'ack' });
    return;
  }
  const result = backend.finish(m.seq);
  const json = writer.handoff();
  port.postMessage({ type: 'result', result, json });
  port.close();
});
