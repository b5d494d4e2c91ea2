// 401/407 correlation with accepted requests: the Sybase 365 SMS gateway scenarios (a POST without
// the username next to accepted ones), the normal challenge round-trip, other user, the summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, run, byCode, b64 } from './builder.js';

const OK = 'HTTP/1.1 200 OK\nContent-Type: text/plain\n\nID: 1234';
const DENIED = 'HTTP/1.0 401 Unauthorized\nContent-Type: text/html\n\n<html>401 - ERROR: Access Denied</html>';

function sms(user: string | null, path: string): string {
  const body = `${user !== null ? `user=${user}&` : ''}password=s3cret&to=4912345&text=hello`;
  return `POST ${path} HTTP/1.1\nHost: messaging.sybase365.com\nContent-Type: application/x-www-form-urlencoded\nContent-Length: ${body.length}\n\n${body}`;
}

test('SMS gateway: POST without the username field next to accepted ones -> auth.field-missing', () => {
  const cap = new Capture();
  cap.add(sms('customerabc', '/customerabc/customerabc.sms'), OK, { client: '23.32.23.32:40001' });
  cap.add(sms('customerdef', '/customerdef/customerdef.sms'), OK, { client: '99.88.77.66:40002' });
  const bad = cap.add(sms(null, '/customerzzz/customerzzz.sms'), DENIED, { client: '11.22.33.44:40003' });
  const { findings, summary } = run(cap);
  const un = byCode(findings, 'http.unauthorized');
  assert.equal(un.length, 1);
  assert.equal(un[0].severity, 'error');
  assert.equal(un[0].exchange, bad.exchange.id);
  assert.match(un[0].message, /11\.22\.33\.44/);
  assert.match(un[0].message, /"user"/);
  const fm = byCode(findings, 'auth.field-missing');
  assert.equal(fm.length, 1);
  assert.deepEqual(fm[0].evidence['absentFields'], ['form:user']);
  assert.equal(fm[0].evidence['endpoint'], 'POST /{user}/{user}.sms');
  assert.equal(fm[0].evidence['user'], 'customerzzz', 'the user named in the URL path');
  assert.ok(fm[0].frames.includes(bad.exchange.request.frame) && fm[0].frames.includes(bad.exchange.response!.frame));
  assert.ok(!fm[0].message.includes('s3cret'));
  assert.equal(byCode(findings, 'auth.missing').length, 0);
  // credentials filled on the request: form with password only, user from the path shape
  assert.deepEqual(bad.exchange.request.credentials, { kind: 'form', user: 'customerzzz', fields: ['password'] });
  assert.equal(summary.refused, 1);
  assert.equal(summary.accepted, 2);
  const g = summary.groups.find((x) => x.refused > 0)!;
  assert.equal(g.endpoint, 'POST /{user}/{user}.sms');
  assert.equal(g.client, '11.22.33.44');
  assert.equal(g.user, 'customerzzz');
  assert.deepEqual(g.reasons, { 'auth.field-missing': 1 });
});

test('SMS gateway with Basic auth: no Authorization at all -> auth.missing, compared with accepted ones', () => {
  const cap = new Capture();
  const req = (path: string, auth: string | null) =>
    `POST ${path} HTTP/1.1\nHost: messaging.sybase365.com\n${auth ? `Authorization: Basic ${auth}\n` : ''}Content-Type: text/plain\n\nhello`;
  cap.add(req('/customerabc/customerabc.sms', b64('customerabc:pw1')), OK, { client: '23.32.23.32:40001' });
  const bad = cap.add(req('/customerzzz/customerzzz.sms', null), DENIED, { client: '11.22.33.44:40003' });
  // an accepted request that comes after the refusal in the capture still counts
  cap.add(req('/customerdef/customerdef.sms', b64('customerdef:pw2')), OK, { client: '99.88.77.66:40002' });
  const { findings } = run(cap);
  const m = byCode(findings, 'auth.missing');
  assert.equal(m.length, 1);
  assert.equal(m[0].exchange, bad.exchange.id);
  assert.equal(m[0].severity, 'error');
  assert.deepEqual(m[0].evidence['acceptedUsers'], ['customerabc', 'customerdef']);
  assert.ok((m[0].evidence['acceptedFields'] as string[]).includes('authorization:authorization'));
  assert.match(m[0].message, /carries no credentials/);
  assert.equal(bad.exchange.request.credentials, null);
  const un = byCode(findings, 'http.unauthorized')[0];
  assert.deepEqual(un.evidence['reasons'], ['auth.missing']);
  assert.equal(un.filter, `tcp.stream eq ${bad.exchange.stream} && frame.number in {${bad.exchange.request.frame}, ${bad.exchange.response!.frame}}`);
});

