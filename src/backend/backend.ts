// The back end of the pipeline: runs the checks over each completed exchange, keeps what the report
// needs of it, and hands the kept exchanges on in request-frame order (to the streaming JSON writer).
// It runs in the analysing thread, or on a worker thread (worker.ts) fed by RemoteBackend (remote.ts)
// while the front end (capture -> decode -> TCP -> HTTP/SIP -> pairing) keeps reading.

import type { AnalysisOptions, Exchange, ExchangeContext, Finding, UnauthorizedSummary } from '../types.js';
import { createChecks } from '../checks/index.js';
import { isAcceptedStatus } from '../util/status.js';
import { MinHeap } from '../util/heap.js';

/** One completed exchange, as the front end hands it over. */
export interface BackendItem {
  ctx: ExchangeContext;
  /** The filters keep it (otherwise it only feeds the cross-exchange checks). */
  kept: boolean;
  /** Its place among the events that make findings (the report sorts ties by it). */
  seq: number;
  /**
   * No exchange handed over later has a request frame below this: the kept ones below it can be written.
   * (The lowest request frame still waiting for an answer, or a lag behind the packet being read.)
   */
  watermark: number;
}

/** A finding and the place of the event that made it. */
export interface SeqFinding {
  seq: number;
  /** Its place among the findings of the same event (the order they were made), when it matters. */
  order?: number;
  finding: Finding;
}

export interface BackendResult {
  findings: SeqFinding[];
  /** What the report keeps of the exchanges (see deliver()). */
  exchanges: Exchange[];
  /** Kept exchanges handed on. */
  delivered: number;
  unauthorized: UnauthorizedSummary;
}

export interface BackendOptions {
  filtering: boolean;
  /**
   * With `output`: keep compact copies of the refused exchanges and those with findings in the result
   * (default; the --baseline gate needs them to match findings by endpoint and client). Off, nothing is kept.
   */
  keepExchanges?: boolean;
  /**
   * Streaming output in two steps: `prepare` gets each kept exchange as soon as its checks are done, and
   * what it returns (e.g. the exchange's report text) waits for the exchange's turn in request-frame order,
   * when `write` gets it; the result's `exchanges` then hold compact copies without headers (enough for
   * the gate and the summaries). The exchange itself need not be held meanwhile: with thousands of
   * connections interleaved, thousands of exchanges wait behind an unanswered request, and holding their
   * objects made most of the back end's garbage-collection work. Without `output`, the exchanges are
   * kept in the result.
   */
  output?: ExchangeOutput;
  /**
   * Write a finding away and give what to keep instead (a stub; see report/findings-spill.ts). Needs
   * `output`: the exchange a finding names has been prepared by then (its secrets are known), so each
   * finding is written away as it is made.
   */
  replace?(f: Finding): Finding;
  /** Each finding, final as it is made, goes here instead of into the result (e.g. the worker's FindingsWriter). */
  findings?: { add(sf: SeqFinding): void };
}

export interface ExchangeOutput {
  prepare(x: Exchange): unknown;
  write(prepared: unknown): void;
}

/** An exchange waiting for its turn: its order, and the exchange or what `output.prepare` made of it. */
interface Held {
  frame: number;
  /** n of the id "x<n>" (the order of exchanges with the same request frame), NaN for other ids. */
  n: number;
  id: string;
  accepted: boolean;
  /** The exchange (no `output`), or what output.prepare gave. */
  item: unknown;
  /** With `output` and keepExchanges: the compact copy the result may keep. */
  skeleton: Exchange | null;
}

const heldOrder = (a: Held, b: Held) => a.frame - b.frame || a.n - b.n;

/** Exchanges kept whole in the report (no streaming output) before accepted ones lose their headers. */
const FULL_EXCHANGES = 5000;
/** Exchanges held for ordering at most; past it the earliest is written whatever the watermark says. */
const REORDER_MAX = 16384;

/** An exchange without its headers: what the gate, the summaries and the timeline need. */
function skeleton(x: Exchange): Exchange {
  return { ...x, request: { ...x.request, headers: [] }, response: x.response ? { ...x.response, headers: [] } : null };
}

