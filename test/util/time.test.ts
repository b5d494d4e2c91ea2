// isoTime formats the date and time of day once per second and reuses it: whatever order the times
// come in (back and forth across seconds, damaged times out of Date's range), the text is the one
// the plain formatting gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTime } from '../../src/util/time.js';
import type { Timestamp } from '../../src/types.js';

/** The formatting without any cache (what isoTime did before it reused the last second). */
function plain(t: Timestamp): string {
  const d = new Date(Math.min(Math.max(t.sec, 1 - 8.64e12), 8.64e12 - 1) * 1000);
  const base = d.toISOString().slice(0, -5);
  const digits = Math.max(0, Math.min(9, t.digits));
  return digits === 0 ? `${base}Z` : `${base}.${String(t.nsec).padStart(9, '0').slice(0, digits)}Z`;
}

test('isoTime gives the plain formatting for times in any order', () => {
  const secs = [1_700_000_000, 1_700_000_000, 1_700_000_001, 1_699_999_999, 0, -1, 253_402_300_800, 9e15, -9e15, 1_700_000_001];
  const times: Timestamp[] = [];
  for (const sec of secs) for (const [nsec, digits] of [[0, 0], [123_456_000, 6], [5, 9], [999_999_999, 9], [120_000_000, 3], [7, 12], [7, -1]]) times.push({ sec, nsec, digits });
  // Forwards, backwards, and shuffled with a fixed seed.
  let seed = 7;
  const shuffled = times.map((t) => ({ t, k: (seed = (seed * 48271) % 2147483647) })).sort((a, b) => a.k - b.k).map((x) => x.t);
  for (const list of [times, [...times].reverse(), shuffled]) for (const t of list) assert.equal(isoTime(t), plain(t), JSON.stringify(t));
  assert.equal(isoTime({ sec: 1_700_000_000, nsec: 123_456_000, digits: 6 }), '2023-11-14T22:13:20.123456Z');
});
