// Buffer's own per-encoding methods, which toString() and write() call after checking their arguments.
// Every Buffer has them, but Node's types do not declare them. For the short strings of the hot paths
// (the wire to the worker, exchange texts held as latin1), the checks cost more than the work.

declare module 'node:buffer' {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number, length: number): number;
    utf8Slice(start: number, end: number): string;
    utf8Write(s: string, offset: number, length: number): number;
  }
}

export {};
