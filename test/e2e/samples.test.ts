// End to end: the built CLI on every sample capture (as a user runs it), checking the exact findings each
// seed scenario must produce, that every finding can be opened in Wireshark (frames + display filter),
// and that samples/ holds exactly what scripts/make-samples.ts writes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { allSamples, sampleBytes, SAMPLE_KEY, SAMPLE_PASSWORD } from '../lib/samples.js';
import { runCli, runJson } from '../lib/run-cli.js';
import { SAMPLES } from '../lib/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-samples-'));
const samples = new Map(allSamples().map((s) => [s.name, s]));

function file(name: string): string {
  const f = join(dir, `${name}.pcap`);
  if (!existsSync(f)) writeFileSync(f, sampleBytes(samples.get(name)!));
  return f;
}

function run(name: string, extra: string[] = []) {
  const s = samples.get(name)!;
  return runJson([file(name), ...s.args, ...extra]);
}

function codes(report: any): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of report.findings) out[f.code] = (out[f.code] ?? 0) + 1;
  return out;
}

function only(report: any, code: string): any[] {
  return report.findings.filter((f: any) => f.code === code);
}

test('samples/ holds exactly what the sample script writes', () => {
  for (const s of allSamples()) {
    const committed = join(SAMPLES, `${s.name}.pcap`);
    assert.ok(existsSync(committed), `${committed} missing: run npm run samples`);
    assert.ok(readFileSync(committed).equals(sampleBytes(s)), `${s.name}.pcap differs from what scripts/make-samples.ts writes`);
  }
});

test('every finding on every sample names frames and a display filter', () => {
  for (const s of allSamples()) {
    const { report } = run(s.name);
    assert.ok(report.findings.length > 0, `${s.name}: no findings`);
    for (const f of report.findings) {
      assert.ok(f.frames.length > 0, `${s.name} ${f.code}: no frames`);
      assert.match(f.filter, /(tcp\.stream eq \d+|frame\.number|udp|sip\.)/, `${s.name} ${f.code}: filter '${f.filter}'`);
      assert.ok(f.message.length > 20, `${s.name} ${f.code}: message too short`);
      if (f.exchange) assert.ok(report.exchanges.some((x: any) => x.id === f.exchange), `${s.name} ${f.code}: exchange ${f.exchange} not in the report`);
    }
  }
});

test('SMS gateway: the refused POSTs lack the user field that accepted POSTs carry', () => {
  const { code, report } = run('sms-gateway-missing-user');
  assert.equal(code, 1);
  assert.equal(report.stats.httpRequests, 5);
  assert.equal(report.exchanges.filter((x: any) => x.response?.status === 401).length, 2);
  const c = codes(report);
  assert.equal(c['http.unauthorized'], 2);
  assert.equal(c['auth.field-missing'], 2);
  for (const f of only(report, 'auth.field-missing')) {
    assert.match(JSON.stringify(f.evidence), /"user"/);
    assert.match(f.message, /\buser\b/);
    assert.equal(report.exchanges.find((x: any) => x.id === f.exchange).client.split(':')[0], '192.0.2.44');
  }
  const u = report.unauthorized;
  assert.equal(u.refused, 2);
  assert.equal(u.accepted, 3);
  assert.ok(u.firstRefusal && u.firstRefusal.time.startsWith('2024-05-14T09:32:00'), JSON.stringify(u.firstRefusal));
  const g = u.groups.find((x: any) => x.refused > 0);
  assert.equal(g.client, '192.0.2.44');
  // The credentials of accepted requests are recognised, and the password is not in the report.
  const ok = report.exchanges.find((x: any) => x.response?.status === 200);
  assert.equal(ok.request.credentials.kind, 'form');
  assert.equal(ok.request.credentials.user, 'customerabc');
  assert.doesNotMatch(JSON.stringify(report), /s3cret/);
});

test('GET where POST is needed', () => {
  const { report } = run('get-not-post');
  const f = only(report, 'method.get-not-post');
  assert.equal(f.length, 1);
  assert.equal(report.exchanges.find((x: any) => x.id === f[0].exchange).request.method, 'GET');
  assert.doesNotMatch(JSON.stringify(report), /s3cret/);
});

test('XML API: trailing NUL in the body, and the signature variant that explains the 401', () => {
  const { report } = run('opensrs-trailing-nul');
  const nul = only(report, 'body.trailing-nul');
  assert.equal(nul.length, 1);
  assert.equal(nul[0].evidence.count, 1);
  const v = only(report, 'signature.variant');
  assert.equal(v.length, 1);
  assert.match(String(v[0].evidence.variant), /nul/i);
  assert.equal(only(report, 'http.unauthorized').length, 1);
  assert.equal(only(report, 'signature.mismatch').length, 0);
  // Without the key, the NUL is still found.
  const bare = runJson([file('opensrs-trailing-nul')]).report;
  assert.equal(only(bare, 'body.trailing-nul').length, 1);
  assert.equal(only(bare, 'signature.variant').length, 0);
});

test('XML API: upper-case signature', () => {
  const { report } = run('opensrs-uppercase-signature');
  assert.equal(only(report, 'signature.uppercase').length, 1);
  assert.equal(only(report, 'signature.uppercase')[0].severity, 'warning');
  assert.equal(only(report, 'http.unauthorized').length, 1);
});

test('XML API: one MD5 instead of two', () => {
  const { report } = run('opensrs-single-md5');
  const v = only(report, 'signature.variant');
  assert.equal(v.length, 1);
  assert.match(String(v[0].evidence.variant), /single/i);
});