test('empty username in Basic credentials -> auth.field-missing naming the username', () => {
  const cap = new Capture();
  const req = (auth: string) => `GET /api/v1/items HTTP/1.1\nHost: api.example.com\nAuthorization: Basic ${auth}\n\n`;
  cap.add(req(b64('alice:pw')), OK);
  const bad = cap.add(req(b64(':pw')), 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="api"\n\n');
  const { findings } = run(cap);
  const fm = byCode(findings, 'auth.field-missing');
  assert.equal(fm.length, 1);
  assert.equal(fm[0].exchange, bad.exchange.id);
  assert.deepEqual(fm[0].evidence['emptyFields'], ['authorization:username']);
  assert.match(fm[0].message, /username inside the Authorization header/);
});

test('normal challenge round-trip is info and the group counts it', () => {
  const cap = new Capture();
  const a = cap.add('GET /private HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="r"\n\n');
  cap.add(`GET /private HTTP/1.1\nHost: h\nAuthorization: Basic ${b64('bob:pw')}\n\n`, OK);
  const { findings, summary } = run(cap);
  assert.deepEqual(findings.map((f) => [f.code, f.severity]), [['http.unauthorized', 'info']]);
  assert.equal(findings[0].exchange, a.exchange.id);
  assert.equal(findings[0].evidence['roundTrip'], true);
  assert.equal(summary.groups.length, 1);
  assert.equal(summary.groups[0].user, 'bob');
  assert.equal(summary.groups[0].accepted, 1);
  assert.equal(summary.groups[0].refused, 1);
  assert.deepEqual(summary.groups[0].reasons, { challenge: 1 });
});

test('another user refused where others are accepted; summary says when it started', () => {
  const cap = new Capture();
  const req = (u: string) => `GET /report HTTP/1.1\nHost: h\nX-Username: ${u}\nX-API-Key: k-${u}\n\n`;
  const c = { client: '10.0.0.5:1000' };
  const lastOk = cap.add(req('carol'), OK, { ...c, time: 1_700_000_100 });
  cap.add(req('dave'), OK, { client: '10.0.0.6:1000', time: 1_700_000_150 });
  const r1 = cap.add(req('carol'), 'HTTP/1.1 401 Unauthorized\n\n', { ...c, time: 1_700_000_200 });
  const r2 = cap.add(req('carol'), 'HTTP/1.1 401 Unauthorized\n\n', { ...c, time: 1_700_000_300 });
  const { findings, summary } = run(cap);
  const un = byCode(findings, 'http.unauthorized');
  assert.equal(un.length, 2);
  assert.deepEqual(un[0].evidence['reasons'], ['credentials-rejected']);
  const g = summary.groups.find((x) => x.user === 'carol')!;
  assert.equal(g.accepted, 1);
  assert.equal(g.refused, 2);
  assert.equal(g.firstRefusal!.exchange, r1.exchange.id);
  assert.equal(g.lastRefusal!.exchange, r2.exchange.id);
  assert.equal(g.lastAcceptedBeforeRefusal!.exchange, lastOk.exchange.id);
  assert.equal(g.firstRefusal!.time, '2023-11-14T22:16:40.050000Z');
  assert.equal(summary.firstRefusal!.exchange, r1.exchange.id);
  // X-Username is a user header: dave's group is separate
  assert.ok(summary.groups.some((x) => x.user === 'dave' && x.accepted === 1 && x.refused === 0));
});

test('407 from a proxy is http.unauthorized too; SIP REGISTER without answer -> auth.missing', () => {
  const cap = new Capture();
  cap.add('GET http://example.com/ HTTP/1.1\nHost: example.com\n\n', 'HTTP/1.1 407 Proxy Authentication Required\nProxy-Authenticate: Basic realm="proxy"\n\n');
  cap.add(
    'REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK1\nFrom: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\nCall-ID: reg-1@10.0.0.9\nCSeq: 1 REGISTER\nContent-Length: 0\n\n',
    'SIP/2.0 401 Unauthorized\nCall-ID: reg-1@10.0.0.9\nCSeq: 1 REGISTER\nWWW-Authenticate: Digest realm="example.com", nonce="abc"\nContent-Length: 0\n\n',
    { client: '10.0.0.9:5060' },
  );
  const { findings, summary } = run(cap);
  const un = byCode(findings, 'http.unauthorized');
  assert.equal(un.length, 2);
  assert.match(un[0].message, /^407 Proxy Authentication Required to GET \//);
  assert.equal(un[1].stream, null);
  assert.match(un[1].filter, /^frame\.number in \{\d+, \d+\}$/);
  assert.equal(byCode(findings, 'auth.missing').length, 2);
  const sipGroup = summary.groups.find((g) => g.endpoint === 'REGISTER sip:example.com')!;
  assert.equal(sipGroup.user, 'alice');
});