function accepted(x: Exchange): boolean {
  return isAcceptedStatus(x.response?.status);
}

export class ExchangeBackend {
  private checks;
  private findings: SeqFinding[] = [];
  private exchanges: Exchange[] = [];
  /** Exchanges waiting to be written, earliest request first. */
  private reorder = new MinHeap<Held>(heldOrder);
  private delivered = 0;
  /** Ids of the exchanges the filters keep (only needed when filtering). */
  private keptIds = new Set<string>();
  /** Kept exchanges with per-exchange findings, until they are delivered. */
  private withFindings = new Set<string>();
  private made = 0;

  constructor(options: AnalysisOptions, private o: BackendOptions) {
    if (o.replace && !o.output) throw new Error('internal: the back end replaces findings only with a two-step output');
    this.checks = createChecks(options);
  }

  exchange(item: BackendItem): void {
    const { ctx, kept, seq } = item;
    const fs = this.checks.exchange(ctx);
    if (!kept) return;
    const ex = ctx.exchange;
    if (this.o.filtering) this.keptIds.add(ex.id);
    const out = this.o.output;
    this.reorder.push({
      frame: ex.request.frame,
      n: Number(ex.id.slice(1)),
      id: ex.id,
      accepted: accepted(ex),
      item: out ? out.prepare(ex) : ex,
      skeleton: out && this.o.keepExchanges !== false ? skeleton(ex) : null,
    });
    const replace = this.o.replace;
    for (const f of fs) {
      if (f.exchange) this.withFindings.add(f.exchange);
      this.keep({ seq, order: this.made++, finding: replace ? replace(f) : f });
    }
    const r = this.reorder;
    while (r.size > REORDER_MAX || (r.size && r.peek()!.frame < item.watermark)) this.deliver(r.pop()!);
  }

  /** A finding in its final form: to the `findings` sink when there is one, else into the result. */
  private keep(sf: SeqFinding): void {
    const sink = this.o.findings;
    if (sink) sink.add(sf);
    else this.findings.push(sf);
  }

  private deliver(h: Held): void {
    this.delivered++;
    const out = this.o.output;
    if (out) {
      out.write(h.item);
      // What the gate needs later: refused/unanswered exchanges and those with findings (findings made at
      // the end are about refused ones). Accepted exchanges leave nothing behind, so memory stays flat.
      if (h.skeleton && (!h.accepted || this.withFindings.has(h.id))) this.exchanges.push(h.skeleton);
      this.withFindings.delete(h.id);
      return;
    }
    const x = h.item as Exchange;
    const exchanges = this.exchanges;
    if (this.delivered === FULL_EXCHANGES + 1) {
      for (let i = 0; i < exchanges.length; i++) if (accepted(exchanges[i])) exchanges[i] = skeleton(exchanges[i]);
    }
    exchanges.push(this.delivered > FULL_EXCHANGES && accepted(x) ? skeleton(x) : x);
  }

  /** End of the capture: the exchanges still held go out, in order. Gives how many were handed on in all. */
  drain(): number {
    while (this.reorder.size) this.deliver(this.reorder.pop()!);
    return this.delivered;
  }

  /**
   * End of the capture: the rest in order (drain), the cross-exchange findings (with place `seq`), the summary.
   * With `replace`, the cross-exchange findings are written away one by one as they are made.
   */
  finish(seq: number): BackendResult {
    this.drain();
    const findings = this.findings;
    const replace = this.o.replace;
    const keep = (f: Finding) => {
      if (this.o.filtering && f.exchange && !this.keptIds.has(f.exchange)) return;
      this.keep({ seq, order: this.made++, finding: replace ? replace(f) : f });
    };
    if (replace) this.checks.finish({ push: keep });
    else for (const f of this.checks.finish()) keep(f);
    return { findings, exchanges: this.exchanges, delivered: this.delivered, unauthorized: this.checks.unauthorized() };
  }
}
