// The JSON report written as the analysis goes: each exchange is redacted and serialised once, when it
// completes (exchange-json.ts), and dropped; the text is gathered in chunks of about 256 KB, each
// written synchronously to a temporary file (created at the first chunk, so a small report never
// makes one). At the end the report is written in the contract's key order (tool, inputs, stats,
// exchanges, findings, ...), the exchanges copied in between, so memory does not grow with the
// number of exchanges. With two threads the head and the exchanges are written first (writeHead), while
// the worker is still making the cross-exchange findings.

import { closeSync, openSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { makeTempDir, removeTempDir, trackTempDir, writeAllSync } from '../util/temp.js';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Exchange, Report, ReportHead } from '../types.js';
import { JsonSink, writeExchangeJson } from './exchange-json.js';
import { renderJson } from './json.js';
import { redactReport, SecretSet } from './redact.js';
import { FindingsReader, isStub } from './findings-spill.js';
import { writeFindingJson } from './finding-json.js';
import { isAcceptedStatus } from '../util/status.js';

/** Bytes of exchange text gathered before they are written to the temporary file. */
const CHUNK_BYTES = 256 << 10;
/** Findings text (bytes) gathered before a write. */
const FINDINGS_BYTES = 256 << 10;

const DONE: Promise<void> = Promise.resolve();

const NONE: readonly string[] = Object.freeze([]);

/** The empty exchanges and findings in the text of the report's other sections. */
const X_MARKER = '\n  "exchanges": [],\n';
const F_MARKER = '  "findings": [],\n';

/**
 * A file's bytes to `out`, through one buffer reused from read to read (each write is waited for): copying
 * hundreds of MB of exchanges makes no garbage while the worker, at its peak, runs the final checks.
 */
async function copyFileTo(file: string, out: Writable): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      await new Promise<void>((resolve, reject) => out.write(buf.subarray(0, bytesRead), (e) => (e ? reject(e) : resolve())));
    }
  } finally {
    await fh.close();
  }
}

/** write(text) for `out`, waiting for 'drain' when it asks to. */
function writerTo(out: Writable): (s: string | Buffer) => Promise<void> {
  return async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
}

/**
 * The state of a writer that has taken all its exchanges, passed to another thread (structured-clone
 * safe) to write the report there: JsonReportWriter.resume(h).finish(...). The receiver owns the
 * temporary file from then on (finish or dispose removes it).
 */
export interface JsonHandoff {
  redact: boolean;
  /** Exchanges written. */
  count: number;
  /** Text after what the temporary file holds. */
  text: string;
  /** The temporary file (closed) with the text before `text`, and its directory; null when none. */
  spill: { dir: string; file: string } | null;
  /** Secrets met in each exchange that had any (not accepted ones), to scrub the findings about it. */
  secretsById: Map<string, string[]>;
  /** The file with the texts of stub findings (findings-spill.ts), in the temporary directory; null when none. */
  findingsFile?: string | null;
  /** The 401 summary's groups as report text (findings-spill.ts writeGroupsFile): the report's are then empty. */
  groupsFile?: string | null;
}

export class JsonReportWriter {
  /** Text not yet written to the temporary file, as UTF-8 (about one chunk: reused, never long-lived text). */
  private sink = new JsonSink(CHUNK_BYTES + (64 << 10));
  /** Where prepare() writes one exchange's text. */
  private scratch = new JsonSink(64 << 10);
  private count = 0;
  private spill: { dir: string; file: string; fd: number } | null = null;
  /** Secrets met in each exchange, to scrub the findings about it (only exchanges that had any). */
  private secretsById = new Map<string, string[]>();
  /** Texts of the report's stub findings (written by a FindingsSpill), when there are any. */
  private findingsFile: string | null = null;
  /** The 401 summary's groups as text (writeGroupsFile), when they were written away. */
  private groupsFile: string | null = null;
  /** Temporary directories this writer removes when done. */
  private dirs = new Set<string>();
  /** writeHead() ran: the report's head and exchanges are out. */
  private headWritten = false;

  /** The secrets met in an exchange (written so far), to scrub the findings about it. */
  secretsOf(id: string): readonly string[] {
    return this.secretsById.get(id) ?? NONE;
  }

  /** `memoryBytes`: bytes of text gathered before a write to the temporary file (default 256 KiB). */
  /** `dir`: an empty directory to put the temporary file in (it is removed with the file); default: a new one. */
  constructor(private o: { redact: boolean; memoryBytes?: number; dir?: string }) {}

  /** Serialise one exchange (in the order they should appear). */
  exchange(x: Exchange): void {
    this.writePrepared(this.prepare(x));
  }

