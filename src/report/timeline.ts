// Inline SVG timeline for the HTML report: per endpoint, accepted and refused requests over the
// capture's time, as two lanes with distinct marks and colours, labelled time ticks and a legend.

import { isAcceptedStatus } from '../util/status.js';
import type { Exchange } from '../types.js';
import { isRefusal, isoToMs } from './model.js';
import { escapeHtml, printable } from './sanitize.js';

export const ACCEPTED_COLOR = '#2e7d32';
export const REFUSED_COLOR = '#c62828';

const W = 760;
const LEFT = 86;
const RIGHT = 16;
const PLOT = W - LEFT - RIGHT;
const H = 112;
const Y_ACCEPTED = 40;
const Y_REFUSED = 64;
const Y_AXIS = 80;

/** Accepted: a final answer below 400 (the request got through authentication). */
export function isAccepted(x: Exchange): boolean {
  return isAcceptedStatus(x.response?.status);
}

const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/** Tick positions (ms) at a round step, at most about 7 of them, within [start, end]. */
export function ticks(start: number, end: number): { at: number[]; step: number } {
  const span = Math.max(end - start, 1);
  const step = STEPS_MS.find((s) => span / s <= 6) ?? Math.ceil(span / 6 / 86_400_000) * 86_400_000;
  const at: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end + 1e-6; t += step) at.push(t);
  return { at, step };
}

function tickLabel(ms: number, step: number, span: number): string {
  const d = new Date(Math.floor(ms));
  if (Number.isNaN(d.getTime())) return ''; // beyond Date's range (a damaged capture's timestamps)
  const iso = d.toISOString();
  if (span > 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  if (step < 1000) return iso.slice(11, 23);
  return iso.slice(11, 19);
}

interface Bin {
  x: number;
  count: number;
  first: Exchange;
}

function bins(list: Exchange[], x: (e: Exchange) => number): Bin[] {
  const m = new Map<number, Bin>();
  for (const e of list) {
    const px = Math.round(x(e) / 3) * 3; // one mark per 3 px: bounded size however many requests
    const b = m.get(px);
    if (b) b.count++;
    else m.set(px, { x: px, count: 1, first: e });
  }
  return [...m.values()];
}

function markTitle(b: Bin, what: string): string {
  const e = b.first;
  const t = `${e.request.time} ${e.request.method} ${e.request.uri} → ${e.response?.status ?? ''} (frame ${e.response?.frame ?? e.request.frame}, from ${e.client})`;
  return escapeHtml(printable(b.count === 1 ? t : `${b.count} ${what} requests, first: ${t}`));
}

/**
 * One endpoint's timeline as an <svg> element. `range` is the capture's time span (ISO strings);
 * exchanges outside it widen it.
 */
export function timelineSvg(endpoint: string, exchanges: Exchange[], range: { first: string | null; last: string | null }): string {
  let start = range.first ? isoToMs(range.first) : Infinity;
  let end = range.last ? isoToMs(range.last) : -Infinity;
  for (const e of exchanges) {
    const t = isoToMs(e.request.time);
    if (t < start) start = t;
    if (t > end) end = t;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end)) start = end = 0;
  if (end - start < 1) {
    start -= 500;
    end += 500;
  }
  const span = end - start;
  const x = (e: Exchange) => LEFT + ((isoToMs(e.request.time) - start) / span) * PLOT;
  const accepted = exchanges.filter(isAccepted);
  const refused = exchanges.filter(isRefusal);
  const { at, step } = ticks(start, end);
  const name = escapeHtml(printable(endpoint));
  const parts: string[] = [];
  parts.push(`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Timeline of ${name}: ${accepted.length} accepted, ${refused.length} refused">`);
  parts.push(`<title>${name}: ${accepted.length} accepted, ${refused.length} refused</title>`);
  // legend
  parts.push(`<g class="legend" font-size="11"><circle cx="${LEFT + 6}" cy="12" r="4" fill="${ACCEPTED_COLOR}"/><text x="${LEFT + 14}" y="16">accepted (${accepted.length})</text>` +
    `<path d="M${LEFT + 124},8 l8,8 m0,-8 l-8,8" stroke="${REFUSED_COLOR}" stroke-width="2.5"/><text x="${LEFT + 138}" y="16">refused 401/407 (${refused.length})</text></g>`);
  // lanes
  parts.push(`<g font-size="11" fill="#333"><text x="4" y="${Y_ACCEPTED + 4}">accepted</text><text x="4" y="${Y_REFUSED + 4}">refused</text></g>`);
  parts.push(`<g stroke="#ddd"><line x1="${LEFT}" y1="${Y_ACCEPTED}" x2="${LEFT + PLOT}" y2="${Y_ACCEPTED}"/><line x1="${LEFT}" y1="${Y_REFUSED}" x2="${LEFT + PLOT}" y2="${Y_REFUSED}"/></g>`);
  // axis and ticks
  parts.push(`<g class="axis" stroke="#666" font-size="10"><line x1="${LEFT}" y1="${Y_AXIS}" x2="${LEFT + PLOT}" y2="${Y_AXIS}"/>`);
  for (const t of at) {
    const tx = (LEFT + ((t - start) / span) * PLOT).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${Y_AXIS}" x2="${tx}" y2="${Y_AXIS + 4}"/><text x="${tx}" y="${Y_AXIS + 16}" text-anchor="middle" stroke="none" fill="#333">${tickLabel(t, step, span)}</text>`);
  }
  parts.push(`<text x="${LEFT + PLOT}" y="${H - 2}" text-anchor="end" stroke="none" fill="#666">time (UTC)</text></g>`);
  // marks
  parts.push(`<g class="accepted" fill="${ACCEPTED_COLOR}">`);
  for (const b of bins(accepted, x)) parts.push(`<circle cx="${b.x}" cy="${Y_ACCEPTED}" r="${b.count > 1 ? 5 : 4}"><title>${markTitle(b, 'accepted')}</title></circle>`);
  parts.push('</g>');
  parts.push(`<g class="refused" stroke="${REFUSED_COLOR}" stroke-width="2.5">`);
  for (const b of bins(refused, x)) parts.push(`<path d="M${b.x - 4},${Y_REFUSED - 4} l8,8 m0,-8 l-8,8"><title>${markTitle(b, 'refused')}</title></path>`);
  parts.push('</g></svg>');
  return parts.join('');
}
