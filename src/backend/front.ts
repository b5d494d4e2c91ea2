// Two threads besides this one, for a large JSON report: a reading thread (front-worker.ts: capture ->
// decode -> TCP -> HTTP/SIP -> pairing) sends the exchanges in batches straight to the back-end worker
// (worker.ts: checks, report text), and this thread only assembles and writes the report. The reading
// thread ends once the input is read, so its heap (the largest while reading, mostly garbage between
// collections by then) is given back before the back end's final checks, where memory peaks.

import { Worker, type MessagePort } from 'node:worker_threads';
import { InputError, plainInputBytes } from '../capture/open.js';
import { analysisOptions, assembleReport, isFiltering, reportHead, type AnalysisResult, type AnalyzeOptions, type FrontResult } from '../analyze.js';
import { RemoteBackend, workerHeapLimitMb } from './remote.js';

/** What the reading thread is started with (structured-clone safe: no callbacks). */
export interface FrontInit {
  files: string[];
  options: Omit<AnalyzeOptions, 'onProgress' | 'onExchange' | 'output' | 'offload'>;
  offload: { redact: boolean; keepExchanges: boolean };
  /** Progress reports wanted (they are posted to this thread). */
  progress: boolean;
  /** To the back-end worker. */
  port: MessagePort;
}

export type FromFront =
  | { type: 'progress'; p: { bytes: number; packets: number; file: string } }
  | { type: 'front'; front: FrontResult }
  | { type: 'error'; name: string; message: string; stack: string };

/**
 * analyze() with `offload`, the reading on a thread of its own (file inputs only: stdin is this thread's).
 * The same result, byte for byte, as analyze(files, o).
 */
export async function analyzeInThreads(files: string[], o: AnalyzeOptions & { offload: NonNullable<AnalyzeOptions['offload']> }): Promise<AnalysisResult> {
  const { onProgress, onExchange: _e, output: _o, offload, ...options } = o;
  const keepExchanges = offload.keepExchanges ?? true;
  const back = new RemoteBackend(
    { options: analysisOptions(o), filtering: isFiltering(o.filters ?? {}), redact: offload.redact, keepExchanges },
    { heapLimitMb: workerHeapLimitMb(plainInputBytes(files)), separateSender: true },
  );
  const port = back.takeSenderPort();
  const init: FrontInit = { files, options, offload: { redact: offload.redact, keepExchanges }, progress: !!onProgress, port };
  const reader = new Worker(new URL('./front-worker.js', import.meta.url), { workerData: init, transferList: [port] });
  try {
    const front = await new Promise<FrontResult>((resolve, reject) => {
      reader.on('message', (m: FromFront) => {
        if (m.type === 'progress') onProgress?.(m.p);
        else if (m.type === 'front') resolve(m.front);
        else reject(m.name === 'InputError' ? new InputError(m.message) : Object.assign(new Error(m.message), { stack: m.stack }));
      });
      reader.on('error', reject);
      reader.on('exit', (code) => reject(new Error(`internal: the reading thread stopped (exit code ${code})`)));
      // The back end failing stops the reading (its batches would wait for acknowledgements forever).
      back.onFailure(reject);
    });
    reader.removeAllListeners('exit');
    void reader.terminate();
    const { result, json } = await back.finish(0, offload.onExchanges && ((j, delivered) => offload.onExchanges!(j, reportHead(front, delivered))));
    return { report: assembleReport(front, result), followed: [], followEndpoints: null, json };
  } catch (e) {
    reader.removeAllListeners('exit');
    void reader.terminate();
    back.dispose();
    throw e;
  }
}
