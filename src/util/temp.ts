// Temporary directories that must not outlive the process: removed when done, and, on the main
// thread, also at exit (e.g. `authcap ... | head` ends the process on EPIPE in the middle of writing).

import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const live = new Set<string>();
let hooked = false;

/** Remove `dir` at process exit unless removeTempDir() came first (main thread only: a worker's exit is not the end). */
export function trackTempDir(dir: string): void {
  if (!isMainThread) return;
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
}

/** A new empty directory under the system's temporary directory, tracked. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  trackTempDir(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Write all of `b` to `fd` (a short write, rare on a regular file, is followed by the rest). */
export function writeAllSync(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}
