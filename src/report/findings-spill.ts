// Findings written away as they are made, for big JSON reports (the back-end worker): each finding's JSON
// text, redacted and at its final indentation in the report, goes to a temporary file, and what stays in
// memory is a stub with what ordering and the CI gate need (code, severity, exchange, stream, first
// frame, the client its evidence names) and where its text is. JsonReportWriter.finish copies the texts.

import { closeSync, openSync, readSync } from 'node:fs';
import { writeAllSync } from '../util/temp.js';
import { join } from 'node:path';
import type { Finding } from '../types.js';
import { orderFinding, orderUnauthorizedGroup } from './json.js';
import { redactFindingForJson } from './redact.js';
import { safeJsonText } from './sanitize.js';

const FINDINGS_OPEN = '{\n  "findings": [\n';
const FINDINGS_CLOSE = '\n  ]\n}';

/**
 * One finding's text as it sits in the report's "findings" array (4-space indent, no separator): what
 * JSON.stringify of the whole array at indent 2 gives for it, with terminal-unsafe characters escaped.
 */
export function findingJsonText(f: Finding, redact: boolean, known: readonly string[]): string {
  const shown = redact ? redactFindingForJson(f, known) : f;
  const wrapped = safeJsonText(JSON.stringify({ findings: [orderFinding(shown)] }, null, 2));
  return wrapped.slice(FINDINGS_OPEN.length, wrapped.length - FINDINGS_CLOSE.length);
}

/** A stub's pointer to its text in the findings file: [byte offset, byte length]. */
export type TextRef = [number, number];

/** A finding whose text is in a findings file: `textRef` says where (see findingText()). */
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
  private buf = Buffer.allocUnsafe(FLUSH_BYTES * 2);
  private pos = 0;
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
    const text = findingJsonText(f, this.redact, f.exchange ? this.secretsOf(f.exchange) : []);
    const len = Buffer.byteLength(text);
    if (this.pos + len > this.buf.length) this.flush();
    let at: number;
    if (len > this.buf.length) {
      at = this.written;
      this.writeAll(Buffer.from(text));
    } else {
      at = this.written + this.pos;
      this.pos += this.buf.write(text, this.pos);
      if (this.pos >= FLUSH_BYTES) this.flush();
    }
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

  private writeAll(b: Buffer): void {
    writeAllSync(this.fd, b);
    this.written += b.length;
  }

  private flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  /** All written; the file is closed. */
  close(): string {
    this.flush();
    closeSync(this.fd);
    return this.file;
  }
}

/** Reads stubs' texts back from a findings file. */
export class FindingsReader {
  private fd: number;
  private buf = Buffer.allocUnsafe(64 << 10);

  constructor(file: string) {
    this.fd = openSync(file, 'r');
  }

  text(ref: TextRef): string {
    const [at, len] = ref;
    if (len > this.buf.length) this.buf = Buffer.allocUnsafe(len);
    for (let got = 0; got < len; ) {
      const n = readSync(this.fd, this.buf, got, len - got, at + got);
      if (n === 0) throw new Error('internal: the findings file is shorter than expected');
      got += n;
    }
    return this.buf.toString('utf8', 0, len);
  }

  close(): void {
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
    let part = '';
    for (let i = 0; i < groups.length; i++) {
      const t = `      ${safeJsonText(JSON.stringify(orderUnauthorizedGroup(groups[i]), null, 2)).replace(/\n/g, '\n      ')}`;
      part += i === 0 ? t : `,\n${t}`;
      if (part.length >= FLUSH_BYTES) {
        writeAllSync(fd, Buffer.from(part));
        part = '';
      }
    }
    if (part) writeAllSync(fd, Buffer.from(part));
  } finally {
    closeSync(fd);
  }
  return file;
}
