// What every view derives from a Report: refused exchanges with their reasons, findings grouped
// by code, the one-sentence verdict, the capture's time range and the 401 summary. No rendering.

import type { Exchange, Finding, Report, Severity, UnauthorizedSummary } from '../types.js';
import { printable } from './sanitize.js';

export const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export function isRefusal(x: Exchange): boolean {
  const s = x.response?.status;
  return s === 401 || s === 407;
}

/** "POST /path" (method and path without the query; absolute-form URIs reduced to their path). */
export function endpointOf(x: Exchange): string {
  return `${x.request.method} ${pathOf(x.request.uri)}`;
}

export function pathOf(uri: string): string {
  let p = uri;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(p);
  if (abs) p = p.slice(abs[0].length) || '/';
  return p;
}

/** The IP part of "ip:port" or "[v6]:port". */
export function ipOf(endpoint: string): string {
  if (endpoint.startsWith('[')) {
    const end = endpoint.indexOf(']');
    return end > 0 ? endpoint.slice(1, end) : endpoint;
  }
  const first = endpoint.indexOf(':');
  if (first >= 0 && first === endpoint.lastIndexOf(':')) return endpoint.slice(0, first);
  return endpoint;
}

/** Order in which a refused request's findings are taken as "the" reason. */
const REASON_ORDER = [
  'app.ip-not-allowed', 'method.get-not-post', 'auth.missing', 'auth.field-missing', 'body.trailing-nul',
  'body.missing', 'body.length-mismatch', 'signature.variant', 'signature.uppercase', 'signature.mismatch',
  'auth.basic-malformed', 'auth.digest-mismatch', 'auth.token-expired', 'auth.stale-nonce',
  'auth.challenge-mismatch', 'auth.rejected-after-retry', 'auth.challenge-unanswered',
];

function reasonRank(f: Finding): number {
  const i = REASON_ORDER.indexOf(f.code);
  return i >= 0 ? i : REASON_ORDER.length + (4 - SEVERITY_RANK[f.severity]);
}

export interface RefusalRow {
  exchange: Exchange;
  /** Findings about this exchange other than http.unauthorized, best reason first. */
  reasons: Finding[];
  /** The http.unauthorized finding for it, if any. */
  unauthorized: Finding | null;
  /** A normal challenge round-trip: the client answered and was accepted. */
  normalChallenge: boolean;
}

export function refusals(r: Report): RefusalRow[] {
  const byExchange = new Map<string, Finding[]>();
  for (const f of r.findings) {
    if (f.exchange === null) continue;
    let list = byExchange.get(f.exchange);
    if (!list) byExchange.set(f.exchange, (list = []));
    list.push(f);
  }
  const rows: RefusalRow[] = [];
  for (const x of r.exchanges) {
    if (!isRefusal(x)) continue;
    const fs = byExchange.get(x.id) ?? [];
    const unauthorized = fs.find((f) => f.code === 'http.unauthorized') ?? null;
    const reasons = fs.filter((f) => f.code !== 'http.unauthorized').sort((a, b) => reasonRank(a) - reasonRank(b));
    const normalChallenge = unauthorized !== null && unauthorized.severity === 'info' && !reasons.some((f) => f.severity !== 'info');
    rows.push({ exchange: x, reasons, unauthorized, normalChallenge });
  }
  return rows;
}

/** Names of the missing field(s) in an auth.field-missing finding's evidence, if it says. */
function fieldNames(ev: Record<string, unknown>): string[] {
  for (const k of ['field', 'fields', 'missing', 'missingFields', 'name', 'header']) {
    const v = ev[k];
    if (typeof v === 'string' && v !== '') return [bareField(v)];
    if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string')) return (v as string[]).map(bareField);
  }
  return [];
}

/** The checks key fields by where they are ("form:user", "header:x-signature"); a person reads the name. */
function bareField(key: string): string {
  const m = /^(?:form|query|header|authorization|path|body|json|xml):(.+)$/.exec(key);
  if (!m) return key;
  return key.startsWith('header:') ? m[1].replace(/(^|-)([a-z])/g, (_x, d: string, c: string) => d + c.toUpperCase()) : m[1];
}

