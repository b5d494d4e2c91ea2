// The back-end worker thread: runs the checks and writes the JSON report's exchanges (ExchangeBackend +
// JsonReportWriter) for the batches the front end posts, acknowledging each so the front end can pace
// itself; at the end it hands the exchanges' text over (the front end writes it into the report), then
// runs the cross-exchange checks and returns the findings and summaries.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { AnalysisOptions } from '../types.js';
import { JsonReportWriter, type JsonHandoff } from '../report/json-stream.js';
import { FindingsSpill, writeGroupsFile } from '../report/findings-spill.js';
import { ExchangeBackend, type BackendResult } from './backend.js';
import { FindingsWriter, readBatch, type WireBatch, type WireFindings } from './wire.js';

const NONE: readonly string[] = [];

export interface WorkerInit {
  options: AnalysisOptions;
  filtering: boolean;
  keepExchanges: boolean;
  redact: boolean;
  /** An empty directory for the report's temporary file, made (and removed on failure) by the front end. */
  spillDir: string;
  /** Where batches come from and acknowledgements go, when not the parent (a thread of its own reads). */
  port?: MessagePort;
}

export type ToWorker = { type: 'batch'; batch: WireBatch } | { type: 'finish'; seq: number };

/** What the worker posts back: an acknowledged batch; at the end, the exchanges' text, then the result. */
export type FromWorker =
  | { type: 'ack' }
  | { type: 'exchanges'; json: JsonHandoff; delivered: number }
  | { type: 'result'; result: BackendResult; findings: WireFindings; files: { findingsFile: string | null; groupsFile: string | null } };

const init = workerData as WorkerInit;
/** The exchanges' text and the result go to the parent; batches come from `input` (the parent, or the reading thread). */
const port = parentPort!;
const input = init.port ?? port;
const writer = new JsonReportWriter({ redact: init.redact, dir: init.spillDir });
/** The secrets met in each exchange: the writer's while it takes exchanges, then those it handed over. */
let secretsOf = (id: string): readonly string[] => writer.secretsOf(id);
// The findings' texts go to a file as they are made (the exchange they name is prepared first, so its secrets are known); only stubs travel back.
const spill = new FindingsSpill(init.spillDir, init.redact, (id) => secretsOf(id));
// The findings, final as soon as they are made, are kept in their binary form for the trip back.
const findingsOut = new FindingsWriter();
const backend = new ExchangeBackend(init.options, {
  findings: findingsOut,
  filtering: init.filtering,
  keepExchanges: init.keepExchanges,
  output: { prepare: (x) => writer.prepare(x), write: (text) => writer.writePrepared(text as string) },
  replace: (f) => spill.add(f),
});

input.on('message', (m: ToWorker) => {
  if (m.type === 'batch') {
    for (const item of readBatch(m.batch)) backend.exchange(item);
    input.postMessage({ type: 'ack' } satisfies FromWorker);
    return;
  }
  // The exchanges first: the front end writes them into the report while the cross-exchange checks run.
  const delivered = backend.drain();
  const json = writer.handoff();
  const secrets = json.secretsById;
  secretsOf = (id) => secrets.get(id) ?? NONE;
  port.postMessage({ type: 'exchanges', json, delivered } satisfies FromWorker);
  const result = backend.finish(m.seq);
  const files = { findingsFile: spill.close(), groupsFile: null as string | null };
  // The 401 summary's groups go to a file as report text too: they are many on big captures.
  if (result.unauthorized.groups.length) {
    files.groupsFile = writeGroupsFile(init.spillDir, result.unauthorized.groups);
    result.unauthorized = { ...result.unauthorized, groups: [] };
  }
  // The findings (mostly stubs) went to findingsOut as they were made (result.findings is empty) and go
  // back in that binary form; the rest of the result is cloned.
  const findings = findingsOut.take();
  port.postMessage({ type: 'result', result, findings, files } satisfies FromWorker, [findings.arena]);
  if (input !== port) input.close();
  port.close();
});
