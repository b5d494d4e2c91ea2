// Seeded randomness for the fuzz suite: a mulberry32 stream with the helpers the mutators use, so a
// case is fully determined by its seed (re-run one with `node dist/test/fuzz/repro.js <seed>`).

import { rng as mulberry32 } from '../lib/synthetic.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  /** Unsigned 32-bit integer. */
  u32(): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T;
}

export function makeRng(seed: number): Rng {
  const f = mulberry32(seed ^ 0x5eed1234);
  const r: Rng = {
    next: f,
    int: (n) => Math.floor(f() * n),
    range: (lo, hi) => lo + Math.floor(f() * (hi - lo + 1)),
    u32: () => (Math.floor(f() * 0x10000) * 0x10000 + Math.floor(f() * 0x10000)) >>> 0,
    pick: (xs) => xs[Math.floor(f() * xs.length)],
    chance: (p) => f() < p,
    bytes: (n) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(f() * 256);
      return b;
    },
    weighted: (xs) => {
      const total = xs.reduce((s, [w]) => s + w, 0);
      let x = f() * total;
      for (const [w, v] of xs) {
        if ((x -= w) < 0) return v;
      }
      return xs[xs.length - 1][1];
    },
  };
  return r;
}
