// Every capture of the shared corpus: packet count and link types as MANIFEST.tsv gives them
// (tshark's counts, up to the damage for damaged files), and first/last packet times as capinfos
// prints them, when capinfos is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readInput } from '../../src/capture/open.js';
import type { Timestamp } from '../../src/types.js';

const CORPUS = '/work/shared/corpus';

function haveCapinfos(): boolean {
  const r = spawnSync('capinfos', ['-h'], { encoding: 'utf8' });
  return !r.error;
}

/** capinfos' "First/Last packet time" as { sec, nsec, digits }; a fraction printed with more than 9 digits is a raw ns count. */
function parseEpoch(s: string): Timestamp | null {
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return null;
  let sec = Number(m[1]);
  const frac = m[2] ?? '';
  let nsec = frac.length > 9 ? Number(frac) : Number(frac.padEnd(9, '0'));
  sec += Math.floor(nsec / 1e9);
  nsec %= 1e9;
  return { sec, nsec, digits: Math.min(frac.length, 9) };
}

function capinfosTimes(file: string): { first: Timestamp | null; last: Timestamp | null } | null {
  const r = spawnSync('capinfos', ['-a', '-e', '-S', '-r', file], { encoding: 'utf8' });
  const first = /First packet time:\s+(\S+)/.exec(r.stdout ?? '');
  const last = /Last packet time:\s+(\S+)/.exec(r.stdout ?? '');
  if (!first || !last) return null; // capinfos could not tell (unreadable, or packets without time stamps)
  return { first: parseEpoch(first[1]), last: parseEpoch(last[1]) };
}

function sameTime(ours: Timestamp | null, theirs: Timestamp | null): boolean {
  if (!ours || !theirs) return ours === theirs;
  const digits = Math.min(ours.digits, theirs.digits);
  const unit = 10 ** (9 - digits);
  return ours.sec === theirs.sec && Math.floor(ours.nsec / unit) === Math.floor(theirs.nsec / unit);
}

test('shared corpus: packet counts, link types and first/last times agree with tshark/capinfos', async (t) => {
  if (!existsSync(join(CORPUS, 'MANIFEST.tsv'))) {
    t.skip(`${CORPUS} not found`);
    return;
  }
  const rows = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const cols = rows[0].split('\t');
  const iFile = cols.indexOf('file'), iPackets = cols.indexOf('packets'), iLinks = cols.indexOf('linktypes');
  const capinfos = haveCapinfos();
  let files = 0, timesCompared = 0, timesUnavailable = 0;
  const failures: string[] = [];
  for (const row of rows.slice(1)) {
    const c = row.split('\t');
    const file = c[iFile];
    const path = join(CORPUS, file);
    if (!existsSync(path)) continue;
    files++;
    const wantLinks = [...c[iLinks].matchAll(/\((\d+)\)/g)].map((m) => Number(m[1]));
    let first: Timestamp | null = null;
    let last: Timestamp | null = null;
    const { summary } = await readInput(path, {
      input: 0,
      firstFrame: 1,
      onPacket: (p) => {
        // capinfos reports the earliest and latest time stamps
        const f: Timestamp | null = first, l: Timestamp | null = last;
        if (!f || p.time.sec < f.sec || (p.time.sec === f.sec && p.time.nsec < f.nsec)) first = p.time;
        if (!l || p.time.sec > l.sec || (p.time.sec === l.sec && p.time.nsec > l.nsec)) last = p.time;
      },
      onProblem: () => {},
    });
    if (summary.packets !== Number(c[iPackets])) failures.push(`${file}: ${summary.packets} packets, tshark ${c[iPackets]}`);
    if (JSON.stringify(summary.linkTypes) !== JSON.stringify(wantLinks)) failures.push(`${file}: link types ${summary.linkTypes}, MANIFEST ${wantLinks}`);
    if (capinfos) {
      const ci = capinfosTimes(path);
      if (!ci) timesUnavailable++;
      else {
        timesCompared++;
        const iso = (x: Timestamp | null) => (x ? new Date(x.sec * 1000).toISOString().slice(0, 19) : null);
        const cut = (s: string | null) => (s ? s.slice(0, 19) : null);
        if (iso(first) !== cut(summary.firstTime) || iso(last) !== cut(summary.lastTime)) failures.push(`${file}: summary times ${summary.firstTime} ${summary.lastTime}`);
        if (!sameTime(first, ci.first) || !sameTime(last, ci.last)) {
          failures.push(`${file}: times ${JSON.stringify([first, last])}, capinfos ${JSON.stringify([ci.first, ci.last])}`);
        }
      }
    }
  }
  console.log(
    `corpus: ${files} captures, ${files - failures.length} agree on packets/link types` +
      (capinfos ? `, times compared with capinfos for ${timesCompared} (${timesUnavailable} without capinfos times)` : ', capinfos not installed: times not compared') +
      `; ${failures.length} disagreement(s)`,
  );
  assert.deepEqual(failures, []);
  assert.ok(files > 0);
});
