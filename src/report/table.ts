// The default terminal view: verdict, findings grouped by code, refused exchanges, SIP authentication
// dialogs (one line each), the 401 summary per endpoint/client/user, and a stats footer; cli-table3
// tables fitted to the width.

import Table from 'cli-table3';
import type { Exchange, Report, Severity } from '../types.js';
import {
  captureRange, groupFindings, humanTime, refusals, sipAuthDialogs, statsLine, timeOfDay, unauthorizedOf, verdict, whyText,
  type SipAuthDialog,
} from './model.js';
import { printable as printableFull } from './sanitize.js';

/** Cell text, clipped: cli-table3's wrapping is slow on long cells (a 60 KB URI took 6 s); the JSON report has it all. */
const printable = (s: string) => (s.length > 400 ? `${printableFull(s.slice(0, 400))}… (${s.length - 400} more characters)` : printableFull(s));

export interface TableOptions {
  color: boolean;
  width: number;
}

const ESC = '\x1b[';
/** Rows shown per table; the JSON report has them all. */
const ROW_LIMIT = 100;

const SEV_COLOR: Record<Severity, string> = { error: '31', warning: '33', info: '36' };

/**
 * Content widths for columns so the table (borders and padding included) fits `total` columns.
 * Flexible columns (long text that wraps well) give up width first, evenly from the widest;
 * the others keep their natural width unless even that does not fit.
 */
export function fitColumns(natural: number[], min: number[], total: number, flex: boolean[] = natural.map(() => true)): number[] {
  const avail = total - (natural.length + 1) - 2 * natural.length;
  const want = natural.map((n, i) => Math.max(n, min[i]));
  if (want.reduce((a, b) => a + b, 0) <= avail) return want;
  const fill = (cols: number[], budget: number, widths: number[]) => {
    const sum = (c: number) => cols.reduce((s, i) => s + Math.min(want[i], Math.max(c, min[i])), 0);
    let lo = 0;
    let hi = Math.max(0, ...cols.map((i) => want[i]));
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sum(mid) <= budget) lo = mid;
      else hi = mid - 1;
    }
    for (const i of cols) widths[i] = Math.min(want[i], Math.max(lo, min[i]));
    let spare = budget - cols.reduce((s, i) => s + widths[i], 0);
    for (const i of cols) {
      const add = Math.min(spare, want[i] - widths[i]);
      if (add > 0) {
        widths[i] += add;
        spare -= add;
      }
    }
  };
  const widths = [...want];
  const flexCols = want.map((_, i) => i).filter((i) => flex[i]);
  const fixed = want.reduce((s, n, i) => s + (flex[i] ? 0 : n), 0);
  const flexMin = flexCols.reduce((s, i) => s + min[i], 0);
  if (fixed + flexMin <= avail) fill(flexCols, avail - fixed, widths);
  else fill(want.map((_, i) => i), avail, widths);
  return widths;
}

