// The ticket report in Markdown: what a service desk asks for (time range, when refusals began,
// client addresses on the wire, endpoints and users, findings with evidence and filters, and the
// refused requests with their headers). Wire text is escaped and kept in code spans/blocks.

import type { Report } from '../types.js';
import {
  captureRange, clientAddresses, groupFindings, humanTime, refusals, requestLines, responseLines, splitCode,
  statsLine, unauthorizedOf, verdict, whyText,
} from './model.js';
import { printable, safeJson } from './sanitize.js';

/** Most refused requests shown with full headers; the rest are listed in the table only. */
const DETAIL_LIMIT = 25;
const TABLE_LIMIT = 500;
const FINDING_LIMIT = 200;

function longestRun(s: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of s) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** An inline code span holding s (escaped); safe inside a table cell. */
export function mdCode(s: string, inTable = true): string {
  let t = printable(s);
  if (inTable) t = t.replace(/\|/g, '\\|');
  if (t === '') return '';
  const fence = '`'.repeat(longestRun(t, '`') + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** Prose from the wire or a finding, escaped so no Markdown or HTML in it takes effect. */
export function mdText(s: string): string {
  return printable(s).replace(/[\\`*_[\]<>|~&#]/g, (c) => `\\${c}`);
}

/** Prose where `...` spans are code (finding messages, the verdict); everything else escaped. */
export function mdRich(s: string, inTable = false): string {
  return splitCode(s).map((part, i) => (i % 2 === 1 ? mdCode(part, inTable) : mdText(part))).join('');
}

function fenced(lines: string[], info = ''): string {
  const body = lines.join('\n');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function ref(x: { time: string; frame: number } | null): string {
  return x ? `${humanTime(x.time)} (frame ${x.frame})` : '—';
}

/** The Markdown ticket report. Pass a redacted report (redactReport) unless --show-secrets. */
export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  const range = captureRange(r);
  const rows = refusals(r);
  const problems = rows.filter((row) => !row.normalChallenge);
  const groups = groupFindings(r.findings);

  out.push('# authcap report', '');
  out.push(`**Verdict:** ${mdRich(verdict(r))}`, '');

  out.push('## Capture', '');
  out.push('| File | Format | Packets | Bytes | First packet (UTC) | Last packet (UTC) |', '|---|---|---:|---:|---|---|');
  for (const i of r.inputs) {
    out.push(`| ${mdCode(i.file)} | ${i.format} | ${i.packets} | ${i.bytes} | ${i.firstTime ? humanTime(i.firstTime) : '—'} | ${i.lastTime ? humanTime(i.lastTime) : '—'} |`);
  }
  out.push('');
  if (range.first) out.push(`- Time range (UTC): ${humanTime(range.first)} to ${range.last ? humanTime(range.last) : '?'}`);
  const first = problems[0];
  if (first) {
    const x = first.exchange;
    out.push(`- **Refusals started (UTC): ${humanTime(x.response!.time)}** — ${mdCode(`${x.request.method} ${x.request.uri}`, false)} from ${mdCode(x.client, false)}, answered ${x.response!.status} in frame ${x.response!.frame} (stream ${x.stream ?? 'udp'})`);
    const u = unauthorizedOf(r);
    const before = u?.groups
      .map((g) => g.lastAcceptedBeforeRefusal)
      .filter((a): a is NonNullable<typeof a> => a !== null && a.time <= x.response!.time)
      .sort((a, b) => (a.time < b.time ? 1 : -1))[0];
    if (before) out.push(`- Last accepted request before that (UTC): ${ref(before)}`);
  }
  const clients = clientAddresses(r);
  if (clients.length > 0) {
    out.push(`- Client addresses as seen on the wire: ${clients.slice(0, 20).map((c) => `${mdCode(c.ip, false)} (${c.exchanges} request${c.exchanges === 1 ? '' : 's'}, ${c.refused} refused)`).join(', ')}${clients.length > 20 ? `, and ${clients.length - 20} more` : ''}`);
  }
  out.push(`- Analysed with authcap ${mdText(r.tool.version)}`, '');

  const u = unauthorizedOf(r);
  if (u && u.groups.length > 0) {
    out.push('## Endpoints, clients and users', '');
    out.push(`${u.accepted} accepted, ${u.refused} refused.`, '');
    out.push('| Endpoint | Server | Host | Client address | User | Accepted | Refused | First refusal (UTC) | Last accepted before it (UTC) | Reasons |');
    out.push('|---|---|---|---|---|---:|---:|---|---|---|');
    for (const g of u.groups) {
      const reasons = Object.entries(g.reasons).map(([c, n]) => `${c} ×${n}`).join(', ');
      out.push(`| ${mdCode(g.endpoint)} | ${mdCode(g.server)} | ${g.host === null ? '—' : mdCode(g.host)} | ${mdCode(g.client)} | ${g.user === null ? '*(none)*' : mdCode(g.user)} | ${g.accepted} | ${g.refused} | ${ref(g.firstRefusal)} | ${ref(g.lastAcceptedBeforeRefusal)} | ${cell(mdText(reasons))} |`);
    }
    out.push('');
  }

  out.push('## Findings by code', '');
  if (groups.length === 0) out.push('No findings.', '');
  else {
    out.push('| Severity | Code | Count | Wireshark filter |', '|---|---|---:|---|');
    for (const g of groups) out.push(`| ${g.severity} | \`${g.code}\` | ${g.count} | ${mdCode(g.filter)} |`);
    out.push('');
    out.push('## Findings', '');
    r.findings.slice(0, FINDING_LIMIT).forEach((f, i) => {
      out.push(`### ${i + 1}. ${f.severity}: \`${f.code}\``, '');
      out.push(mdRich(f.message), '');
      const where: string[] = [];
      if (f.exchange !== null) where.push(`exchange ${mdCode(f.exchange, false)}`);
      if (f.stream !== null) where.push(`stream ${f.stream}`);
      if (f.frames.length > 0) where.push(`frame${f.frames.length > 1 ? 's' : ''} ${f.frames.join(', ')}`);
      if (where.length > 0) out.push(`- Where: ${where.join(', ')}`);
      if (f.filter) out.push(`- Wireshark filter: ${mdCode(f.filter, false)}`);
      if (f.evidence && Object.keys(f.evidence).length > 0) out.push('- Evidence:', '', fenced(safeJson(f.evidence).split('\n'), 'json'));
      out.push('');
    });
    if (r.findings.length > FINDING_LIMIT) out.push(`The other ${r.findings.length - FINDING_LIMIT} findings are in the JSON report.`, '');
  }

  if (rows.length > 0) {
    out.push(`## Refused requests (${rows.length})`, '');
    out.push('| Time (UTC) | Stream | Client | Server | Request | Status | Why |', '|---|---:|---|---|---|---:|---|');
    for (const row of rows.slice(0, TABLE_LIMIT)) {
      const x = row.exchange;
      out.push(`| ${humanTime(x.request.time)} | ${x.stream ?? 'udp'} | ${mdCode(x.client)} | ${mdCode(x.server)} | ${mdCode(`${x.request.method} ${x.request.uri}`)} | ${x.response!.status} | ${mdRich(whyText(row), true)} |`);
    }
    if (rows.length > TABLE_LIMIT) out.push('', `… and ${rows.length - TABLE_LIMIT} more (see the JSON report).`);
    out.push('');
    for (const row of rows.slice(0, DETAIL_LIMIT)) {
      const x = row.exchange;
      out.push(`### ${mdText(x.id)}: ${mdCode(`${x.request.method} ${x.request.uri}`, false)} → ${x.response!.status} ${mdText(x.response!.reason)}`, '');
      out.push(`- Time (UTC): request ${humanTime(x.request.time)} (frame ${x.request.frame}), response ${humanTime(x.response!.time)} (frame ${x.response!.frame})`);
      out.push(`- ${mdCode(x.client, false)} → ${mdCode(x.server, false)}, ${x.stream === null ? 'UDP' : `TCP stream ${x.stream}`}; Wireshark filter: ${mdCode(x.stream === null ? `frame.number in {${x.request.frame} ${x.response!.frame}}` : `tcp.stream eq ${x.stream}`, false)}`);
      const cred = x.request.credentials;
      out.push(`- Credentials: ${cred ? `${cred.kind}${cred.user !== null ? `, user ${mdCode(cred.user, false)}` : ', no user'}${cred.fields.length ? `, fields ${cred.fields.map((s) => mdCode(s, false)).join(' ')}` : ''}` : 'none'}`);
      out.push(`- Why: ${mdRich(whyText(row))}`, '');
      out.push(`Request (frame ${x.request.frame}, ${x.request.bodyLength} body bytes):`, '', fenced(requestLines(x), 'http'), '');
      out.push(`Response (frame ${x.response!.frame}, ${x.response!.bodyLength} body bytes):`, '', fenced(responseLines(x), 'http'), '');
    }
    if (rows.length > DETAIL_LIMIT) out.push(`Headers of the other ${rows.length - DETAIL_LIMIT} refused requests are in the JSON report.`, '');
  }

  out.push('## Statistics', '', mdText(statsLine(r)), '');
  return out.join('\n');
}
