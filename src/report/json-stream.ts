// The JSON report written as the analysis goes: each exchange is redacted and serialised once, when it
// completes, and dropped; the text is held in memory up to a bound and spilled to a temporary file past it.
// At the end the report is written in the contract's key order (tool, inputs, stats, exchanges,
// findings, ...), the exchanges copied in between, so memory does not grow with the number of exchanges.

import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Exchange, Report } from '../types.js';
import { orderExchange, orderFinding, renderJson } from './json.js';
import { redactExchangeAlone, redactFindingAlone, redactReport, SecretSet } from './redact.js';
import { safeJson } from './sanitize.js';
import { isAcceptedStatus } from '../util/status.js';

/** Exchange text kept in memory before it goes to a temporary file. */
const MEMORY_BYTES = 8 << 20;
/** Findings redacted and written at a time. */
const FINDINGS_CHUNK = 500;

export class JsonReportWriter {
  private parts: string[] = [];
  private bytes = 0;
  private count = 0;
  private spill: { dir: string; file: string; out: WriteStream } | null = null;
  private pending: Promise<unknown> = Promise.resolve();
  /** Secrets met in each exchange, to scrub the findings about it (only exchanges that had any). */
  private secretsById = new Map<string, string[]>();

  constructor(private o: { redact: boolean; memoryBytes?: number }) {}

  /** Serialise one exchange (in the order they should appear). */
  exchange(x: Exchange): void {
    let shown = x;
    if (this.o.redact) {
      const found = new SecretSet();
      shown = redactExchangeAlone(x, found);
      // Kept for the exchanges findings are usually about (not accepted); accepted ones are dropped, so
      // memory does not grow with the traffic (their findings' evidence is still redacted by key).
      if (found.values.size && !isAcceptedStatus(x.response?.status)) this.secretsById.set(x.id, [...found.values]);
    }
    const text = `    ${safeJson(orderExchange(shown), 2).replace(/\n/g, '\n    ')}`;
    this.parts.push(this.count++ === 0 ? text : `,\n${text}`);
    this.bytes += text.length;
    if (this.bytes >= (this.o.memoryBytes ?? MEMORY_BYTES)) this.flushToDisk();
  }

  private flushToDisk(): void {
    if (!this.spill) {
      const dir = mkdtempSync(join(tmpdir(), 'authcap-spill-'));
      const file = join(dir, 'exchanges.json');
      this.spill = { dir, file, out: createWriteStream(file) };
    }
    const chunk = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    if (!this.spill.out.write(chunk)) {
      // Listen now: a listener attached later (in a promise chain) could miss the drain and wait forever.
      const drained = once(this.spill.out, 'drain');
      this.pending = Promise.all([this.pending, drained]);
    }
  }

  /** Backpressure for the producer: resolves when spilled text has been written. */
  drained(): Promise<unknown> {
    return this.pending;
  }

  /**
   * Write the whole report to `out`: `report.exchanges` is ignored (the streamed ones take its place);
   * the findings are redacted and written in chunks, and the other sections are redacted (with the
   * secrets met in the exchanges) unless redact is off.
   */
  async finish(report: Report, out: Writable): Promise<void> {
    const empty: Report = { ...report, exchanges: [], findings: [] };
    const rest = this.o.redact ? redactReport(empty) : empty;
    const text = renderJson(rest);
    const xMarker = '\n  "exchanges": [],\n';
    const fMarker = '  "findings": [],\n';
    const at = text.indexOf(xMarker + fMarker);
    if (at < 0) throw new Error('internal: exchanges/findings keys not found in the JSON report');
    const write = async (s: string | Buffer) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    await write(text.slice(0, at));
    if (this.count === 0) await write(xMarker);
    else {
      await write('\n  "exchanges": [\n');
      if (this.spill) {
        await this.pending;
        this.spill.out.end();
        await once(this.spill.out, 'finish');
        for await (const chunk of createReadStream(this.spill.file, { highWaterMark: 1 << 20 })) await write(chunk as Buffer);
        rmSync(this.spill.dir, { recursive: true, force: true });
        this.spill = null;
      }
      await write(this.parts.join(''));
      this.parts = [];
      await write('\n  ],\n');
    }
    if (report.findings.length === 0) await write(fMarker);
    else {
      await write('  "findings": [\n');
      for (let i = 0; i < report.findings.length; i += FINDINGS_CHUNK) {
        const chunk = report.findings.slice(i, i + FINDINGS_CHUNK);
        const shown = this.o.redact ? chunk.map((f) => redactFindingAlone(f, (f.exchange && this.secretsById.get(f.exchange)) || [])) : chunk;
        const body = shown.map((f) => `    ${safeJson(orderFinding(f), 2).replace(/\n/g, '\n    ')}`).join(',\n');
        await write(i === 0 ? body : `,\n${body}`);
      }
      await write('\n  ],\n');
    }
    await write(text.slice(at + xMarker.length + fMarker.length));
  }

  /** Remove the temporary file if finish() was never reached. */
  dispose(): void {
    if (this.spill) {
      this.spill.out.destroy();
      rmSync(this.spill.dir, { recursive: true, force: true });
      this.spill = null;
    }
  }
}