function code(s: string): string {
  return '`' + s.replace(/[`\n]/g, "'") + '`';
}

/** A short past-tense phrase for why n refused requests failed, keyed so equal reasons group. */
export function reasonPhrase(row: RefusalRow): { key: string; phrase: (n: number) => string } {
  const f = row.reasons[0];
  const was = (n: number) => (n === 1 ? 'was' : 'were');
  if (!f) {
    if (row.normalChallenge) return { key: 'challenge', phrase: (n) => `${was(n)} the normal challenge round-trip` };
    // The reason may be only in the http.unauthorized evidence (the comparison with accepted requests).
    const why = (row.unauthorized?.evidence?.reasons as string[] | undefined) ?? [];
    const known: [string, string][] = [
      ['challenge-answered-refused', 'answered the challenge and were refused again'],
      ['credentials-rejected', 'carried credentials the server rejected'],
      ['other-user', 'came from another user than the accepted requests'],
      ['other-method', 'used another method than the accepted requests'],
    ];
    for (const [k, text] of known) if (why.includes(k)) return { key: k === 'challenge-answered-refused' ? 'auth.rejected-after-retry' : `reason:${k}`, phrase: (n) => (n === 1 ? text.replace(/\bwere\b/, 'was') : text) };
    return { key: 'unknown', phrase: () => 'had no cause authcap could name' };
  }
  const ev = f.evidence ?? {};
  switch (f.code) {
    case 'auth.missing': return { key: f.code, phrase: () => 'carried no credentials' };
    case 'auth.field-missing': {
      const names = fieldNames(ev);
      if (names.length === 0) return { key: f.code, phrase: () => 'lacked a credential field that accepted requests carry' };
      const list = names.map(code).join(', ');
      return { key: `${f.code}:${names.join(',')}`, phrase: () => `lacked the ${list} field${names.length > 1 ? 's' : ''}` };
    }
    case 'body.trailing-nul': return { key: f.code, phrase: () => 'had a trailing NUL in the body' };
    case 'body.missing': return { key: f.code, phrase: () => 'had an empty body' };
    case 'body.length-mismatch': return { key: f.code, phrase: () => 'had a Content-Length that disagrees with the body sent' };
    case 'method.get-not-post': return { key: f.code, phrase: () => 'used GET where the endpoint needs POST' };
    case 'app.ip-not-allowed': return { key: f.code, phrase: () => 'came from an address the server does not allow' };
    case 'signature.variant': {
      const v = typeof ev.variant === 'string' ? ev.variant : null;
      return { key: `${f.code}:${v ?? ''}`, phrase: () => `had a signature computed the wrong way${v ? ` (${v})` : ''}` };
    }
    case 'signature.uppercase': return { key: f.code, phrase: () => 'had an upper-case signature' };
    case 'signature.mismatch': return { key: f.code, phrase: () => 'had a signature that matches no known computation' };
    case 'auth.basic-malformed': return { key: f.code, phrase: () => 'had malformed Basic credentials' };
    case 'auth.digest-mismatch': return { key: f.code, phrase: () => 'had a Digest response that does not verify' };
    case 'auth.token-expired': return { key: f.code, phrase: () => 'had an expired token' };
    case 'auth.stale-nonce': return { key: f.code, phrase: () => 'used a stale nonce' };
    case 'auth.rejected-after-retry': return { key: f.code, phrase: (n) => `answered the challenge and ${was(n)} refused again` };
    case 'auth.challenge-unanswered': return { key: f.code, phrase: (n) => `${n === 1 ? 'is a challenge' : 'are challenges'} the client never answered` };
    default: return { key: f.code, phrase: () => `showed ${f.code}` };
  }
}

export interface FindingGroup {
  code: string;
  severity: Severity;
  count: number;
  first: Finding;
  findings: Finding[];
  filter: string;
}

/** Most streams/frames/filters merged into one group filter (the JSON report has each finding's own). */
const MERGE_LIMIT = 50;

/** Wireshark filter showing a group's findings (stream and frame filters merged into one set). */
export function combinedFilter(fs: Finding[]): string {
  const distinct = [...new Set(fs.map((f) => f.filter).filter((s) => s))];
  if (distinct.length <= 1) return distinct[0] ?? '';
  const more = distinct.length > MERGE_LIMIT ? ` (first ${MERGE_LIMIT} of ${distinct.length})` : '';
  const shown = distinct.slice(0, MERGE_LIMIT);
  const streams = shown.map((s) => /^tcp\.stream (?:eq|==) (\d+)$/.exec(s.trim()));
  if (streams.every((m) => m)) return `tcp.stream in {${streams.map((m) => m![1]).join(' ')}}${more}`;
  const frames = shown.map((s) => /^frame\.number (?:eq|==) (\d+)$/.exec(s.trim()));
  if (frames.every((m) => m)) return `frame.number in {${frames.map((m) => m![1]).join(' ')}}${more}`;
  const few = distinct.slice(0, 8);
  return `${few.map((s) => `(${s})`).join(' || ')}${distinct.length > 8 ? ` (first 8 of ${distinct.length})` : ''}`;
}

export function groupFindings(findings: Finding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const g = groups.get(f.code);
    if (!g) groups.set(f.code, { code: f.code, severity: f.severity, count: 1, first: f, findings: [f], filter: '' });
    else {
      g.count++;
      g.findings.push(f);
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[g.severity]) g.severity = f.severity;
    }
  }
  const out = [...groups.values()];
  for (const g of out) g.filter = combinedFilter(g.findings);
  return out.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.count - a.count || a.code.localeCompare(b.code));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function exchangeCounts(r: Report): string {
  const http = r.exchanges.filter((x) => x.protocol === 'http').length;
  const sip = r.exchanges.filter((x) => x.protocol === 'sip').length;
  if (sip === 0) return `${plural(http, 'HTTP exchange')}`;
  if (http === 0) return `${plural(sip, 'SIP exchange')}`;
  return `${http} HTTP and ${plural(sip, 'SIP exchange')}`;
}