test('XML API: missing X-Signature', () => {
  const { report } = run('opensrs-missing-signature');
  const f = only(report, 'auth.field-missing');
  assert.equal(f.length, 1);
  assert.match(JSON.stringify(f[0].evidence).toLowerCase(), /x-signature/);
});

test('XML API: empty body', () => {
  const { report } = run('opensrs-empty-body');
  assert.equal(only(report, 'body.missing').length, 1);
});

test('XML API: 555 invalid ip address names both addresses', () => {
  const { code, report } = run('opensrs-invalid-ip');
  assert.equal(code, 1);
  const f = only(report, 'app.ip-not-allowed');
  assert.equal(f.length, 1);
  assert.equal(f[0].evidence.clientAddress, '10.20.30.40');
  assert.equal(f[0].evidence.quotedAddress, '123.123.119.150');
});

test('Basic: wrong password answered to the challenge is rejected again', () => {
  const { report } = run('basic-rejected-after-retry');
  assert.equal(only(report, 'auth.rejected-after-retry').length, 1);
  const alice = report.exchanges.find((x: any) => x.request.credentials?.user === 'alice');
  assert.equal(alice.response.status, 401);
  assert.doesNotMatch(JSON.stringify(report), /wrong-pass|right-pass/);
  assert.equal(only(report, 'auth.basic-malformed').length, 0);
});

test('Digest: the wrong password is found with --password; the right one verifies', () => {
  const { report } = run('digest-wrong-password');
  const m = only(report, 'auth.digest-mismatch');
  assert.equal(m.length, 1);
  const x = report.exchanges.find((e: any) => e.id === m[0].exchange);
  assert.equal(x.client.split(':')[0], '198.51.100.60');
  // The accepted client's challenge round-trip is informational only.
  const other = only(report, 'http.unauthorized').filter((f: any) => report.exchanges.find((e: any) => e.id === f.exchange).client.startsWith('198.51.100.61'));
  assert.ok(other.every((f: any) => f.severity === 'info'));
  assert.equal(only(report, 'auth.rejected-after-retry').length, 1);
  assert.doesNotMatch(JSON.stringify(report), new RegExp(SAMPLE_PASSWORD));
});

test('SIP: one phone registers after the challenge, the other never answers it', () => {
  const { report } = run('sip-register-unanswered');
  assert.equal(report.stats.sipRequests, 4);
  assert.equal(report.stats.sipResponses, 4);
  const un = only(report, 'auth.challenge-unanswered');
  assert.ok(un.length >= 1);
  for (const f of un) assert.equal(report.exchanges.find((e: any) => e.id === f.exchange).client.split(':')[0], '192.0.2.102');
  assert.equal(only(report, 'auth.digest-mismatch').length, 0, 'the right password verifies');
  const ok = only(report, 'http.unauthorized').filter((f: any) => report.exchanges.find((e: any) => e.id === f.exchange).client.startsWith('192.0.2.101'));
  assert.ok(ok.length === 1 && ok[0].severity === 'info');
});

test('TLS: reset right after the ClientHello', () => {
  const { report } = run('tls-reset-after-hello');
  const f = only(report, 'tls.reset-after-hello');
  assert.equal(f.length, 1);
  assert.equal(f[0].stream, 0);
  assert.equal(only(report, 'tcp.reset').length, 0);
});

test('TCP: refused and unanswered connections', () => {
  const { report } = run('tcp-refused-and-filtered');
  assert.equal(only(report, 'tcp.refused').length, 1);
  const na = only(report, 'tcp.no-answer');
  assert.equal(na.length, 1);
  assert.equal(na[0].evidence.attempts, 3);
});

test('stdin and gzip give the same report as the file', () => {
  const f = file('sms-gateway-missing-user');
  const bytes = readFileSync(f);
  const a = runJson([f]).report;
  const b = runJson(['-'], { input: bytes }).report;
  const gz = join(dir, 'x.pcap.gz');
  writeFileSync(gz, gzipSync(bytes));
  const c = runJson([gz]).report;
  const strip = (r: any) => ({ ...r, inputs: r.inputs.map((i: any) => ({ ...i, file: null, compressed: undefined })) });
  assert.deepEqual(strip(b), strip(a));
  assert.deepEqual(strip(c), strip(a));
  assert.equal(b.inputs[0].file, '-');
  assert.equal(c.inputs[0].compressed, true);
});

test('unreadable input: one line on stderr and exit 2', () => {
  const missing = runCli([join(dir, 'nope.pcap')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /nope\.pcap/);
  const html = join(dir, 'page.pcap');
  writeFileSync(html, '<html>not a capture</html>');
  const notCap = runCli([html]);
  assert.equal(notCap.code, 2);
  assert.match(notCap.stderr, /not a pcap or pcapng/);
  const dirArg = runCli([dir]);
  assert.equal(dirArg.code, 2);
  const usage = runCli([file('get-not-post'), '--format', 'xml']);
  assert.equal(usage.code, 2);
});

test('--fail-on sets the exit code', () => {
  const f = file('opensrs-uppercase-signature');
  assert.equal(runCli([f, '--fail-on', 'none']).code, 0);
  assert.equal(runCli([f, '--fail-on', 'error']).code, 1);
  const healthy = file('get-not-post');
  assert.equal(runCli([healthy, '--ignore', 'method.get-not-post', '--ignore', 'http.*']).code, 0);
});

test('the key can come from AUTHCAP_KEY', () => {
  const r = runJson([file('opensrs-single-md5')], { env: { AUTHCAP_KEY: SAMPLE_KEY } }).report;
  assert.equal(only(r, 'signature.variant').length, 1);
});
