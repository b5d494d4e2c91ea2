// The front end's side of the back-end worker (worker.ts): batches the completed exchanges, posts them,
// and paces the capture reading so that no more than a few batches wait in the worker.

import { MessageChannel, Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { InputError } from '../capture/open.js';
import type { JsonHandoff } from '../report/json-stream.js';
import { makeTempDir, removeTempDir } from '../util/temp.js';
import type { BackendItem, BackendResult } from './backend.js';
import { BatchWriter, readFindings } from './wire.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

/** Exchanges per batch, and body bytes that close a batch early. */
const BATCH_ITEMS = 256;
const BATCH_BYTES = 4 << 20;
/** Batches posted and not yet acknowledged before reading waits. */
const MAX_IN_FLIGHT = 4;

/**
 * The worker's heap limit in MB for inputs of `bytes` uncompressed (null: unknown, e.g. stdin or gzip):
 * 1 GiB plus half the input, or undefined (V8's default) when that is not below the default. V8 lets
 * a heap grow to several times its live size before collecting, more so the larger its limit: with the
 * default (about 4 GiB here) the worker's heap reached 4-5x its live data. This limit stays at more than
 * 15x the worker's largest live heap measured (under 100 MB for a 1 GiB capture) and cut peak RSS there
 * by about 65 MB, at no measurable cost in time.
 */
export function workerHeapLimitMb(bytes: number | null): number | undefined {
  if (bytes === null) return undefined;
  const mb = 1024 + Math.ceil(bytes / (2 << 20));
  return mb < getHeapStatistics().heap_size_limit / (1 << 20) ? mb : undefined;
}

/** Where batches go and acknowledgements come from: the worker itself, or a port connected to it. */
interface BatchTarget {
  postMessage(m: unknown, transfer?: readonly Transferable[]): void;
  on(event: 'message', listener: (m: FromWorker) => void): unknown;
}

/**
 * The reading side's end: batches the completed exchanges, posts them, and paces the reading so that no
 * more than a few batches wait in the worker. Runs where the capture is read (this thread, or the reading
 * thread of backend/front.ts, through a port).
 */
export class BatchSender {
  private batch = new BatchWriter();
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;

  constructor(private target: BatchTarget) {
    target.on('message', (m) => {
      if (m.type !== 'ack') return;
      this.inFlight--;
      if (this.inFlight < MAX_IN_FLIGHT) for (const w of this.waiters.splice(0)) w();
    });
  }

  exchange(item: BackendItem): void {
    this.batch.add(item);
    if (this.batch.size >= BATCH_ITEMS || this.batch.bodyBytes >= BATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (!this.batch.size) return;
    const batch = this.batch.take();
    this.inFlight++;
    this.target.postMessage({ type: 'batch', batch } satisfies ToWorker, [batch.arena]);
  }

  /** Resolves when the worker has caught up enough for reading to go on; undefined when it need not wait. */
  pace(): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /** The input is read: the last batch, then the end (the worker writes the rest and runs the final checks). */
  finish(seq: number): void {
    this.flush();
    this.target.postMessage({ type: 'finish', seq } satisfies ToWorker);
  }

  /** The worker failed: reading stops at its next pace(). */
  fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w();
  }
}

export class RemoteBackend {
  private worker: Worker;
  /** Batches from this thread; null when they come through `senderPort` from another thread. */
  private sender: BatchSender | null;
  private senderPort: MessagePort | null = null;
  private failure: Error | null = null;
  private result: Promise<{ result: BackendResult; json: JsonHandoff }>;
  /** The exchanges' text, once the worker has written them all (before its cross-exchange checks). */
  private exchanges: { json: JsonHandoff; delivered: number } | null = null;
  private exchangesDone: ((json: JsonHandoff, delivered: number) => void) | null = null;

  private spillDir: string;

  /**
   * `heapLimitMb`: the worker's heap limit (workerHeapLimitMb); V8's default when absent. `separateSender`:
   * the batches come from another thread, through the port takeSenderPort() gives (a BatchSender there).
   */
  constructor(init: Omit<WorkerInit, 'spillDir' | 'port'>, o: { heapLimitMb?: number; separateSender?: boolean } = {}) {
    this.spillDir = makeTempDir('authcap-spill-');
    const limit = o.heapLimitMb;
    const channel = o.separateSender ? new MessageChannel() : null;
    this.worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { ...init, spillDir: this.spillDir, port: channel?.port2 } satisfies WorkerInit,
      transferList: channel ? [channel.port2] : [],
      ...(limit !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: limit } } : {}),
    });
    this.senderPort = channel?.port1 ?? null;
    this.sender = channel ? null : new BatchSender(this.worker);
    this.result = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        try {
          if (m.type === 'ack') return;
          if (m.type === 'exchanges') {
            this.exchanges = { json: m.json, delivered: m.delivered };
            this.exchangesDone?.(m.json, m.delivered);
            return;
          }
          if (!this.exchanges) throw new Error('internal: the analysis worker sent its result before the exchanges');
          resolve({ result: { ...m.result, findings: readFindings(m.findings) }, json: { ...this.exchanges.json, ...m.files } });
        } catch (e) {
          reject(e as Error);
        }
      });
      this.worker.on('error', (err) => {
        const e =
          (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? // A one-line error (exit 2), as for what cannot be read: there is a way round it.
              new InputError(`authcap: the analysis worker ran out of memory${limit !== undefined ? ` (heap limit ${limit} MB)` : ''}: run again with --threads 1`)
            : err;
        this.fail(e);
        reject(e);
      });
      this.worker.on('exit', (code) => {
        const e = new Error(`internal: the analysis worker stopped (exit code ${code})`);
        this.fail(e);
        reject(e);
      });
    });
    this.result.catch(() => undefined); // handled where awaited
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.sender?.fail(e);
  }

  /** `listener` gets the error if the worker fails (it is also what finish() rejects with). */
  onFailure(listener: (e: Error) => void): void {
    this.result.catch(listener);
  }

  /** With `separateSender`: the port for the BatchSender of the thread that reads (once). */
  takeSenderPort(): MessagePort {
    const p = this.senderPort;
    if (!p) throw new Error('internal: no sender port to take');
    this.senderPort = null;
    return p;
  }

  exchange(item: BackendItem): void {
    this.sender!.exchange(item);
  }

  /** Resolves when the worker has caught up enough for reading to go on; undefined when it need not wait. */
  pace(): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    return this.sender!.pace();
  }

  /**
   * End of the input: the worker writes the exchanges still held, then runs the cross-exchange checks.
   * `onExchanges` gets the exchanges' text (and how many there are) as soon as it is complete, while the
   * checks run; the result's `json` is that text with the findings' and groups' files. With
   * `separateSender`, the other thread's BatchSender has ended the input (`seq` is then unused).
   */
  async finish(seq: number, onExchanges?: (json: JsonHandoff, delivered: number) => void): Promise<{ result: BackendResult; json: JsonHandoff }> {
    this.exchangesDone = onExchanges ?? null;
    if (this.exchanges && onExchanges) onExchanges(this.exchanges.json, this.exchanges.delivered);
    this.sender?.finish(seq);
    try {
      const r = await this.result;
      this.stop();
      // A temporary file now belongs to the JSON writer resumed from r.json (it removes it); none was made: the directory goes.
      if (!r.json.spill && !r.json.findingsFile) removeTempDir(this.spillDir);
      return r;
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private stop(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }

  /** Stop the worker and remove what it wrote (after an error). */
  dispose(): void {
    this.stop();
    this.senderPort?.close();
    removeTempDir(this.spillDir);
  }
}
