// Opens one input (a file path, or '-' for stdin), detects gzip by its magic bytes and gunzips it
// as a stream, and feeds 1 MiB chunks to a CaptureParser with backpressure. Anything that makes
// the input unreadable becomes an InputError with a one-line message naming the file.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import type { CaptureProblem, InputSummary } from '../types.js';
import { CaptureFormatError, CaptureParser, type ParserEvents } from './parser.js';

export class InputError extends Error {
  override name = 'InputError';
}

const CHUNK = 1 << 20;

function fsReason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'no such file (a parent is not a directory)';
    default: return e.message.replace(/\s+/g, ' ');
  }
}

function isZlibError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export async function readInput(
  file: string,
  o: { input: number; firstFrame: number; onProgress?(bytesRead: number): void } & ParserEvents,
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
    gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    async function* all(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      yield* src;
    }
    let parseError: unknown = null; // pipeline() reports an AbortError instead of the consumer's own error
    const consume = async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) try { parser.push(c); } catch (e) { throw (parseError = e); }
    };
    if (!gzip) {
      await consume(all());
    } else {
      // Drive gunzip by hand and take its output from 'data' events: everything it decompressed reaches the
      // parser before a late error (a bad checksum is only found after the last byte), which pipeline() drops.
      const gz = createGunzip({ chunkSize: 256 << 10 });
      let zerr: (Error & { code?: string }) | null = null;
      gz.on('data', (c: Buffer) => {
        if (parseError) return;
        try {
          parser.push(c);
        } catch (err) {
          parseError = err;
          gz.destroy();
        }
      });
      const done = new Promise<void>((resolve) => {
        gz.on('end', resolve);
        gz.on('close', resolve);
        gz.on('error', (err) => {
          zerr = err;
          resolve();
        });
      });
      for await (const c of all()) {
        if (zerr || parseError) break;
        if (!gz.write(c)) await Promise.race([once(gz, 'drain'), done]);
      }
      if (!zerr && !parseError) gz.end();
      await done;
      if (parseError) throw parseError;
      try {
        if (zerr) throw zerr;
      } catch (e) {
        if (!isZlibError(e)) throw parseError ?? e;
        if (parser.format === null) throw fail(`gzip data is corrupt (${e.message})`);
        const cut = e.code === 'Z_BUF_ERROR';
        parser.end();
        if (!cut || !parserTruncated) {
          o.onProblem({
            code: cut ? 'capture.truncated' : 'capture.malformed',
            message: cut
              ? 'the gzip-compressed capture was cut short: packets before the cut are analysed'
              : `the gzip-compressed data is corrupt (${e.message}): packets before it are analysed`,
            input: o.input,
            frame: parser.nextFrame > o.firstFrame ? parser.nextFrame - 1 : null,
            offset: parser.summary('').bytes,
            evidence: { compressedBytes: rawBytes, zlib: e.code },
          });
        }
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