  /**
   * An exchange's report text, made now and written later by writePrepared (in the order exchanges should
   * appear): a string of its UTF-8 bytes, one char per byte (one flat string to hold instead of the
   * exchange's objects). The exchange's secrets are known from here on (secretsOf).
   */
  prepare(x: Exchange): string {
    const found = this.o.redact ? new SecretSet() : undefined;
    const sink = this.scratch;
    sink.pos = 0;
    writeExchangeJson(sink, x, this.o.redact, found); // nothing of an exchange that could not be written
    // Kept for the exchanges findings are usually about (not accepted); accepted ones are dropped, so
    // memory does not grow with the traffic (their findings' evidence is still redacted by key).
    if (found && found.values.size && !isAcceptedStatus(x.response?.status)) this.secretsById.set(x.id, [...found.values]);
    const text = sink.latin1Text();
    if (sink.buf.length > 4 * CHUNK_BYTES) this.scratch = new JsonSink(64 << 10);
    return text;
  }

  /** Append a prepared exchange's text. */
  writePrepared(text: string): void {
    const sink = this.sink;
    if (this.count > 0) sink.raw(',\n');
    sink.latin1(text);
    this.count++;
    if (sink.pos >= (this.o.memoryBytes ?? CHUNK_BYTES)) this.flushToDisk();
  }

  private flushToDisk(): void {
    if (!this.spill) {
      const dir = this.o.dir ?? makeTempDir('authcap-spill-');
      this.dirs.add(dir);
      const file = join(dir, 'exchanges.json');
      try {
        this.spill = { dir, file, fd: openSync(file, 'w') };
      } catch (e) {
        removeTempDir(dir);
        throw e;
      }
    }
    const { buf, pos } = this.sink;
    writeAllSync(this.spill.fd, buf.subarray(0, pos));
    this.sink.pos = 0;
    // After an exceptionally large exchange, do not keep the grown buffer.
    if (buf.length > 4 * CHUNK_BYTES) this.sink = new JsonSink(CHUNK_BYTES + (64 << 10));
  }

  /**
   * Stop taking exchanges and give the text written so far, and the temporary file, to whoever
   * resumes it (another thread); this writer then holds nothing (dispose() does not remove the file).
   */
  handoff(): JsonHandoff {
    let spill: JsonHandoff['spill'] = null;
    if (this.spill) {
      closeSync(this.spill.fd);
      spill = { dir: this.spill.dir, file: this.spill.file };
      this.spill = null;
    }
    const h: JsonHandoff = {
      redact: this.o.redact, count: this.count, text: this.sink.toString(), spill, secretsById: this.secretsById,
      findingsFile: this.findingsFile, groupsFile: this.groupsFile,
    };
    this.dirs.clear();
    this.sink = new JsonSink(0);
    this.count = 0;
    this.secretsById = new Map();
    return h;
  }

  /** A writer that goes on from a handoff (more exchanges may be added; finish() writes the report). */
  static resume(h: JsonHandoff, o: { memoryBytes?: number } = {}): JsonReportWriter {
    const w = new JsonReportWriter({ redact: h.redact, memoryBytes: o.memoryBytes });
    w.count = h.count;
    w.sink.text(h.text);
    w.secretsById = h.secretsById;
    if (h.spill) {
      w.spill = { dir: h.spill.dir, file: h.spill.file, fd: openSync(h.spill.file, 'a') };
      w.own(h.spill.file);
    }
    w.takeFiles(h);
    return w;
  }

  /** The findings' and groups' files of a handoff (made after the exchanges were handed over): this writer owns them now. */
  takeFiles(h: Pick<JsonHandoff, 'findingsFile' | 'groupsFile'>): void {
    this.findingsFile = h.findingsFile ?? null;
    this.groupsFile = h.groupsFile ?? null;
    for (const f of [this.findingsFile, this.groupsFile]) if (f) this.own(f);
  }

  /** A temporary file's directory is removed with this writer (and when the process exits). */
  private own(file: string): void {
    this.dirs.add(dirname(file));
    trackTempDir(dirname(file));
  }

  /** Backpressure for the producer: the temporary file is written synchronously, so nothing waits. */
  drained(): Promise<unknown> {
    return DONE;
  }

  /**
   * Write the whole report to `out`: `report.exchanges` is ignored (the streamed ones take its place);
   * the findings are redacted and written in chunks, and the other sections are redacted (with the
   * secrets met in the exchanges) unless redact is off.
   */
  async finish(report: Report, out: Writable): Promise<void> {
    try {
      if (!this.headWritten) await this.writeHead(report, out);
      await this.writeRest(report, out);
    } finally {
      this.dispose();
    }
  }