/**
 * The verdict: one or two sentences built from the findings and the refusals, e.g.
 * "3 requests refused (401): 2 lacked the `user` field, 1 had a trailing NUL in the body."
 * Backticks mark wire values (field names). Raw text: renderers escape it.
 */
export function verdict(r: Report): string {
  const rows = refusals(r);
  const problems = rows.filter((row) => !row.normalChallenge);
  const challenges = rows.length - problems.length;
  const onRefused = new Set(problems.map((row) => row.exchange.id));
  const sentences: string[] = [];
  if (problems.length > 0) {
    const statuses = [...new Set(problems.map((row) => row.exchange.response!.status))].sort();
    const parts = new Map<string, { n: number; phrase: (n: number) => string }>();
    for (const row of problems) {
      const p = reasonPhrase(row);
      const e = parts.get(p.key);
      if (e) e.n++;
      else parts.set(p.key, { n: 1, phrase: p.phrase });
    }
    const list = [...parts.values()].sort((a, b) => b.n - a.n).map((p) => `${p.n} ${p.phrase(p.n)}`);
    sentences.push(`${plural(problems.length, 'request')} refused (${statuses.join(', ')}): ${list.join(', ')}.`);
  }
  const others = r.findings.filter((f) => f.severity !== 'info' && f.code !== 'http.unauthorized' && !(f.exchange !== null && onRefused.has(f.exchange)));
  if (others.length > 0) {
    const g = groupFindings(others).map((x) => `${x.code} ×${x.count}`);
    sentences.push(`${problems.length > 0 ? 'Also found' : 'Problems found'}: ${g.join(', ')}.`);
  }
  if (sentences.length === 0) {
    const notes = groupFindings(r.findings.filter((f) => f.code !== 'http.unauthorized')).map((x) => `${x.code} ×${x.count}`);
    let s = `No authentication problems found in ${exchangeCounts(r)}`;
    const extra: string[] = [];
    if (challenges > 0) extra.push(`${plural(challenges, 'normal 401 challenge')}, answered and accepted`);
    if (notes.length > 0) extra.push(`notes: ${notes.join(', ')}`);
    if (extra.length > 0) s += ` (${extra.join('; ')})`;
    sentences.push(`${s}.`);
  }
  return sentences.join(' ');
}

