// Where a streamed report goes: a file (-o) or stdout. The file is opened at the first write, so an
// analysis that fails before it makes none, and a report begun and not finished is removed.

import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export class ReportOutput {
  private stream: Writable | null = null;

  /** `file`: the path to write, or undefined / '-' for stdout. */
  constructor(private readonly file: string | undefined) {}

  get toFile(): boolean {
    return this.file !== undefined && this.file !== '-';
  }

  /** The stream to write to (the file is created on the first call). */
  open(): Writable {
    return (this.stream ??= this.toFile ? createWriteStream(this.file!) : process.stdout);
  }

  /** The report is complete: a file is flushed and closed (stdout stays open). */
  async close(): Promise<void> {
    const s = this.stream;
    if (!s || !this.toFile) return;
    s.end();
    await once(s, 'finish');
  }

  /** The report will not be finished: a file begun for it is removed (one never opened is left alone). */
  abort(): void {
    const s = this.stream;
    if (!s || !this.toFile) return;
    (s as WriteStream).destroy();
    rmSync(this.file!, { force: true });
  }
}
