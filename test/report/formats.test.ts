// Every output format: the verdict, findings and filters are there; no fixture secret survives
// redaction (and each shows with --show-secrets); wire text cannot inject terminal escapes,
// Markdown or HTML; JSON keeps the contract's key order; the table fits the terminal width.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Report } from '../../src/types.js';
import { redactReport } from '../../src/report/redact.js';
import { renderJson } from '../../src/report/json.js';
import { renderTable } from '../../src/report/table.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { BASIC_PASSWORD, SECRETS, cleanReport, exchange, fixtureReport } from './fixture.js';

type Fmt = 'json' | 'table' | 'markdown' | 'html';
const FORMATS: Fmt[] = ['json', 'table', 'markdown', 'html'];

function render(fmt: Fmt, r: Report, width = 400): string {
  switch (fmt) {
    case 'json': return renderJson(r);
    case 'table': return renderTable(r, { color: false, width });
    case 'markdown': return renderMarkdown(r);
    case 'html': return renderHtml(r);
  }
}

/** Visible text of an HTML document (tags dropped, entities decoded). */
function htmlText(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The fixture with every exchange refused, so the ticket formats show every exchange's headers. */
function allRefused(): Report {
  const r = fixtureReport();
  for (const x of r.exchanges) x.response = { ...x.response!, status: 401, reason: 'Unauthorized' };
  return r;
}

const VERDICT_START = '6 requests refused (401): 2 lacked the `user` field, 1 had a trailing NUL in the body';

test('table, markdown and html open with the verdict built from findings', () => {
  const r = redactReport(fixtureReport());
  assert.ok(renderTable(r, { color: false, width: 400 }).startsWith(VERDICT_START));
  assert.ok(renderMarkdown(r).includes(`**Verdict:** 6 requests refused (401): 2 lacked the \`user\` field, 1 had a trailing NUL in the body`));
  const html = renderHtml(r);
  assert.ok(htmlText(html).includes(VERDICT_START.replace(/`/g, '')));
  assert.match(html, /lacked the <code>user<\/code> field/);
  for (const fmt of ['table', 'markdown', 'html'] as const) {
    const text = fmt === 'html' ? htmlText(render(fmt, r)) : render(fmt, r);
    assert.ok(text.includes('1 used GET where the endpoint needs POST'), fmt);
    assert.ok(text.includes('1 had a Digest response that does not verify'), fmt);
    assert.ok(text.includes('Also found: tcp.refused ×1'), fmt);
  }
});

test('every format lists each finding code, message and Wireshark filter', () => {
  const r = redactReport(fixtureReport());
  for (const fmt of FORMATS) {
    const out = fmt === 'html' ? htmlText(render(fmt, r)) : render(fmt, r);
    for (const code of ['auth.field-missing', 'body.trailing-nul', 'signature.uppercase', 'method.get-not-post', 'auth.digest-mismatch', 'auth.token-expired', 'tcp.refused', 'tls.encrypted']) {
      assert.ok(out.includes(code), `${fmt}: ${code}`);
    }
    for (const filter of ['tcp.stream eq 5', 'frame.number == 84', 'tcp.stream eq 9', 'tcp.stream eq 10']) {
      assert.ok(out.includes(filter), `${fmt}: ${filter}`);
    }
    assert.ok(out.includes('SYN to 198.51.100.7:443 answered by RST: the port is closed'), `${fmt}: message`);
  }
  // grouped by code with counts and a merged filter in the terminal and ticket views
  assert.match(render('table', r), /auth\.field-missing\s*│\s*2\s*│.*│ tcp\.stream in \{2 3\}/);
  assert.match(render('markdown', r), /\| error \| `auth\.field-missing` \| 2 \| `tcp\.stream in \{2 3\}` \|/);
});

test('no fixture secret appears in any format after redaction', () => {
  for (const base of [fixtureReport(), allRefused()]) {
    const r = redactReport(base);
    for (const fmt of FORMATS) {
      for (const width of [400, 80]) {
        const out = render(fmt, r, width);
        for (const s of SECRETS) assert.equal(out.includes(s), false, `${fmt} (width ${width}) leaks ${s}`);
      }
    }
  }
});

test('with --show-secrets (no redaction) the secrets are shown', () => {
  const shown = SECRETS.filter((s) => s !== BASIC_PASSWORD); // Basic passwords are only on the wire as base64
  for (const fmt of ['json', 'markdown', 'html'] as const) {
    const out = render(fmt, allRefused());
    for (const s of shown) assert.ok(out.includes(s), `${fmt} shows ${s}`);
  }
  const table = render('table', fixtureReport());
  assert.ok(table.includes('password=PwInQuery77'));
  assert.ok(table.includes('X-Signature C9FD4C8FDE71912C63CC4BA83BBB6BC1 is upper case'));
});

test('the ticket formats carry what a service desk asks for', () => {
  const r = redactReport(fixtureReport());
  for (const fmt of ['markdown', 'html'] as const) {
    const out = fmt === 'html' ? htmlText(render(fmt, r)) : render(fmt, r);
    assert.ok(out.includes('2024-05-01 10:00:00.000000 to 2024-05-01 10:01:40.000000'), `${fmt}: time range`);
    assert.ok(out.includes('sms-401.pcap'), `${fmt}: file`);
    assert.match(out, /Refusals started \(UTC\): 2024-05-01 10:00:20\.135000/, `${fmt}: start of refusals`);
    assert.ok(out.includes('192.0.2.10') && out.includes('203.0.113.5') && out.includes('192.0.2.50'), `${fmt}: client addresses`);
    assert.ok(out.includes('POST /customerabc/customerabc.sms') && out.includes('customerabc') && out.includes('resellr'), `${fmt}: endpoints and users`);
    // the refused requests with their headers (redacted)
    assert.ok(out.includes('Authorization: Digest username="bob", realm="example.com"'), `${fmt}: request headers`);
    assert.ok(out.includes('response="<redacted 32 hex>"'), `${fmt}: digest response redacted`);
    assert.ok(out.includes('WWW-Authenticate: Basic realm="sms"'), `${fmt}: response headers`);
    assert.ok(out.includes('"field": "user"'), `${fmt}: evidence`);
  }
});

test('table without colour contains no ESC byte; with colour only SGR sequences', () => {
  const r = redactReport(fixtureReport());
  for (const width of [60, 80, 120, 200]) assert.equal(renderTable(r, { color: false, width }).includes('\x1b'), false);
  assert.equal(renderTable(cleanReport(), { color: false, width: 80 }).includes('\x1b'), false);
  const colored = renderTable(r, { color: true, width: 120 });
  assert.ok(colored.includes('\x1b['), 'colour is used when asked');
  assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, '').includes('\x1b'), false);
});

test('table lines fit the width', () => {
  const r = redactReport(fixtureReport());
  for (const width of [80, 100, 140]) {
    for (const line of renderTable(r, { color: false, width }).split('\n')) {
      assert.ok([...line].length <= width, `width ${width}: ${[...line].length} > ${width}: ${line}`);
    }
  }
});

function hostile(): Report {
  const r = cleanReport(1);
  const uri = '/a\x1b[2J\x1b]0;owned\x07\u202egnp.exe?q=<script>alert(1)</script>|`x`';
  r.exchanges = [exchange({ id: 'x1', t: '10:00:01.000000', stream: 0, client: '192.0.2.10:50000', server: '198.51.100.7:80', method: 'POST', uri, headers: [['X-Evil', 'v\x1b[31m\u009b1m\u2066'], ['Host', 'h<b>']], status: 401, reason: 'Unauthorized\x1b[0m', frame: 4 })];
  r.findings = [{ code: 'auth.missing', severity: 'error', message: 'no credentials in <img src=x> \x1b[5m', exchange: 'x1', stream: 0, frames: [4], filter: 'tcp.stream eq 0', evidence: { uri } }];
  return r;
}

const RAW_DANGER = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('escape, OSC and bidi sequences in a URI and a header are neutralised in every format', () => {
  const r = redactReport(hostile());
  for (const fmt of FORMATS) {
    const out = render(fmt, r);
    assert.doesNotMatch(out, RAW_DANGER, fmt);
    assert.doesNotMatch(render(fmt, r, 80), RAW_DANGER, `${fmt} wrapped`);
    if (fmt !== 'json') assert.ok(out.includes('\\x1b[2J') && out.includes('\\u202e'), `${fmt} shows the escapes`);
  }
  assert.ok(render('markdown', r).includes('X-Evil: v\\x1b[31m\\x9b1m\\u2066'));
  assert.deepEqual(JSON.parse(renderJson(r)).exchanges[0].request.uri, hostile().exchanges[0].request.uri, 'JSON keeps the exact value');
});

test('HTML escapes markup from the wire and is self-contained', () => {
  const html = renderHtml(redactReport(hostile()));
  assert.equal(html.includes('<script'), false);
  assert.equal(html.includes('<img'), false);
  assert.equal(html.includes('<b>'), false);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  const full = renderHtml(redactReport(fixtureReport()));
  assert.doesNotMatch(full, /<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
  assert.match(full, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.match(full, /<svg class="timeline"/);
  assert.match(full, /<details><summary>Request headers/);
});

test('HTML timeline: two kinds of marks with a legend and labelled ticks', () => {
  const html = renderHtml(redactReport(fixtureReport()));
  const svg = /<svg class="timeline"[^]*?<\/svg>/.exec(html)![0]; // the most refused endpoint first
  assert.match(svg, /aria-label="Timeline of POST \/customerabc\/customerabc\.sms: 2 accepted, 2 refused"/);
  assert.equal((svg.match(/<circle cx="\d+(\.\d+)?" cy="40"/g) ?? []).length, 2, 'two accepted marks');
  assert.equal((svg.match(/<path d="M[\d.]+,60 /g) ?? []).length, 2, 'two refused marks');
  assert.match(svg, />accepted \(2\)</);
  assert.match(svg, />refused 401\/407 \(2\)</);
  for (const tick of ['10:00:00', '10:00:30', '10:01:00', '10:01:30']) assert.ok(svg.includes(`>${tick}</text>`), tick);
  // a refused mark lies right of the accepted ones (x grows with time)
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)" cy="40"/g)].map((m) => Number(m[1]));
  const rx = [...svg.matchAll(/<path d="M([\d.]+),60 /g)].map((m) => Number(m[1]) + 4);
  assert.ok(Math.max(...xs) < Math.min(...rx));
});

test('Markdown: pipes and backticks from the wire do not break the table', () => {
  const md = renderMarkdown(redactReport(hostile()));
  const row = md.split('\n').find((l) => l.startsWith('| 2024-05-01 10:00:01.000000 |'))!;
  assert.ok(row, 'refused row present');
  assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 8, row);
  // markup from the wire appears only inside code spans and fenced blocks, where it is literal
  const prose = md.replace(/^(`{3,}).*\n[\s\S]*?\n\1$/gm, '').replace(/(`+)[\s\S]*?[^`]\1(?!`)/g, '');
  assert.doesNotMatch(prose, /(?<!\\)<(script|img)/, prose);
  assert.ok(md.includes('no credentials in \\<img src=x\\>'), 'prose markup is backslash-escaped');
});

test('JSON: contract key order, 2-space indent, trailing newline, round-trips', () => {
  const r = redactReport(fixtureReport());
  const text = renderJson(r);
  assert.ok(text.endsWith('}\n'));
  assert.ok(text.startsWith('{\n  "tool": {\n    "name": "authcap",\n    "version": "0.1.0"\n  },\n  "inputs": ['));
  const v = JSON.parse(text);
  assert.deepEqual(Object.keys(v), ['tool', 'inputs', 'stats', 'exchanges', 'findings', 'unauthorized']);
  assert.deepEqual(Object.keys(v.inputs[0]), ['file', 'format', 'linkTypes', 'packets', 'bytes', 'firstTime', 'lastTime']);
  assert.deepEqual(Object.keys(v.stats), ['packets', 'tcpStreams', 'httpRequests', 'httpResponses', 'sipRequests', 'sipResponses']);
  assert.deepEqual(Object.keys(v.exchanges[0]), ['id', 'protocol', 'stream', 'client', 'server', 'request', 'response', 'transport']);
  assert.deepEqual(Object.keys(v.exchanges[0].request), ['frame', 'time', 'method', 'uri', 'version', 'headers', 'bodyLength', 'credentials']);
  assert.deepEqual(Object.keys(v.exchanges[0].response), ['frame', 'time', 'status', 'reason', 'headers', 'bodyLength']);
  assert.deepEqual(Object.keys(v.findings[0]), ['code', 'severity', 'message', 'exchange', 'stream', 'frames', 'filter', 'evidence']);
  assert.deepEqual(Object.keys(v.unauthorized.groups[1]), ['endpoint', 'server', 'host', 'client', 'user', 'accepted', 'refused', 'firstRefusal', 'lastRefusal', 'lastAcceptedBeforeRefusal', 'reasons']);
  assert.deepEqual(v, JSON.parse(JSON.stringify(r)));
  // key order does not depend on the order the producer built the objects in
  const shuffled = { findings: r.findings, unauthorized: r.unauthorized, exchanges: r.exchanges, stats: r.stats, inputs: r.inputs, tool: r.tool } as unknown as Report;
  assert.equal(renderJson(shuffled), text);
});

test('nothing wrong: a plain verdict and the list of parsed exchanges', () => {
  const r = cleanReport(3);
  const table = renderTable(r, { color: false, width: 100 });
  assert.ok(table.startsWith('No authentication problems found in 3 HTTP exchanges.\n'));
  assert.match(table, /Exchanges \(3\)/);
  for (const p of ['/page/0', '/page/1', '/page/2']) assert.ok(table.includes(p));
  assert.ok(renderMarkdown(r).includes('**Verdict:** No authentication problems found in 3 HTTP exchanges.'));
  assert.ok(htmlText(renderHtml(r)).includes('No authentication problems found in 3 HTTP exchanges.'));
});

test('a normal challenge round-trip is not counted as a problem', () => {
  const r = cleanReport(2);
  r.exchanges[0].response = { ...r.exchanges[0].response!, status: 401, reason: 'Unauthorized' };
  r.findings = [{ code: 'http.unauthorized', severity: 'info', message: 'challenge answered with credentials and accepted', exchange: 'x1', stream: 0, frames: [6], filter: 'tcp.stream eq 0', evidence: {} }];
  const table = renderTable(r, { color: false, width: 120 });
  assert.ok(table.startsWith('No authentication problems found in 2 HTTP exchanges (1 normal 401 challenge, answered and accepted).'), table);
});
