// The back-end worker thread: runs the checks and writes the JSON report's exchanges (ExchangeBackend +
// JsonReportWriter) for the batches the front end posts, acknowledging each so the front end can pace
// itself; at the end it returns the findings and summaries, and hands the written text over.

import { parentPort, workerData } from 'node:worker_threads';
import type { AnalysisOptions } from '../types.js';
import { JsonReportWriter } from '../report/json-stream.js';
import { FindingsSpill, writeGroupsFile } from '../report/findings-spill.js';
import { ExchangeBackend } from './backend.js';
import { FindingsWriter, readBatch, type WireBatch } from './wire.js';

export interface WorkerInit {
  options: AnalysisOptions;
  filtering: boolean;
  keepExchanges: boolean;
  redact: boolean;
  /** An empty directory for the report's temporary file, made (and removed on failure) by the front end. */
  spillDir: string;
}

export type ToWorker = { type: 'batch'; batch: WireBatch } | { type: 'finish'; seq: number };

const init = workerData as WorkerInit;
const port = parentPort!;
const writer = new JsonReportWriter({ redact: init.redact, dir: init.spillDir });
// The findings' texts go to a file as they are made (the exchange they name is prepared first, so its secrets are known); only stubs travel back.
const spill = new FindingsSpill(init.spillDir, init.redact, (id) => writer.secretsOf(id));
// The findings, final as soon as they are made, are kept in their binary form for the trip back.
const findingsOut = new FindingsWriter();
const backend = new ExchangeBackend(init.options, {
  findings: findingsOut,
  filtering: init.filtering,
  keepExchanges: init.keepExchanges,
  output: { prepare: (x) => writer.prepare(x), write: (text) => writer.writePrepared(text as string) },
  replace: (f) => spill.add(f),
});

port.on('message', (m: ToWorker) => {
  if (m.type === 'batch') {
    for (const item of readBatch(m.batch)) backend.exchange(item);
    port.postMessage({ type: 'ack' });
    return;
  }
  const result = backend.finish(m.seq);
  const json = writer.handoff();
  json.findingsFile = spill.close();
  // The 401 summary's groups go to a file as report text too: they are many on big captures.
  if (result.unauthorized.groups.length) {
    json.groupsFile = writeGroupsFile(init.spillDir, result.unauthorized.groups);
    result.unauthorized = { ...result.unauthorized, groups: [] };
  }
  // The findings (mostly stubs) went to findingsOut as they were made (result.findings is empty) and go
  // back in that binary form; the rest of the result is cloned.
  const findings = findingsOut.take();
  port.postMessage({ type: 'result', result, findings, json }, [findings.arena]);
  port.close();
});