  /**
   * The report up to the end of its exchanges (tool, inputs, stats, exchanges), written while the rest is
   * still being worked out; finish() then writes the rest. Those sections are the same whatever follows
   * them (nothing in them is redacted: they hold no header or body). The writer takes no exchange after it.
   */
  async writeHead(head: ReportHead, out: Writable): Promise<void> {
    this.headWritten = true;
    const text = this.sectionsText({ ...head, exchanges: [], findings: [] } as unknown as Report);
    const write = writerTo(out);
    await write(text.slice(0, this.markerAt(text)));
    if (this.count === 0) {
      await write(X_MARKER);
      return;
    }
    await write('\n  "exchanges": [\n');
    if (this.spill) {
      const { dir, file, fd } = this.spill;
      closeSync(fd);
      this.spill.fd = -1;
      await copyFileTo(file, out);
      unlinkSync(file); // the directory goes at the end (other files may share it)
      this.dirs.add(dir);
      this.spill = null;
    }
    const rest = Buffer.from(this.sink.buf.subarray(0, this.sink.pos));
    this.sink = new JsonSink(0);
    await write(rest);
    await write('\n  ],\n');
  }

  /** The report's sections other than exchanges and findings, redacted as the report is, as JSON text. */
  private sectionsText(report: Report): string {
    const empty: Report = { ...report, exchanges: [], findings: [] };
    return renderJson(this.o.redact ? redactReport(empty) : empty);
  }

  /** Where the (empty) exchanges and findings are in sectionsText's text. */
  private markerAt(text: string): number {
    const at = text.indexOf(X_MARKER + F_MARKER.slice(0, F_MARKER.indexOf(']') + 1));
    if (at < 0) throw new Error('internal: exchanges/findings keys not found in the JSON report');
    return at;
  }

  /** The findings and the sections after them. */
  private async writeRest(report: Report, out: Writable): Promise<void> {
    const text = this.sectionsText(report);
    const at = this.markerAt(text);
    if (!text.startsWith(X_MARKER + F_MARKER, at)) throw new Error('internal: no section after the findings in the JSON report');
    const write = writerTo(out);
    if (report.findings.length === 0) await write(F_MARKER);
    else {
      await write('  "findings": [\n');
      const reader = this.findingsFile ? new FindingsReader(this.findingsFile) : null;
      // The texts go out as the bytes they are (stubs' from the findings file, the others written here),
      // handed to `out` in chunks of about FINDINGS_BYTES: no string is made of them.
      let sink = new JsonSink(FINDINGS_BYTES + (64 << 10));
      try {
        for (let i = 0; i < report.findings.length; i++) {
          const f = report.findings[i];
          if (i > 0) sink.raw(',\n');
          if (isStub(f)) {
            if (!reader) throw new Error('internal: a finding stub without its findings file');
            reader.copyTo(f.textRef, sink);
          } else writeFindingJson(sink, f, this.o.redact, f.exchange ? this.secretsOf(f.exchange) : NONE);
          if (sink.pos >= FINDINGS_BYTES) {
            const chunk = sink.buf.subarray(0, sink.pos);
            sink = new JsonSink(FINDINGS_BYTES + (64 << 10));
            await write(chunk);
          }
        }
        if (sink.pos) await write(sink.buf.subarray(0, sink.pos));
      } finally {
        reader?.close();
      }
      await write('\n  ],\n');
    }
    let tail = text.slice(at + X_MARKER.length + F_MARKER.length);
    if (this.groupsFile) {
      // The 401 summary's groups were written away: their text goes where the (emptied) array is.
      const gMarker = '\n    "groups": []';
      const u = tail.indexOf('  "unauthorized": {');
      const g = u < 0 ? -1 : tail.indexOf(gMarker, u);
      if (g < 0) throw new Error('internal: the unauthorized groups key was not found in the JSON report');
      await write(`${tail.slice(0, g)}\n    "groups": [\n`);
      await copyFileTo(this.groupsFile, out);
      await write('\n    ]');
      tail = tail.slice(g + gMarker.length);
    }
    await write(tail);
  }

  /** Remove the temporary files (finish() does it when done). */
  dispose(): void {
    this.findingsFile = null;
    this.groupsFile = null;
    if (this.spill) {
      if (this.spill.fd >= 0) closeSync(this.spill.fd);
      this.dirs.add(this.spill.dir);
      this.spill = null;
    }
    for (const d of this.dirs) removeTempDir(d);
    this.dirs.clear();
    this.sink = new JsonSink(0);
  }
}
