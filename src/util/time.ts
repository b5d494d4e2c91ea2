import type { Timestamp } from '../types.js';

/** The date-and-time part of the last second formatted (times come mostly in order: most calls reuse it). */
let lastSec = NaN;
let lastBase = '';

/** ISO-8601 UTC with the capture's precision: 2023-11-14T22:13:20.123456Z (or 9 digits). */
export function isoTime(t: Timestamp): string {
  if (t.sec !== lastSec) {
    const d = new Date(Math.min(Math.max(t.sec, 1 - 8.64e12), 8.64e12 - 1) * 1000); // a (damaged) time beyond Date's range: clamped
    lastBase = d.toISOString().slice(0, -5); // drop ".mmmZ" (years past 9999 are longer than 19 characters)
    lastSec = t.sec;
  }
  const digits = Math.max(0, Math.min(9, t.digits));
  if (digits === 0) return `${lastBase}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, digits);
  return `${lastBase}.${frac}Z`;
}

/** Seconds as a float (for arithmetic on durations; loses sub-µs precision on absolute times). */
export function seconds(t: Timestamp): number {
  return t.sec + t.nsec / 1e9;
}

/** a - b in seconds. */
export function diffSeconds(a: Timestamp, b: Timestamp): number {
  return a.sec - b.sec + (a.nsec - b.nsec) / 1e9;
}

export function compareTime(a: Timestamp, b: Timestamp): number {
  return a.sec - b.sec || a.nsec - b.nsec;
}
