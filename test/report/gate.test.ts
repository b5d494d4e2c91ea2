// The CI gate: exit codes per --fail-on level, --baseline matching by code + endpoint + client IP
// (not frames, ids or ports), and --ignore by exact code or prefix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, Report, Severity } from '../../src/types.js';
import { applyBaseline, applyIgnore, exitCodeFor, type FailOn } from '../../src/report/gate.js';
import { exchange, fixtureReport } from './fixture.js';

function f(severity: Severity, code: Finding['code'] = 'auth.missing'): Finding {
  return { code, severity, message: 'm', exchange: null, stream: null, frames: [], filter: '', evidence: {} };
}

test('exit code for each --fail-on level', () => {
  const cases: [Severity[], FailOn, 0 | 1][] = [
    [['error'], 'error', 1], [['warning'], 'error', 0], [['info'], 'error', 0], [[], 'error', 0],
    [['warning'], 'warning', 1], [['error'], 'warning', 1], [['info'], 'warning', 0],
    [['info'], 'info', 1], [['warning', 'info'], 'info', 1], [[], 'info', 0],
    [['error', 'warning', 'info'], 'none', 0],
  ];
  for (const [sevs, failOn, want] of cases) {
    assert.equal(exitCodeFor(sevs.map((s) => f(s)), failOn), want, `${sevs.join(',') || 'nothing'} with --fail-on ${failOn}`);
  }
});

/** The same traffic captured again: other frame numbers, exchange ids, ports and times. */
function recapture(r: Report): Report {
  const copy = structuredClone(r);
  const idMap = new Map<string, string>();
  copy.exchanges.forEach((x, i) => {
    idMap.set(x.id, `e${100 + i}`);
    x.id = `e${100 + i}`;
    x.client = x.client.replace(/:(\d+)$/, (_m, p: string) => `:${Number(p) + 7}`);
    x.request.frame += 1000;
    if (x.stream !== null) x.stream += 40;
  });
  for (const fd of copy.findings) {
    if (fd.exchange) fd.exchange = idMap.get(fd.exchange)!;
    fd.frames = fd.frames.map((n) => n + 1000);
    if (fd.stream !== null) fd.stream += 40;
    fd.filter = fd.stream !== null ? `tcp.stream eq ${fd.stream}` : fd.filter;
    if (typeof fd.evidence.client === 'string') fd.evidence.client = fd.evidence.client.replace(/:(\d+)$/, ':60000');
  }
  return copy;
}

test('baseline: a new capture of the same traffic is fully suppressed', () => {
  const base = fixtureReport();
  const now = recapture(base);
  const { report, suppressed } = applyBaseline(now, base);
  assert.equal(report.findings.length, 0);
  assert.equal(suppressed, now.findings.length);
  assert.equal(report.exchanges.length, now.exchanges.length, 'exchanges are kept');
});

test('baseline: a different client address, endpoint or code is new', () => {
  const base = fixtureReport();
  const now = recapture(base);
  // another client IP sends the refused POST
  const x3 = now.exchanges.find((x) => x.request.frame === 1024)!;
  x3.client = '192.0.2.77:50003';
  // the GET moves to another path
  const x7 = now.exchanges.find((x) => x.request.method === 'GET' && x.request.uri.startsWith('/customerabc'))!;
  x7.request.uri = '/customerdef/customerdef.sms?user=x';
  // the digest finding becomes a different code on the same exchange
  const digest = now.findings.find((fd) => fd.code === 'auth.digest-mismatch')!;
  digest.code = 'auth.stale-nonce';
  // the closed port is now seen from another client
  now.findings.find((fd) => fd.code === 'tcp.refused')!.evidence.client = '192.0.2.98:41000';
  const { report, suppressed } = applyBaseline(now, base);
  const left = report.findings.map((fd) => `${fd.code}@${fd.exchange ?? '-'}`).sort();
  assert.deepEqual(left, [
    `auth.field-missing@${x3.id}`, `auth.stale-nonce@${digest.exchange}`, `http.unauthorized@${x3.id}`,
    `method.get-not-post@${x7.id}`, 'tcp.refused@-',
  ].sort());
  assert.equal(suppressed, now.findings.length - left.length);
});

test('baseline: one baseline finding covers every current finding with its identity', () => {
  const base = fixtureReport();
  base.findings = base.findings.filter((fd) => fd.exchange !== 'x4'); // baseline saw one refusal
  const now = fixtureReport(); // now two refusals of the same endpoint from the same client
  const { report } = applyBaseline(now, base);
  assert.equal(report.findings.filter((fd) => fd.code === 'auth.field-missing').length, 0);
});

test('baseline: the query string does not change the endpoint', () => {
  const base = fixtureReport();
  const now = structuredClone(base);
  now.exchanges.find((x) => x.id === 'x7')!.request.uri = '/customerabc/customerabc.sms?user=other&password=zzz';
  assert.equal(applyBaseline(now, base).report.findings.length, 0);
  // but the method does
  const other = structuredClone(base);
  const x = exchange({ id: 'x7', t: '10:01:00.100000', stream: 6, client: '192.0.2.10:50005', server: '198.51.100.7:80', method: 'PUT', uri: '/customerabc/customerabc.sms', headers: [], status: 401, reason: 'Unauthorized', frame: 64 });
  other.exchanges = other.exchanges.map((e) => (e.id === 'x7' ? x : e));
  assert.deepEqual(applyBaseline(other, base).report.findings.map((fd) => fd.code), ['method.get-not-post']);
});

test('ignore: exact codes, "family.*" prefixes, bare family names', () => {
  const r = fixtureReport();
  const codes = (x: Report) => [...new Set(x.findings.map((fd) => fd.code))].sort();
  assert.deepEqual(codes(applyIgnore(r, ['tls.*'])), codes(r).filter((c) => !c.startsWith('tls.')));
  assert.deepEqual(codes(applyIgnore(r, ['auth.field-missing'])), codes(r).filter((c) => c !== 'auth.field-missing'));
  assert.deepEqual(codes(applyIgnore(r, ['auth.*', 'tcp'])), codes(r).filter((c) => !c.startsWith('auth.') && !c.startsWith('tcp.')));
  assert.deepEqual(codes(applyIgnore(r, ['auth.field'])), codes(r), 'a partial code without * matches nothing');
  assert.deepEqual(applyIgnore(r, ['*']).findings, []);
  assert.equal(r.findings.length, 11, 'input untouched');
});