/** Word-wrap plain text to width (long words are split). */
export function wrapText(s: string, width: number): string {
  const out: string[] = [];
  for (const para of s.split('\n')) {
    let line = '';
    for (const word of para.split(/ +/)) {
      let w = word;
      while ([...w].length > width) {
        if (line) {
          out.push(line);
          line = '';
        }
        out.push(w.slice(0, width));
        w = w.slice(width);
      }
      if (line && [...line].length + 1 + [...w].length > width) {
        out.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    out.push(line);
  }
  return out.join('\n');
}

function textWidth(s: string): number {
  let w = 0;
  for (const line of s.split('\n')) w = Math.max(w, [...line].length);
  return w;
}

type Cell = string | { content: string; wordWrap?: boolean; wrapOnWordBoundary?: boolean; hAlign?: 'left' | 'right' | 'center' };

class Painter {
  constructor(readonly on: boolean) {}
  paint(code: string, s: string): string {
    return this.on ? `${ESC}${code}m${s}${ESC}0m` : s;
  }
  bold(s: string): string {
    return this.paint('1', s);
  }
  dim(s: string): string {
    return this.paint('2', s);
  }
  severity(sev: Severity): string {
    return this.paint(SEV_COLOR[sev], sev);
  }
}

/**
 * Build a cli-table3 table fitted to the width. `plain` are the uncoloured cell texts (for the
 * width computation); `cells` what is shown. Columns in `hard` wrap anywhere (URIs, filters).
 */
function makeTable(p: Painter, width: number, head: string[], rows: { plain: string[]; cells: Cell[] }[], min: number[], hard: Set<number>, flex: Set<number>): string {
  // headers wrap between words, so a header needs only its longest word
  const natural = head.map((h, i) => Math.max(...h.split(' ').map(textWidth), ...rows.map((r) => textWidth(r.plain[i]))));
  const widths = fitColumns(natural, min, width, head.map((_, i) => flex.has(i)));
  const t = new Table({
    head: head.map((h) => p.bold(h)),
    colWidths: widths.map((w) => w + 2),
    wordWrap: true,
    style: p.on ? { head: [], border: ['grey'] } : { head: [], border: [] },
  });
  for (const r of rows) {
    t.push(r.cells.map((c, i) => (hard.has(i) && typeof c === 'string' ? { content: c, wordWrap: true, wrapOnWordBoundary: false } : c)));
  }
  return t.toString();
}

/** Time of day to the millisecond when the capture is within one day (the ticket formats keep full precision). */
function timeCell(iso: string, sameDay: boolean): string {
  const t = sameDay ? timeOfDay(iso) : humanTime(iso);
  return t.replace(/(\.\d{3})\d+$/, '$1');
}

/** Call-IDs are long (random part @ host): the start is enough to tell dialogs apart and to search for. */
export function shortCallId(id: string, max = 24): string {
  return [...id].length > max ? `${[...id].slice(0, max - 1).join('')}…` : id;
}

/** "401 → 401 → 200"; "none" where a request got no final answer; runs of more than 3 equal statuses as "401 ×5". */
export function statusSequence(d: SipAuthDialog): string {
  const parts: string[] = [];
  for (let i = 0; i < d.statuses.length; ) {
    let j = i;
    while (j < d.statuses.length && d.statuses[j] === d.statuses[i]) j++;
    const text = d.statuses[i] === null ? 'none' : String(d.statuses[i]);
    if (j - i > 3) parts.push(`${text} ×${j - i}`);
    else for (let k = i; k < j; k++) parts.push(text);
    i = j;
  }
  return parts.join(' → ');
}

function outcomeText(d: SipAuthDialog): string {
  return d.finalStatus !== null ? `${d.outcome} (${d.finalStatus})` : d.outcome;
}

function streamText(x: Exchange): string {
  return x.stream === null ? (x.transport ?? 'udp') : String(x.stream);
}

/** The default terminal report. Pass a redacted report (redactReport) unless --show-secrets. */
export function renderTable(r: Report, o: TableOptions): string {
  const p = new Painter(o.color);
  const width = Math.max(40, Math.floor(o.width) || 80);
  const out: string[] = [];
  const range = captureRange(r);
  const day = range.first ? range.first.slice(0, 10) : null;
  const sameDay = day !== null && (range.last ?? range.first)!.slice(0, 10) === day;
  const rows = refusals(r);
  const problems = rows.filter((row) => !row.normalChallenge);

  out.push(p.bold(wrapText(printable(verdict(r)), width)));
  if (range.first) {
    const files = r.inputs.map((i) => printable(i.file)).join(', ');
    let line = `Capture: ${files}, ${humanTime(range.first)} → ${range.last ? (sameDay ? timeOfDay(range.last) : humanTime(range.last)) : '?'} UTC`;
    const first = problems[0]?.exchange.response;
    if (first) line += `; refusals start ${sameDay ? timeOfDay(first.time) : humanTime(first.time)} (frame ${first.frame})`;
    out.push(wrapText(line, width));
  }

  const groups = groupFindings(r.findings);
  if (groups.length > 0) {
    out.push('', p.bold('Findings'));
    out.push(makeTable(p, width, ['severity', 'code', 'count', 'first message', 'filter'], groups.map((g) => {
      const plain = [g.severity, g.code, String(g.count), printable(g.first.message), printable(g.filter)];
      return { plain, cells: [p.severity(g.severity), plain[1], { content: plain[2], hAlign: 'right' }, plain[3], plain[4]] };
    }), [7, 10, 5, 16, 12], new Set([4]), new Set([3, 4])));
  }

  if (rows.length > 0) {
    out.push('', p.bold(`Refused requests (${rows.length})`));
    out.push(makeTable(p, width, ['time', 'stream', 'client', 'method', 'URI', 'status', 'why'], rows.slice(0, ROW_LIMIT).map((row) => {
      const x = row.exchange;
      const plain = [
        timeCell(x.request.time, sameDay), streamText(x), printable(x.client), printable(x.request.method),
        printable(x.request.uri), String(x.response!.status), printable(whyText(row)),
      ];
      const cells: Cell[] = [...plain];
      cells[5] = row.normalChallenge ? plain[5] : p.paint('31', plain[5]);
      return { plain, cells };
    }), [12, 6, 8, 4, 9, 6, 9], new Set([2, 4]), new Set([2, 4, 6])));
    if (rows.length > ROW_LIMIT) out.push(`(first ${ROW_LIMIT} of ${rows.length}; --format json lists them all)`);
  }

  const dialogs = sipAuthDialogs(r);
  if (dialogs.length > 0) {
    out.push('', p.bold(`SIP authentication (${dialogs.length} dialog${dialogs.length === 1 ? '' : 's'} with a 401/407)`));
    // finding codes are not cut (they are looked up) unless the terminal is too narrow for them
    const mins = [10, 8, 6, 4, 9, 10];
    const longestCode = Math.max(1, ...dialogs.flatMap((d) => d.codes.map((c) => c.length)));
    const codesMin = Math.min(longestCode, Math.max(8, width - 22 - mins.reduce((a, b) => a + b, 0)));
    out.push(makeTable(p, width, ['Call-ID', 'client', 'method', 'user', 'statuses', 'outcome', 'findings'], dialogs.slice(0, ROW_LIMIT).map((d) => {
      const plain = [
        printable(shortCallId(d.callId)), printable(d.client), printable(d.method), d.user === null ? '(none)' : printable(d.user),
        statusSequence(d), outcomeText(d), d.codes.join(', ') || '-',
      ];
      const cells: Cell[] = [...plain];
      if (d.user === null) cells[3] = p.dim(plain[3]);
      const good = d.outcome === 'registered' || d.outcome === 'accepted';
      cells[5] = p.paint(good ? '32' : '31', plain[5]);
      return { plain, cells };
    }), [...mins, codesMin], new Set(codesMin < longestCode ? [0, 1, 6] : [0, 1]), new Set([0, 1, 3, 4, 5, 6])));
    if (dialogs.length > ROW_LIMIT) out.push(`(first ${ROW_LIMIT} of ${dialogs.length} dialogs; --format json lists the exchanges)`);
  }

  const u = unauthorizedOf(r);
  if (u && u.refused > 0) {
    out.push('', p.bold(`Accepted and refused per endpoint, client and user (${u.accepted} accepted, ${u.refused} refused)`));
    out.push(makeTable(p, width, ['endpoint', 'client', 'user', 'accepted / refused', 'first refusal', 'last accepted before it'], u.groups.slice(0, ROW_LIMIT).map((g) => {
      const ref = (x: { time: string; frame: number } | null) => (x ? `${timeCell(x.time, sameDay)} (frame ${x.frame})` : '-');
      const plain = [
        printable(g.endpoint), printable(g.client), g.user === null ? '(none)' : printable(g.user),
        `${g.accepted} / ${g.refused}`, ref(g.firstRefusal), ref(g.lastAcceptedBeforeRefusal),
      ];
      const cells: Cell[] = [...plain];
      if (g.user === null) cells[2] = p.dim(plain[2]);
      cells[3] = { content: g.refused > 0 ? `${g.accepted} / ${p.paint('31', String(g.refused))}` : plain[3], hAlign: 'right' };
      return { plain, cells };
    }), [10, 11, 6, 9, 12, 12], new Set([0, 1]), new Set([0, 1, 2, 4, 5])));
    if (u.groups.length > ROW_LIMIT) out.push(`(first ${ROW_LIMIT} of ${u.groups.length} rows; --format json lists them all)`);
  }

  if (rows.length === 0 && r.exchanges.length > 0 && r.exchanges.length <= 50) {
    out.push('', p.bold(`Exchanges (${r.exchanges.length})`));
    out.push(makeTable(p, width, ['time', 'stream', 'client', 'method', 'URI', 'status'], r.exchanges.map((x) => {
      const plain = [
        timeCell(x.request.time, sameDay), streamText(x), printable(x.client), printable(x.request.method),
        printable(x.request.uri), x.response ? String(x.response.status) : '(none)',
      ];
      return { plain, cells: [...plain] };
    }), [12, 6, 8, 4, 10, 6], new Set([2, 4]), new Set([2, 4])));
  }

  out.push('', p.dim(wrapText(printable(statsLine(r)), width)));
  return `${out.join('\n')}\n`;
}
