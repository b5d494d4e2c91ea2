// Converts capture timestamps (pcapng 64-bit tick counts at an interface's resolution, classic pcap
// seconds + fraction) into { sec, nsec, digits } without BigInt on the common paths.

import type { Timestamp } from '../types.js';

/** An interface's time resolution, decoded from pcapng if_tsresol (or classic pcap's magic). */
export interface Resolution {
  /** Ticks per second when it is a power of ten up to 10^9 (fast path), else 0. */
  pow10: number;
  /** Exponent n of 10^-n (or of 2^-n when `base2`). */
  exp: number;
  base2: boolean;
  /** Fraction digits shown: n for 10^-n (capped at 9), 9 for powers of two. */
  digits: number;
}

export const MICRO: Resolution = { pow10: 1e6, exp: 6, base2: false, digits: 6 };

/** Decodes the if_tsresol option byte. */
export function resolution(tsresol: number): Resolution {
  const base2 = (tsresol & 0x80) !== 0;
  const exp = tsresol & 0x7f;
  if (base2) return { pow10: 0, exp, base2, digits: 9 };
  return { pow10: exp <= 9 ? 10 ** exp : 0, exp, base2, digits: Math.min(exp, 9) };
}

const TWO32 = 4294967296;

/** Ticks (hi:lo, unsigned 32-bit halves) at resolution r, plus an offset in seconds. */
export function ticksToTime(hi: number, lo: number, r: Resolution, offsetSec: number): Timestamp {
  const d = r.pow10;
  if (d !== 0) {
    let sec: number;
    let rem: number;
    if (hi < 0x200000) {
      // below 2^53: exact in a double
      const ticks = hi * TWO32 + lo;
      sec = Math.floor(ticks / d);
      rem = ticks - sec * d;
      if (rem < 0) { sec -= 1; rem += d; } else if (rem >= d) { sec += 1; rem -= d; }
    } else {
      // long division over 16-bit limbs (d <= 1e9 < 2^30, so every step is exact)
      let q = 0;
      rem = 0;
      const limbs = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
      for (let i = 0; i < 4; i++) {
        const cur = rem * 65536 + limbs[i];
        const qd = Math.floor(cur / d);
        rem = cur - qd * d;
        q = q * 65536 + qd;
      }
      sec = q;
    }
    const nsec = r.exp <= 9 ? rem * 10 ** (9 - r.exp) : 0;
    return { sec: sec + offsetSec, nsec, digits: r.digits };
  }
  // rare resolutions (powers of two, finer than ns): BigInt
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  const per = r.base2 ? 1n << BigInt(r.exp) : 10n ** BigInt(r.exp);
  const sec = ticks / per;
  const nsec = ((ticks - sec * per) * 1_000_000_000n) / per;
  return { sec: Number(sec) + offsetSec, nsec: Number(nsec), digits: r.digits };
}

/** Classic pcap: seconds + fraction (µs or ns), carrying an out-of-range fraction into the seconds. */
export function pcapTime(sec: number, frac: number, nanos: boolean): Timestamp {
  let nsec = nanos ? frac : frac * 1000;
  if (nsec >= 1e9) {
    const carry = Math.floor(nsec / 1e9);
    sec += carry;
    nsec -= carry * 1e9;
  }
  return { sec, nsec, digits: nanos ? 9 : 6 };
}
