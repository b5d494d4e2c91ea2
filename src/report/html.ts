// The ticket report as ONE self-contained HTML file: inline CSS, no script, no external fetch
// (a Content-Security-Policy forbids any), an SVG timeline per endpoint, collapsible headers.

import type { Exchange, Report } from '../types.js';
import {
  captureRange, clientAddresses, endpointOf, groupFindings, humanTime, isRefusal, refusals, requestLines,
  responseLines, splitCode, statsLine, unauthorizedOf, verdict, whyText,
} from './model.js';
import { escapeHtml, printable, safeJson } from './sanitize.js';
import { isAccepted, timelineSvg } from './timeline.js';

const DETAIL_LIMIT = 100;
const TABLE_LIMIT = 1000;
const TIMELINE_LIMIT = 12;
const FINDING_LIMIT = 500;

/** Wire text as safe HTML text. */
function h(s: string): string {
  return escapeHtml(printable(s));
}

/** Text where `...` spans become <code>. */
function rich(s: string): string {
  return splitCode(s).map((part, i) => (i % 2 === 1 ? `<code>${h(part)}</code>` : h(part))).join('');
}

function ref(x: { time: string; frame: number } | null): string {
  return x ? `${h(humanTime(x.time))} <span class="dim">(frame ${x.frame})</span>` : '—';
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.verdict{font-size:16px;font-weight:600;padding:10px 14px;border-left:5px solid #c62828;background:#fdf2f2}
.verdict.ok{border-color:#2e7d32;background:#f1f8f2}
table{border-collapse:collapse;margin:6px 0 12px;width:100%}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
code{background:#f3f3f3;padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.sev{font-weight:600}.sev-error{color:#c62828}.sev-warning{color:#b26a00}.sev-info{color:#1565c0}
.dim{color:#777}.finding{border:1px solid #e3e3e3;border-radius:4px;padding:6px 12px;margin:10px 0}
details{margin:4px 0}summary{cursor:pointer}figure{margin:8px 0 16px}figcaption{font-size:13px;color:#444}
svg.timeline{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
`;

function exchangeRow(x: Exchange, why: string | null): string {
  const status = x.response ? String(x.response.status) : '(none)';
  return `<tr><td>${h(humanTime(x.request.time))}</td><td class="n">${x.stream ?? 'udp'}</td><td><code>${h(x.client)}</code></td><td><code>${h(x.server)}</code></td>` +
    `<td><code>${h(`${x.request.method} ${x.request.uri}`)}</code></td><td class="n">${status}</td>${why === null ? '' : `<td>${rich(why)}</td>`}</tr>`;
}

function headersBlock(x: Exchange): string {
  const req = `<details><summary>Request headers (frame ${x.request.frame}, ${x.request.bodyLength} body bytes)</summary><pre>${escapeHtml(requestLines(x).join('\n'))}</pre></details>`;
  const res = x.response
    ? `<details><summary>Response headers (frame ${x.response.frame}, ${x.response.bodyLength} body bytes)</summary><pre>${escapeHtml(responseLines(x).join('\n'))}</pre></details>`
    : '<p class="dim">No response.</p>';
  return req + res;
}

/** The HTML ticket report. Pass a redacted report (redactReport) unless --show-secrets. */
export function renderHtml(r: Report): string {
  const range = captureRange(r);
  const rows = refusals(r);
  const problems = rows.filter((row) => !row.normalChallenge);
  const groups = groupFindings(r.findings);
  const b: string[] = [];
  const v = verdict(r);

  b.push('<h1>authcap report</h1>');
  b.push(`<p class="verdict${problems.length === 0 && !groups.some((g) => g.severity !== 'info') ? ' ok' : ''}" id="verdict">${rich(v)}</p>`);

  b.push('<h2>Capture</h2><table><tr><th>File</th><th>Format</th><th>Packets</th><th>Bytes</th><th>First packet (UTC)</th><th>Last packet (UTC)</th></tr>');
  for (const i of r.inputs) {
    b.push(`<tr><td><code>${h(i.file)}</code></td><td>${h(i.format)}</td><td class="n">${i.packets}</td><td class="n">${i.bytes}</td><td>${i.firstTime ? h(humanTime(i.firstTime)) : '—'}</td><td>${i.lastTime ? h(humanTime(i.lastTime)) : '—'}</td></tr>`);
  }
  b.push('</table><ul>');
  if (range.first) b.push(`<li>Time range (UTC): ${h(humanTime(range.first))} to ${range.last ? h(humanTime(range.last)) : '?'}</li>`);
  const first = problems[0]?.exchange;
  if (first && first.response) {
    b.push(`<li><strong>Refusals started (UTC): ${h(humanTime(first.response.time))}</strong>: <code>${h(`${first.request.method} ${first.request.uri}`)}</code> from <code>${h(first.client)}</code>, answered ${first.response.status} in frame ${first.response.frame}</li>`);
  }
  const clients = clientAddresses(r);
  if (clients.length > 0) {
    b.push(`<li>Client addresses as seen on the wire: ${clients.slice(0, 50).map((c) => `<code>${h(c.ip)}</code> (${c.exchanges} request${c.exchanges === 1 ? '' : 's'}, ${c.refused} refused)`).join(', ')}${clients.length > 50 ? `, and ${clients.length - 50} more` : ''}</li>`);
  }
  b.push(`<li>Analysed with authcap ${h(r.tool.version)}</li></ul>`);

  // timelines per endpoint, the most refused first
  const byEndpoint = new Map<string, Exchange[]>();
  for (const x of r.exchanges) {
    if (!isAccepted(x) && !isRefusal(x)) continue;
    const key = endpointOf(x);
    let list = byEndpoint.get(key);
    if (!list) byEndpoint.set(key, (list = []));
    list.push(x);
  }
  const endpoints = [...byEndpoint.entries()].sort((a, c) => c[1].filter(isRefusal).length - a[1].filter(isRefusal).length || c[1].length - a[1].length);
  if (endpoints.length > 0) {
    b.push('<h2>Timeline</h2>');
    for (const [ep, list] of endpoints.slice(0, TIMELINE_LIMIT)) {
      const refused = list.filter(isRefusal).length;
      b.push(`<figure>${timelineSvg(ep, list, range)}<figcaption><code>${h(ep)}</code>: ${list.length - refused} accepted, ${refused} refused</figcaption></figure>`);
    }
    if (endpoints.length > TIMELINE_LIMIT) b.push(`<p class="dim">${endpoints.length - TIMELINE_LIMIT} more endpoints not drawn.</p>`);
  }

  const u = unauthorizedOf(r);
  if (u && u.groups.length > 0) {
    b.push(`<h2>Endpoints, clients and users</h2><p>${u.accepted} accepted, ${u.refused} refused.</p>`);
    b.push('<table><tr><th>Endpoint</th><th>Server</th><th>Host</th><th>Client address</th><th>User</th><th>Accepted</th><th>Refused</th><th>First refusal (UTC)</th><th>Last accepted before it (UTC)</th><th>Reasons</th></tr>');
    for (const g of u.groups) {
      const reasons = Object.entries(g.reasons).map(([c, n]) => `<code>${h(c)}</code> ×${n}`).join(', ');
      b.push(`<tr><td><code>${h(g.endpoint)}</code></td><td><code>${h(g.server)}</code></td><td>${g.host === null ? '—' : `<code>${h(g.host)}</code>`}</td><td><code>${h(g.client)}</code></td>` +
        `<td>${g.user === null ? '<em class="dim">(none)</em>' : `<code>${h(g.user)}</code>`}</td><td class="n">${g.accepted}</td><td class="n">${g.refused}</td><td>${ref(g.firstRefusal)}</td><td>${ref(g.lastAcceptedBeforeRefusal)}</td><td>${reasons}</td></tr>`);
    }
    b.push('</table>');
  }

  b.push('<h2>Findings by code</h2>');
  if (groups.length === 0) b.push('<p>No findings.</p>');
  else {
    b.push('<table id="finding-counts"><tr><th>Severity</th><th>Code</th><th>Count</th><th>Wireshark filter</th></tr>');
    for (const g of groups) b.push(`<tr><td class="sev sev-${g.severity}">${g.severity}</td><td><code>${h(g.code)}</code></td><td class="n">${g.count}</td><td><code>${h(g.filter)}</code></td></tr>`);
    b.push('</table><h2>Findings</h2>');
    r.findings.slice(0, FINDING_LIMIT).forEach((f, i) => {
      const where: string[] = [];
      if (f.exchange !== null) where.push(`exchange <code>${h(f.exchange)}</code>`);
      if (f.stream !== null) where.push(`stream ${f.stream}`);
      if (f.frames.length > 0) where.push(`frame${f.frames.length > 1 ? 's' : ''} ${f.frames.join(', ')}`);
      b.push(`<div class="finding" id="finding-${i + 1}"><h3>${i + 1}. <span class="sev sev-${f.severity}">${f.severity}</span> <code>${h(f.code)}</code></h3><p>${rich(f.message)}</p><ul>`);
      if (where.length > 0) b.push(`<li>Where: ${where.join(', ')}</li>`);
      if (f.filter) b.push(`<li>Wireshark filter: <code>${h(f.filter)}</code></li>`);
      b.push('</ul>');
      if (f.evidence && Object.keys(f.evidence).length > 0) b.push(`<details open><summary>Evidence</summary><pre>${escapeHtml(safeJson(f.evidence))}</pre></details>`);
      b.push('</div>');
    });
    if (r.findings.length > FINDING_LIMIT) b.push(`<p class="dim">The other ${r.findings.length - FINDING_LIMIT} findings are in the JSON report.</p>`);
  }

  if (rows.length > 0) {
    b.push(`<h2>Refused requests (${rows.length})</h2><table><tr><th>Time (UTC)</th><th>Stream</th><th>Client</th><th>Server</th><th>Request</th><th>Status</th><th>Why</th></tr>`);
    for (const row of rows.slice(0, TABLE_LIMIT)) b.push(exchangeRow(row.exchange, whyText(row)));
    b.push('</table>');
    if (rows.length > TABLE_LIMIT) b.push(`<p class="dim">… and ${rows.length - TABLE_LIMIT} more (see the JSON report).</p>`);
    for (const row of rows.slice(0, DETAIL_LIMIT)) {
      const x = row.exchange;
      const cred = x.request.credentials;
      b.push(`<h3>${h(x.id)}: <code>${h(`${x.request.method} ${x.request.uri}`)}</code> → ${x.response!.status} ${h(x.response!.reason)}</h3><ul>`);
      b.push(`<li>Time (UTC): request ${ref({ time: x.request.time, frame: x.request.frame })}, response ${ref({ time: x.response!.time, frame: x.response!.frame })}</li>`);
      b.push(`<li><code>${h(x.client)}</code> → <code>${h(x.server)}</code>, ${x.stream === null ? 'UDP' : `TCP stream ${x.stream}`}; filter <code>${h(x.stream === null ? `frame.number in {${x.request.frame} ${x.response!.frame}}` : `tcp.stream eq ${x.stream}`)}</code></li>`);
      b.push(`<li>Credentials: ${cred ? `${h(cred.kind)}${cred.user !== null ? `, user <code>${h(cred.user)}</code>` : ', no user'}${cred.fields.length ? `, fields ${cred.fields.map((s) => `<code>${h(s)}</code>`).join(' ')}` : ''}` : 'none'}</li>`);
      b.push(`<li>Why: ${rich(whyText(row))}</li></ul>${headersBlock(x)}`);
    }
    if (rows.length > DETAIL_LIMIT) b.push(`<p class="dim">Headers of the other ${rows.length - DETAIL_LIMIT} refused requests are in the JSON report.</p>`);
  } else if (r.exchanges.length > 0 && r.exchanges.length <= 200) {
    b.push(`<h2>Exchanges (${r.exchanges.length})</h2><table><tr><th>Time (UTC)</th><th>Stream</th><th>Client</th><th>Server</th><th>Request</th><th>Status</th></tr>`);
    for (const x of r.exchanges) b.push(exchangeRow(x, null));
    b.push('</table>');
  }

  b.push(`<h2>Statistics</h2><p>${h(statsLine(r))}</p>`);

  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>authcap: ${h(v)}</title>`,
    `<style>${CSS}</style></head><body>`,
    ...b,
    '</body></html>',
    '',
  ].join('\n');
}
