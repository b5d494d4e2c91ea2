// Every output format end to end on the samples, through the built CLI: the table's SIP authentication
// section, the ticket formats (markdown, html) against the same run's JSON report (verdict, time the
// refusals started, client addresses, each finding with its filter), `authcap follow` with secrets
// redacted, and `-o FILE` for each format (the file gets the report, stdout stays empty).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLES } from '../lib/paths.js';
import { runCli, runJson } from '../lib/run-cli.js';

const sample = (name: string) => join(SAMPLES, `${name}.pcap`);

/** "2024-05-14T09:30:30.010000Z" -> "2024-05-14 09:30:30.010000", as the ticket formats print times. */
const human = (iso: string) => iso.replace('T', ' ').replace(/Z$/, '');

/** HTML-escape as the report does for text from the wire. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

test('table: the SIP authentication section shows each dialog that saw a 401/407 as one line', () => {
  const { code, stdout } = runCli([sample('sip-register-unanswered')]);
  assert.equal(code, 1);
  const start = stdout.indexOf('SIP authentication (2 dialogs with a 401/407)');
  assert.ok(start >= 0, stdout);
  const section = stdout.slice(start, stdout.indexOf('\n\n', start));
  const cells = (callId: string) => {
    const lines = section.split('\n').filter((l) => l.includes(callId));
    assert.equal(lines.length, 1, section);
    return lines[0].split('│').map((c) => c.trim()).slice(1, -1);
  };
  // phone 1001 answers the challenge and registers; phone 1002 never sends credentials (samples/README.md)
  assert.deepEqual(cells('c1@192.0.2.101').slice(0, 6), ['c1@192.0.2.101', '192.0.2.101:5060', 'REGISTER', '1001', '401 → 200', 'registered']);
  const lost = cells('c2@192.0.2.102');
  assert.deepEqual(lost.slice(0, 6), ['c2@192.0.2.102', '192.0.2.102:5060', 'REGISTER', '1002', '401 → 401', 'never answered']);
  assert.match(section, /auth\.challenge-unanswered/);
});

for (const name of ['opensrs-missing-signature', 'sms-gateway-missing-user']) {
  test(`markdown and html on ${name}: verdict, refusal start, client addresses, findings with filters`, () => {
    const { report, code } = runJson([sample(name)]);
    assert.equal(code, 1);
    const first = report.unauthorized.firstRefusal as { time: string; frame: number };
    assert.ok(first, 'the sample has refusals');
    const clients = [...new Set((report.exchanges as { client: string }[]).map((x) => x.client.replace(/:\d+$/, '')))];
    const findings = report.findings as { code: string; filter: string; message: string }[];
    const table = runCli([sample(name)]).stdout;
    const verdict = table.split('\n')[0];
    assert.match(verdict, /refused \(401\)/);

    const md = runCli([sample(name), '--format', 'markdown']);
    assert.equal(md.code, 1);
    assert.ok(md.stdout.includes(`**Verdict:** ${verdict}`), md.stdout.slice(0, 400));
    assert.ok(md.stdout.includes(`Refusals started (UTC): ${human(first.time)}`));
    for (const ip of clients) assert.ok(md.stdout.includes(`\`${ip}\``), `client ${ip}`);
    for (const f of findings) {
      assert.ok(md.stdout.includes(`\`${f.code}\``), f.code);
      assert.ok(md.stdout.includes(`Wireshark filter: \`${f.filter}\``), f.filter);
    }

    const html = runCli([sample(name), '--format', 'html']);
    assert.equal(html.code, 1);
    assert.ok(html.stdout.startsWith('<!DOCTYPE html>'));
    const shownVerdict = /<p class="verdict"[^>]*>(.*?)<\/p>/s.exec(html.stdout)?.[1].replace(/<[^>]+>/g, '');
    assert.equal(shownVerdict, esc(verdict.replace(/`/g, '')), 'verdict (wire values set in <code>)');
    assert.ok(html.stdout.includes(`Refusals started (UTC): ${human(first.time)}`));
    for (const ip of clients) assert.ok(html.stdout.includes(ip), `client ${ip}`);
    for (const f of findings) {
      assert.ok(html.stdout.includes(f.code), f.code);
      assert.ok(html.stdout.includes(esc(f.filter)), f.filter);
    }
    assert.match(html.stdout, /<svg class="timeline"[^>]*>/);
    assert.match(html.stdout, /<details>\s*<summary>Request headers/);
    // self-contained: nothing loaded from elsewhere, no script
    assert.doesNotMatch(html.stdout, /<script|<link |src="https?:|href="https?:|url\(/i);
  });
}

test('follow: the stream\'s requests and responses in order, the Basic password redacted', () => {
  const secret = Buffer.from('alice:wrong-pass').toString('base64');
  const shown = runCli(['follow', sample('basic-rejected-after-retry'), '--stream', '0', '--show-secrets']);
  assert.equal(shown.code, 0, shown.stderr);
  // the sample's client answers the Basic challenge as alice with the wrong password (samples/README.md)
  assert.ok(shown.stdout.includes(`Authorization: Basic ${secret}`), 'the fixture carries the secret');

  const { code, stdout } = runCli(['follow', sample('basic-rejected-after-retry'), '--stream', '0']);
  assert.equal(code, 0);
  const order = ['GET /reports/daily HTTP/1.1', 'HTTP/1.1 401 Unauthorized', 'GET /reports/daily HTTP/1.1', 'HTTP/1.1 401 Unauthorized'];
  let at = 0;
  for (const line of order) {
    const i = stdout.indexOf(line, at);
    assert.ok(i >= at, `${line} after offset ${at}`);
    at = i + line.length;
  }
  assert.match(stdout, /WWW-Authenticate: Basic realm="reports"/);
  assert.match(stdout, /Authorization: Basic <redacted> \(user: alice\)/);
  assert.ok(!stdout.includes(secret) && !stdout.includes('wrong-pass'), 'secret in follow output');
});

test('-o FILE writes the report to the file for every format and prints nothing on stdout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authcap-formats-'));
  try {
    for (const format of ['table', 'json', 'markdown', 'html']) {
      const out = join(dir, `report.${format}`);
      const r = runCli([sample('opensrs-trailing-nul'), '--format', format, '-o', out]);
      assert.equal(r.code, 1, `${format}: ${r.stderr}`);
      assert.equal(r.stdout, '', format);
      const text = readFileSync(out, 'utf8');
      const direct = runCli([sample('opensrs-trailing-nul'), '--format', format]).stdout;
      if (format === 'json') assert.deepEqual(JSON.parse(text), JSON.parse(direct));
      else if (format === 'table') assert.equal(text.split('\n')[0], direct.split('\n')[0]);
      else assert.equal(text, direct, format);
      assert.ok(text.includes('body.trailing-nul'), format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
