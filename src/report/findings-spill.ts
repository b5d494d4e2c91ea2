// Findings written away as they are made, for big JSON reports (the back-end worker): each finding's JSON
// text, redacted and at its final indentation in the report, goes to a temporary file, and what stays in
// memory is a stub with what ordering and the CI gate need (code, severity, exchange, stream, first
// frame, the client its evidence names) and where its text is. JsonReportWriter.finish copies the texts.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeAllSync } from '../util/temp.js';
import { join } from 'node:path';
import type { Finding } from '../types.js';
import { JsonSink } from './exchange-json.js';
import { writeFindingJson, writeGroupJson } from './finding-json.js';


/** A stub's pointer to its text in the findings file: [byte offset, byte length]. */
export type TextRef = [number, number];

/** A finding whose text is in a findings file: `textRef` says where (read by FindingsReader.text). */
export type StubFinding = Finding & { textRef: TextRef };

export function isStub(f: Finding): f is StubFinding {
  return Array.isArray((f as Partial<StubFinding>).textRef);
}

/** Evidence keys the gate reads a client address from (report/gate.ts evidenceClient). */
const CLIENT_KEYS = ['client', 'clientIp', 'clientAddress', 'src', 'source'];

const FLUSH_BYTES = 256 << 10;

export class FindingsSpill {
  readonly file: string;
  private fd: number;
  private sink = new JsonSink(FLUSH_BYTES * 2);
  private written = 0;

  /**
   * `dir`: where the file goes (removed with it); `secretsOf`: the secrets met in an exchange, to scrub the
   * findings about it.
   */
  constructor(dir: string, private redact: boolean, private secretsOf: (id: string) => readonly string[]) {
    this.file = join(dir, 'findings.json');
    this.fd = openSync(this.file, 'w');
  }

  /** Write the finding's text away and give its stub. */
  add(f: Finding): StubFinding {
    const start = this.sink.pos;
    writeFindingJson(this.sink, f, this.redact, f.exchange ? this.secretsOf(f.exchange) : []);
    const at = this.written + start;
    const len = this.sink.pos - start;
    if (this.sink.pos >= FLUSH_BYTES) this.flush();
    const ev = f.evidence ?? {};
    const evidence: Record<string, unknown> = {};
    for (const k of CLIENT_KEYS) {
      const v = ev[k];
      if (typeof v === 'string' && v !== '') {
        evidence[k] = v;
        break;
      }
    }
    return {
      code: f.code,
      severity: f.severity,
      message: '',
      exchange: f.exchange,
      stream: f.stream,
      frames: f.frames.length ? [f.frames[0]] : [],
      filter: '',
      evidence,
      textRef: [at, len],
    };
  }

  private flush(): void {
    const s = this.sink;
    if (s.pos === 0) return;
    writeAllSync(this.fd, s.buf.subarray(0, s.pos));
    this.written += s.pos;
    s.pos = 0;
    // A huge finding grew the buffer: do not keep it.
    if (s.buf.length > FLUSH_BYTES * 4) s.buf = Buffer.allocUnsafe(FLUSH_BYTES * 2);
  }

  /** All written; the file is closed. */
  close(): string {
    this.flush();
    closeSync(this.fd);
    return this.file;
  }
}

/** The findings file is read in chunks of this size, kept for the texts that follow. */
const CHUNK = 1 << 20;
/**
 * At most this many bytes of chunks are kept; past that, texts not in a kept chunk are read alone. Small:
 * the report is written at the end of the run, where the process's memory peaks. (Dropping the least
 * recently used chunk instead thrashed: a 1 GiB capture's findings took 0.5 s of reads instead of 0.08 s.)
 */
const CACHE_BYTES = 4 << 20;

/**
 * Reads stubs' texts back from a findings file. The report asks for them by frame, not in the order they
 * were written (hundreds of interleaved runs on big captures), so the file is read in 1 MiB chunks that
 * are kept (up to 4 MiB: the whole file for captures of a few tens of MiB) and most texts need no read
 * of their own; a text across two chunks, or in a chunk past the limit, is read alone.
 */
export class FindingsReader {
  private fd: number;
  private size: number;
  /** Kept chunks by index. */
  private chunks = new Map<number, Buffer>();
  private kept = 0;
  private chunk: number;
  private cacheBytes: number;

  /** `sizes`: the chunk size and the bytes of chunks kept (defaults 1 MiB and 4 MiB; smaller in tests). */
  constructor(file: string, sizes: { chunk?: number; cacheBytes?: number } = {}) {
    this.chunk = sizes.chunk ?? CHUNK;
    this.cacheBytes = sizes.cacheBytes ?? CACHE_BYTES;
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** The text's bytes (UTF-8, as written) copied to the end of `sink`. */
  copyTo(ref: TextRef, sink: JsonSink): void {
    const [at, len] = ref;
    if (at + len > this.size) throw new Error('internal: the findings file is shorter than expected');
    sink.reserve(len);
    const c = Math.floor(at / this.chunk);
    const from = at - c * this.chunk;
    if (from + len <= this.chunk) {
      const chunk = this.chunkAt(c);
      if (chunk) {
        chunk.copy(sink.buf, sink.pos, from, from + len);
        sink.pos += len;
        return;
      }
    }
    this.read(sink.buf, sink.pos, len, at);
    sink.pos += len;
  }

  /** Chunk c, read and kept while the limit allows; undefined past it. */
  private chunkAt(c: number): Buffer | undefined {
    const hit = this.chunks.get(c);
    if (hit) return hit;
    const len = Math.min(this.chunk, this.size - c * this.chunk);
    if (this.kept + len > this.cacheBytes) return undefined;
    const chunk = Buffer.allocUnsafe(len);
    this.read(chunk, 0, len, c * this.chunk);
    this.kept += len;
    this.chunks.set(c, chunk);
    return chunk;
  }

  private read(into: Buffer, offset: number, len: number, at: number): void {
    for (let got = 0; got < len; ) {
      const n = readSync(this.fd, into, offset + got, len - got, at + got);
      if (n === 0) throw new Error('internal: the findings file is shorter than expected');
      got += n;
    }
  }

  close(): void {
    this.chunks.clear();
    this.kept = 0;
    closeSync(this.fd);
  }
}

/**
 * The 401 summary's groups (one per endpoint x client x user: tens of thousands on big captures) written
 * to `dir` as the text they have in the report (inside "unauthorized": {"groups": [...]}, 6-space indent,
 * separated by ",\n"), so the summary does not travel between threads or get copied to be rendered.
 * The summary needs no redaction (it holds no secrets: JsonReportWriter.finish renders it as is).
 */
export function writeGroupsFile(dir: string, groups: readonly unknown[]): string {
  const file = join(dir, 'unauthorized-groups.json');
  const fd = openSync(file, 'w');
  try {
    const sink = new JsonSink(FLUSH_BYTES * 2);
    for (let i = 0; i < groups.length; i++) {
      if (i > 0) sink.raw(',\n');
      writeGroupJson(sink, groups[i]);
      if (sink.pos >= FLUSH_BYTES) {
        writeAllSync(fd, sink.buf.subarray(0, sink.pos));
        sink.pos = 0;
      }
    }
    if (sink.pos) writeAllSync(fd, sink.buf.subarray(0, sink.pos));
  } finally {
    closeSync(fd);
  }
  return file;
}