/** First and last packet times over all inputs (ISO strings compare in time order). */
export function captureRange(r: Report): { first: string | null; last: string | null } {
  let first: string | null = null;
  let last: string | null = null;
  for (const i of r.inputs) {
    if (i.firstTime && (first === null || i.firstTime < first)) first = i.firstTime;
    if (i.lastTime && (last === null || i.lastTime > last)) last = i.lastTime;
  }
  return { first, last };
}

export function unauthorizedOf(r: Report): UnauthorizedSummary | null {
  const u = r.unauthorized as UnauthorizedSummary | undefined;
  if (!u || typeof u !== 'object' || !Array.isArray(u.groups)) return null;
  return u;
}

/** Milliseconds since the epoch (fractional) of an ISO-8601 UTC time with up to 9 fraction digits. */
export function isoToMs(iso: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return Date.parse(iso);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return Date.parse(`${m[1]}Z`) + frac;
}

/** "2024-05-01 10:00:01.123456" (ISO with a space; "Z" dropped: all times are UTC). */
export function humanTime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}

/** The time of day part only ("10:00:01.123456"). */
export function timeOfDay(iso: string): string {
  return humanTime(iso).slice(11);
}

/** One-line stats footer (raw text: renderers escape it). */
export function statsLine(r: Report): string {
  const s = r.stats;
  const files = r.inputs.map((i) => `${i.file} (${i.format})`).join(', ');
  return `${plural(s.packets, 'packet')}, ${plural(s.tcpStreams, 'TCP stream')}, HTTP: ${plural(s.httpRequests, 'request')}, ${plural(s.httpResponses, 'response')}; SIP: ${plural(s.sipRequests, 'request')}, ${plural(s.sipResponses, 'response')}` +
    (files ? ` — ${files}` : '') + ` — authcap ${r.tool.version}`;
}

/** A one-line "why" for a refused exchange: the best reason's message, plus other codes. */
export function whyText(row: RefusalRow): string {
  if (row.reasons.length === 0) {
    if (row.normalChallenge) return 'normal challenge round-trip (answered and accepted)';
    return row.unauthorized?.message ?? 'no cause found';
  }
  const [first, ...rest] = row.reasons;
  const more = [...new Set(rest.map((f) => f.code))];
  return `${first.message}${more.length ? ` [also: ${more.join(', ')}]` : ''}`;
}

function versionText(protocol: 'http' | 'sip', v: string): string {
  return /^[A-Za-z]/.test(v) ? v : `${protocol === 'sip' ? 'SIP' : 'HTTP'}/${v}`;
}

/** The request's start line and headers as they were sent (escaped; already redacted if r was). */
export function requestLines(x: Exchange): string[] {
  const q = x.request;
  return [`${printable(q.method)} ${printable(q.uri)} ${printable(versionText(x.protocol, q.version))}`,
    ...q.headers.map(([n, v]) => `${printable(n)}: ${printable(v)}`)];
}

export function responseLines(x: Exchange): string[] {
  const s = x.response;
  if (!s) return [];
  const version = versionText(x.protocol, (s as { version?: string }).version ?? x.request.version);
  return [`${printable(version)} ${s.status} ${printable(s.reason)}`, ...s.headers.map(([n, v]) => `${printable(n)}: ${printable(v)}`)];
}

