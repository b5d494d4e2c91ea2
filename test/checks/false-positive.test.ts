// No false positives: healthy authenticated traffic (Basic, Digest with a verifying password,
// Bearer, API key, SIP REGISTER round trip) yields no warning or error; public endpoints yield nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Capture, run, problems, b64 } from './builder.js';

const OK = 'HTTP/1.1 200 OK\nContent-Type: application/json\n\n{"ok":true}';
const H = (s: string) => createHash('md5').update(s).digest('hex');

test('healthy authenticated traffic: only info findings', () => {
  const cap = new Capture();
  // Basic with a challenge round trip, then preemptive
  cap.add('GET /basic HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="b"\n\n');
  for (let i = 0; i < 3; i++) cap.add(`GET /basic HTTP/1.1\nHost: h\nAuthorization: Basic ${b64('ann:pw')}\n\n`, OK);
  // Digest round trip whose response verifies with the given password
  cap.add('GET /dig HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Digest realm="d", qop="auth", nonce="N1", opaque="o"\n\n', { client: '192.0.2.11:1' });
  const resp = H(`${H('ann:d:pw')}:N1:00000001:cc:auth:${H('GET:/dig')}`);
  cap.add(`GET /dig HTTP/1.1\nHost: h\nAuthorization: Digest username="ann", realm="d", nonce="N1", uri="/dig", qop=auth, nc=00000001, cnonce="cc", response="${resp}", opaque="o"\n\n`, OK, { client: '192.0.2.11:2' });
  // Bearer JWT valid for an hour, API key, OpenSRS-style signed POST accepted
  const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: 1_800_000_000 })).toString('base64url')}.sig`;
  cap.add(`GET /me HTTP/1.1\nHost: h\nAuthorization: Bearer ${jwt}\n\n`, OK);
  cap.add('POST /v1/send HTTP/1.1\nHost: h\nX-API-Key: abc\nContent-Type: application/json\n\n{"to":"1"}', OK);
  cap.add('POST / HTTP/1.0\nContent-Type: text/xml\nX-Username: test\nX-Signature: c9fd4c8fde71912c63cc4ba83bbb6bc1\n\n<x/>', 'HTTP/1.1 200 OK\n\n<ok/>');
  // NTLM handshake: type 1 -> 401 with type 2 -> type 3 -> 200
  const t1 = Buffer.from('NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2', 'latin1').toString('base64');
  const t2 = Buffer.from('NTLMSSP\0\x02\0\0\0\0\0\0\0\0\0\0\0', 'latin1').toString('base64');
  const t3 = Buffer.concat([Buffer.from('NTLMSSP\0\x03\0\0\0', 'latin1'), Buffer.alloc(52)]).toString('base64');
  cap.add(`GET /intranet HTTP/1.1\nHost: h\nAuthorization: NTLM ${t1}\n\n`, `HTTP/1.1 401 Unauthorized\nWWW-Authenticate: NTLM ${t2}\n\n`, { stream: 40 });
  cap.add(`GET /intranet HTTP/1.1\nHost: h\nAuthorization: NTLM ${t3}\n\n`, OK, { stream: 40 });
  // SIP REGISTER round trip
  const reg = (cseq: number, auth: string) =>
    `REGISTER sip:pbx SIP/2.0\nFrom: <sip:100@pbx>;tag=1\nTo: <sip:100@pbx>\nCall-ID: c1\nCSeq: ${cseq} REGISTER\n${auth}Content-Length: 0\n\n`;
  cap.add(reg(1, ''), 'SIP/2.0 401 Unauthorized\nCall-ID: c1\nCSeq: 1 REGISTER\nWWW-Authenticate: Digest realm="pbx", nonce="s1"\n\n');
  const sresp = H(`${H('100:pbx:pw')}:s1:${H('REGISTER:sip:pbx')}`);
  cap.add(reg(2, `Authorization: Digest username="100", realm="pbx", nonce="s1", uri="sip:pbx", response="${sresp}"\n`), 'SIP/2.0 200 OK\nCall-ID: c1\nCSeq: 2 REGISTER\n\n');
  // NTLM handshake that authenticates and then gets 405 for the method: the 401 leg is still normal
  cap.add(`MKCOL /dav HTTP/1.1\nHost: h\nAuthorization: NTLM ${t1}\n\n`, `HTTP/1.1 401 Unauthorized\nWWW-Authenticate: NTLM ${t2}\n\n`, { stream: 41 });
  cap.add(`MKCOL /dav HTTP/1.1\nHost: h\nAuthorization: NTLM ${t3}\n\n`, 'HTTP/1.1 405 Method Not Allowed\n\n', { stream: 41 });
  const { findings, summary } = run(cap, { password: 'pw' });
  assert.deepEqual(problems(findings), []);
  assert.ok(findings.every((f) => f.code === 'http.unauthorized' && f.severity === 'info'));
  assert.equal(findings.length, 5);
  assert.equal(summary.refused, 5);
});

test('public endpoints without credentials: no findings at all', () => {
  const cap = new Capture();
  cap.add('GET / HTTP/1.1\nHost: www.example.com\n\n', 'HTTP/1.1 200 OK\nContent-Type: text/html\n\n<html>Welcome</html>');
  cap.add('GET /search?q=hello&page=2 HTTP/1.1\nHost: www.example.com\n\n', OK);
  cap.add('POST /contact HTTP/1.1\nHost: www.example.com\nContent-Type: application/x-www-form-urlencoded\n\nname=a&msg=b', 'HTTP/1.1 302 Found\nLocation: /thanks\n\n');
  cap.add('GET /missing HTTP/1.1\nHost: www.example.com\n\n', 'HTTP/1.1 404 Not Found\n\n');
  cap.add('OPTIONS sip:pbx SIP/2.0\nCall-ID: o1\nCSeq: 1 OPTIONS\n\n', 'SIP/2.0 200 OK\nCall-ID: o1\nCSeq: 1 OPTIONS\n\n');
  const { findings, summary } = run(cap);
  assert.deepEqual(findings, []);
  assert.deepEqual(summary.groups, []);
  assert.equal(summary.refused, 0);
  assert.ok(cap.list.every((c) => c.exchange.request.credentials === null));
});
