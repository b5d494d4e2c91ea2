// Opens one input (a file path, or '-' for stdin), detects gzip by its magic bytes and gunzips it
// as a stream (gzip.ts: trailer checked, nothing lost), and feeds 1 MiB chunks to a CaptureParser
// with backpressure. Anything that makes
// the input unreadable becomes an InputError with a one-line message naming the file.

import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { CaptureProblem, InputSummary } from '../types.js';
import { CaptureFormatError, CaptureParser, type ParserEvents } from './parser.js';
import { Gunzip, GzipCorrupt, type GzipIssue } from './gzip.js';

export class InputError extends Error {
  override name = 'InputError';
}

const CHUNK = 1 << 20;

/** Whether bytes start with the gzip magic number (1f 8b): such an input is gunzipped. */
function isGzipStart(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Total size of the inputs when all are plain files (not stdin, not gzip-compressed); else null. */
export function plainInputBytes(files: string[]): number | null {
  let total = 0;
  const head = Buffer.alloc(2);
  for (const f of files) {
    if (f === '-') return null;
    try {
      const fd = openSync(f, 'r');
      try {
        total += fstatSync(fd).size;
        if (isGzipStart(head.subarray(0, readSync(fd, head, 0, 2, 0)))) return null;
      } finally {
        closeSync(fd);
      }
    } catch {
      return null; // reported when it is read
    }
  }
  return total;
}

function fsReason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'no such file (a parent is not a directory)';
    default: return e.message.replace(/\s+/g, ' ');
  }
}

export async function readInput(
  file: string,
  o: {
    input: number;
    firstFrame: number;
    onProgress?(bytesRead: number): void;
    /** Called after each chunk: reading waits for the promise it returns (a slower consumer's pace). */
    pace?(): Promise<void> | undefined;
  } & ParserEvents,
): Promise<{ summary: InputSummary; nextFrame: number }> {
  const name = file === '-' ? 'standard input' : `'${file}'`;
  const fail = (reason: string) => new InputError(`authcap: cannot read ${name}: ${reason}`);

  let raw: Readable;
  if (file === '-') {
    raw = process.stdin;
  } else {
    try {
      const st = await stat(file);
      if (st.isDirectory()) throw fail('is a directory');
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw fail(fsReason(e as NodeJS.ErrnoException));
    }
    raw = createReadStream(file, { highWaterMark: CHUNK });
  }

  let parserTruncated = false;
  const parser = new CaptureParser({
    input: o.input,
    firstFrame: o.firstFrame,
    onPacket: o.onPacket,
    onProblem: (p: CaptureProblem) => {
      if (p.code === 'capture.truncated') parserTruncated = true;
      o.onProblem(p);
    },
    onSecrets: o.onSecrets,
  });

  let rawBytes = 0;
  let gzip = false;
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  async function* source(): AsyncGenerator<Buffer> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      rawBytes += r.value.length;
      o.onProgress?.(rawBytes);
      yield r.value;
    }
  }

  try {
    // Look at the first two bytes (gzip magic 1f 8b) without consuming them.
    const head: Buffer[] = [];
    let headLen = 0;
    const src = source();
    while (headLen < 2) {
      const r = await src.next();
      if (r.done) break;
      head.push(r.value);
      headLen += r.value.length;
    }
    const first = Buffer.concat(head);
    gzip = isGzipStart(first);
    async function* all(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      yield* src;
    }
    let parseError: unknown = null; // the parser's own error, told apart from a gzip error
    const consume = async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) {
        try {
          parser.push(c);
        } catch (e) {
          throw (parseError = e);
        }
        const wait = o.pace?.();
        if (wait) await wait;
      }
    };
    if (!gzip) {
      await consume(all());
    } else {
      // Our own gunzip (gzip.ts): every decompressed byte reaches the parser before a bad trailer is reported.
      const deferred: CaptureProblem[] = [];
      const lastFrame = () => (parser.nextFrame > o.firstFrame ? parser.nextFrame - 1 : null);
      const gz = new Gunzip({
        onData: (c) => {
          try {
            parser.push(c);
          } catch (e) {
            throw (parseError = e);
          }
        },
        // frame is filled in when reported: the parser may still hold the last records back
        onIssue: (i: GzipIssue) => {
          deferred.push({ code: i.code, message: i.message, input: o.input, frame: null, offset: gz.outBytes, evidence: i.evidence });
        },
      });
      let corrupt: GzipCorrupt | null = null;
      try {
        for await (const c of all()) {
          await gz.write(c);
          const wait = o.pace?.();
          if (wait) await wait;
        }
        await gz.end();
      } catch (e) {
        gz.close();
        if (parseError) throw parseError;
        if (!(e instanceof GzipCorrupt)) throw e;
        if (parser.format === null) throw fail(`gzip data is corrupt (${e.message})`);
        corrupt = e;
      }
      parser.end();
      // The parser already said "cut short" when the cut fell inside a record: say it once.
      for (const p of deferred) if (p.code !== 'capture.truncated' || !parserTruncated) o.onProblem({ ...p, frame: lastFrame() });
      if (corrupt) {
        o.onProblem({
          code: 'capture.malformed',
          message: `the gzip-compressed data is corrupt (${corrupt.message}): packets before it are analysed`,
          input: o.input,
          frame: lastFrame(),
          offset: gz.outBytes,
          evidence: { compressedBytes: rawBytes, member: corrupt.member, zlib: corrupt.zlibCode },
        });
      }
    }
    parser.end();
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof CaptureFormatError) throw fail(gzip ? `${e.message} (gzip-compressed)` : e.message);
    if ((e as NodeJS.ErrnoException)?.code) throw fail(fsReason(e as NodeJS.ErrnoException));
    throw e;
  } finally {
    if (raw !== process.stdin) raw.destroy();
  }
  const summary = parser.summary(file);
  if (gzip) summary.compressed = true;
  return { summary, nextFrame: parser.nextFrame };
}