/** Split text on `code` spans: [text, code, text, code, ...] (even indexes are prose). */
export function splitCode(s: string): string[] {
  return s.split(/`([^`\n]*)`/);
}

/** Distinct client IP addresses as seen on the wire, refused ones first. */
export function clientAddresses(r: Report): { ip: string; exchanges: number; refused: number }[] {
  const m = new Map<string, { ip: string; exchanges: number; refused: number }>();
  for (const x of r.exchanges) {
    const ip = ipOf(x.client);
    let e = m.get(ip);
    if (!e) m.set(ip, (e = { ip, exchanges: 0, refused: 0 }));
    e.exchanges++;
    if (isRefusal(x)) e.refused++;
  }
  return [...m.values()].sort((a, b) => b.refused - a.refused || b.exchanges - a.exchanges);
}

/** One SIP dialog (Call-ID, client address) that saw a 401/407: what the terminal shows on one line. */
export interface SipAuthDialog {
  callId: string;
  /** Client "ip:port" of the dialog's first challenged request. */
  client: string;
  /** The challenged method(s), e.g. "REGISTER" or "INVITE". */
  method: string;
  /** Digest username, else the From URI's user; null when neither is there. */
  user: string | null;
  /** Final statuses of the challenged method's requests in order; null where no final answer was captured. */
  statuses: (number | null)[];
  outcome: 'registered' | 'accepted' | 'refused after answering' | 'never answered' | 'no final answer' | 'refused';
  /** Status that ended the dialog when it is not a 2xx, 401 or 407 (e.g. 403). */
  finalStatus: number | null;
  /** Distinct warning/error codes on the dialog's exchanges, other than http.unauthorized. */
  codes: string[];
  firstFrame: number;
  time: string;
}

function sipHeader(x: Exchange, ...names: string[]): string | null {
  for (const [k, v] of x.request.headers) if (names.includes(k.toLowerCase())) return v;
  return null;
}

function hasAuthorization(x: Exchange): boolean {
  return x.request.headers.some(([k, v]) => /^(proxy-)?authorization$/i.test(k) && v.trim() !== '');
}

/** SIP dialogs that saw a 401/407, in order of their first request. Built from the exchanges' Call-ID and status. */
export function sipAuthDialogs(r: Report): SipAuthDialog[] {
  const byDialog = new Map<string, Exchange[]>();
  for (const x of r.exchanges) {
    if (x.protocol !== 'sip' || x.request.method === 'ACK' || x.request.method === 'CANCEL') continue;
    const callId = sipHeader(x, 'call-id', 'i');
    if (callId === null) continue;
    const key = `${ipOf(x.client)} ${callId}`;
    let list = byDialog.get(key);
    if (!list) byDialog.set(key, (list = []));
    list.push(x);
  }
  const codesByExchange = new Map<string, Set<string>>();
  for (const f of r.findings) {
    if (f.exchange === null || f.severity === 'info' || f.code === 'http.unauthorized') continue;
    let s = codesByExchange.get(f.exchange);
    if (!s) codesByExchange.set(f.exchange, (s = new Set()));
    s.add(f.code);
  }
  const out: SipAuthDialog[] = [];
  for (const all of byDialog.values()) {
    const challenged = new Set(all.filter(isRefusal).map((x) => x.request.method));
    if (challenged.size === 0) continue;
    const xs = all.filter((x) => challenged.has(x.request.method)).sort((a, b) => a.request.frame - b.request.frame);
    const first = xs.find(isRefusal)!;
    const statuses = xs.map((x) => x.response?.status ?? null);
    const last = statuses[statuses.length - 1];
    const firstChallenge = xs.indexOf(first);
    const answered = xs.some((x, i) => (i > firstChallenge || x === first) && hasAuthorization(x));
    let outcome: SipAuthDialog['outcome'];
    if (last !== null && last >= 200 && last < 300) outcome = xs[xs.length - 1].request.method === 'REGISTER' ? 'registered' : 'accepted';
    else if (last === null) outcome = 'no final answer';
    else if (answered) outcome = 'refused after answering';
    else if (last === 401 || last === 407) outcome = 'never answered';
    else outcome = 'refused';
    let user: string | null = null;
    for (const x of xs) if (!user && x.request.credentials?.user) user = x.request.credentials.user;
    if (!user) {
      const from = sipHeader(first, 'from', 'f');
      const m = from ? /sips?:([^@;>:]+)@/i.exec(from) : null;
      user = m ? m[1] : null;
    }
    const codes = new Set<string>();
    for (const x of xs) for (const c of codesByExchange.get(x.id) ?? []) codes.add(c);
    out.push({
      callId: sipHeader(first, 'call-id', 'i')!,
      client: first.client,
      method: [...challenged].join('/'),
      user,
      statuses,
      outcome,
      finalStatus: last !== null && !(last >= 200 && last < 300) && last !== 401 && last !== 407 ? last : null,
      codes: [...codes],
      firstFrame: xs[0].request.frame,
      time: xs[0].request.time,
    });
  }
  return out.sort((a, b) => a.firstFrame - b.firstFrame);
}
