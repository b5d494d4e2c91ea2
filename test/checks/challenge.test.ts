// Challenge parsing and the challenge flows: Basic/Digest round trips, rejected after retry, stale
// nonce (stale=true and a reused refused nonce), challenge mismatch, unanswered challenges, and SIP
// REGISTER 401 -> REGISTER with Digest -> 200 next to one never answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/checks/challenge.js';
import { Capture, run, byCode, problems, b64 } from './builder.js';

test('parseChallenges: several challenges in one header, quoted strings with commas, token68', () => {
  const c = parseChallenges(
    'Basic realm="simple, but quoted", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale=TRUE, ' +
      'Negotiate YIIBzgYGKwYBBQUCoIIBwjCCAb6gMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCAYgEggGE==, NTLM',
  );
  assert.deepEqual(c.map((x) => x.scheme), ['Basic', 'Digest', 'Negotiate', 'NTLM']);
  assert.equal(c[0].realm, 'simple, but quoted');
  assert.equal(c[1].realm, 'http-auth@example.org');
  assert.deepEqual(c[1].qop, ['auth', 'auth-int']);
  assert.equal(c[1].algorithm, 'SHA-256');
  assert.equal(c[1].nonce, '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v');
  assert.equal(c[1].stale, true);
  assert.equal(c[1].opaque, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
  assert.match(c[2].token68!, /^YIIB.*==$/);
  assert.equal(c[3].token68, undefined);
  const esc = parseChallenges('Bearer realm="a \\"quoted\\" realm", error="invalid_token", error_description="The access token expired"');
  assert.equal(esc[0].realm, 'a "quoted" realm');
  assert.equal(esc[0].params['error'], 'invalid_token');
});

const CH = (realm: string, nonce: string, extra = '') => `HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Digest realm="${realm}", qop="auth", nonce="${nonce}"${extra}\n\n`;
const DIG = (realm: string, nonce: string, resp = '0123456789abcdef0123456789abcdef') =>
  `Authorization: Digest username="alice", realm="${realm}", nonce="${nonce}", uri="/x", qop=auth, nc=00000001, cnonce="c1", response="${resp}"`;

test('Basic: answered and refused again -> auth.rejected-after-retry, spanning both exchanges', () => {
  const cap = new Capture();
  const a = cap.add('GET /admin HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="admin"\n\n', { stream: 3 });
  const b = cap.add(`GET /admin HTTP/1.1\nHost: h\nAuthorization: Basic ${b64('root:Xyzzy9')}\n\n`, 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="admin"\n\n', { stream: 3 });
  const { findings } = run(cap);
  const r = byCode(findings, 'auth.rejected-after-retry');
  assert.equal(r.length, 1);
  assert.equal(r[0].severity, 'error');
  assert.equal(r[0].exchange, b.exchange.id);
  assert.equal(r[0].evidence['user'], 'root');
  assert.equal(r[0].evidence['challengeExchange'], a.exchange.id);
  assert.deepEqual(r[0].frames, [1, 2, 3, 4]);
  assert.equal(r[0].filter, 'tcp.stream eq 3 && frame.number in {1, 2, 3, 4}');
  assert.ok(!r[0].message.includes('Xyzzy9'));
  // the second challenge is not "unanswered": the client answered and was rejected
  assert.equal(byCode(findings, 'auth.challenge-unanswered').length, 0);
  // and the first request is not "missing credentials": the client does send them when challenged
  assert.equal(byCode(findings, 'auth.missing').length, 0);
  const first = byCode(findings, 'http.unauthorized').find((f) => f.exchange === a.exchange.id)!;
  assert.equal(first.severity, 'error');
  assert.deepEqual(first.evidence['reasons'], ['challenge-answered-refused']);
});

test('Digest: stale=true -> auth.stale-nonce; retry with the new nonce accepted', () => {
  const cap = new Capture();
  cap.add(`GET /x HTTP/1.1\nHost: h\n${DIG('r', 'old')}\n\n`, CH('r', 'new', ', stale=true'));
  cap.add(`GET /x HTTP/1.1\nHost: h\n${DIG('r', 'new')}\n\n`, 'HTTP/1.1 200 OK\n\n');
  const { findings } = run(cap);
  assert.deepEqual(problems(findings).map((f) => f.code), ['auth.stale-nonce']);
  assert.equal(byCode(findings, 'auth.stale-nonce')[0].evidence['reason'], 'stale');
  assert.equal(byCode(findings, 'auth.rejected-after-retry').length, 0);
});

test('Digest: a nonce used again after it was refused -> auth.stale-nonce (nonce-reused)', () => {
  const cap = new Capture();
  cap.add('GET /x HTTP/1.1\nHost: h\n\n', CH('r', 'n1'));
  const refused = cap.add(`GET /x HTTP/1.1\nHost: h\n${DIG('r', 'n1')}\n\n`, CH('r', 'n2'));
  const again = cap.add(`GET /x HTTP/1.1\nHost: h\n${DIG('r', 'n1')}\n\n`, CH('r', 'n3'));
  const { findings } = run(cap);
  const st = byCode(findings, 'auth.stale-nonce');
  assert.equal(st.length, 1);
  assert.equal(st[0].exchange, again.exchange.id);
  assert.equal(st[0].evidence['reason'], 'nonce-reused');
  assert.equal(st[0].evidence['refusedExchange'], refused.exchange.id);
  assert.equal(byCode(findings, 'auth.rejected-after-retry').length, 2);
});

test('Digest answer with another realm -> auth.challenge-mismatch (warning)', () => {
  const cap = new Capture();
  cap.add('GET /x HTTP/1.1\nHost: h\n\n', CH('realm-A', 'n1'));
  cap.add(`GET /x HTTP/1.1\nHost: h\n${DIG('realm-B', 'n1')}\n\n`, CH('realm-A', 'n2'));
  const { findings } = run(cap);
  const m = byCode(findings, 'auth.challenge-mismatch');
  assert.equal(m.length, 1);
  assert.equal(m[0].severity, 'warning');
  assert.equal(m[0].evidence['realmMatches'], false);
  assert.equal(m[0].evidence['nonceMatches'], true);
  assert.match(m[0].message, /realm "realm-B"/);
});

test('a 401 challenge the client never answers -> auth.challenge-unanswered once per endpoint', () => {
  const cap = new Capture();
  const a = cap.add('GET /feed HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer realm="feed"\n\n');
  cap.add('GET /feed HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer realm="feed"\n\n');
  const { findings } = run(cap);
  const u = byCode(findings, 'auth.challenge-unanswered');
  assert.equal(u.length, 1);
  assert.equal(u[0].severity, 'warning');
  assert.equal(u[0].exchange, a.exchange.id);
  assert.equal(u[0].evidence['challenges'], 2);
  assert.deepEqual(u[0].evidence['schemes'], ['bearer']);
  assert.equal(u[0].evidence['realm'], 'feed');
});

const REG = (cseq: number, callId: string, auth = '') =>
  `REGISTER sip:pbx.example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK${cseq}\nFrom: <sip:1001@pbx.example.com>;tag=a1\n` +
  `To: <sip:1001@pbx.example.com>\nCall-ID: ${callId}\nCSeq: ${cseq} REGISTER\n${auth}Contact: <sip:1001@10.0.0.20:5060>\nContent-Length: 0\n\n`;
const REG401 = (cseq: number, callId: string, nonce: string) =>
  `SIP/2.0 401 Unauthorized\nCall-ID: ${callId}\nCSeq: ${cseq} REGISTER\nWWW-Authenticate: Digest realm="pbx.example.com", nonce="${nonce}", algorithm=MD5\nContent-Length: 0\n\n`;
const REG200 = (cseq: number, callId: string) => `SIP/2.0 200 OK\nCall-ID: ${callId}\nCSeq: ${cseq} REGISTER\nContent-Length: 0\n\n`;

test('SIP: REGISTER 401 -> REGISTER with Digest -> 200 is quiet; another never answered is reported', () => {
  const cap = new Capture();
  const phone = { client: '10.0.0.20:5060' };
  cap.add(REG(1, 'ok-call@10.0.0.20'), REG401(1, 'ok-call@10.0.0.20', 'n1'), phone);
  const auth = 'Authorization: Digest username="1001", realm="pbx.example.com", nonce="n1", uri="sip:pbx.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5\n';
  const ok = cap.add(REG(2, 'ok-call@10.0.0.20', auth), REG200(2, 'ok-call@10.0.0.20'), phone);
  const other = { client: '10.0.0.21:5060' };
  const lost = cap.add(REG(1, 'lost-call@10.0.0.21'), REG401(1, 'lost-call@10.0.0.21', 'n9'), other);
  const { findings } = run(cap);
  assert.deepEqual(ok.exchange.request.credentials, { kind: 'digest', user: '1001', fields: ['Authorization'] });
  const un = byCode(findings, 'http.unauthorized');
  assert.equal(un.length, 2);
  assert.equal(un.find((f) => f.exchange === 'x1')!.severity, 'info');
  assert.equal(un.find((f) => f.exchange === lost.exchange.id)!.severity, 'error');
  const u = byCode(findings, 'auth.challenge-unanswered');
  assert.equal(u.length, 1);
  assert.equal(u[0].exchange, lost.exchange.id);
  assert.equal(u[0].filter, 'sip.Call-ID == "lost-call@10.0.0.21"');
  assert.equal(u[0].stream, null);
  assert.deepEqual(problems(findings).filter((f) => f.exchange !== lost.exchange.id), []);
});

test('SIP: INVITE answered 407, the retry with a higher CSeq refused again -> rejected-after-retry (Call-ID filter)', () => {
  const cap = new Capture();
  const inv = (cseq: number, auth = '') =>
    `INVITE sip:2000@pbx.example.com SIP/2.0\nFrom: <sip:1001@pbx.example.com>;tag=a\nTo: <sip:2000@pbx.example.com>\nCall-ID: inv-7\nCSeq: ${cseq} INVITE\n${auth}Content-Length: 0\n\n`;
  const r407 = (cseq: number) => `SIP/2.0 407 Proxy Authentication Required\nCall-ID: inv-7\nCSeq: ${cseq} INVITE\nProxy-Authenticate: Digest realm="pbx", nonce="p${cseq}"\n\n`;
  cap.add(inv(1), r407(1));
  cap.add('ACK sip:2000@pbx.example.com SIP/2.0\nCall-ID: inv-7\nCSeq: 1 ACK\n\n', null);
  cap.add(inv(2, 'Proxy-Authorization: Digest username="1001", realm="pbx", nonce="p1", uri="sip:2000@pbx.example.com", response="00000000000000000000000000000000"\n'), r407(2));
  const { findings } = run(cap);
  const r = byCode(findings, 'auth.rejected-after-retry');
  assert.equal(r.length, 1);
  assert.equal(r[0].filter, 'sip.Call-ID == "inv-7"');
  assert.equal(r[0].evidence['user'], '1001');
  assert.equal(byCode(findings, 'auth.challenge-unanswered').length, 0);
});

test('SIP: a new challenge to an unauthenticated REGISTER in the same Call-ID is the one the next answer must match', () => {
  // As in zeek's sip_wireshark.pcap (frames 6-13): refused after retry, then a REGISTER without credentials
  // gets a fresh nonce, and the next REGISTER answers that nonce (not the earlier challenge's).
  const cap = new Capture();
  const phone = { client: '10.0.0.20:5060' };
  const auth = (nonce: string) =>
    `Authorization: Digest username="1001", realm="pbx.example.com", nonce="${nonce}", uri="sip:pbx.example.com", response="00000000000000000000000000000000", algorithm=MD5\n`;
  cap.add(REG(1, 'c@10.0.0.20'), REG401(1, 'c@10.0.0.20', 'n1'), phone); // frames 1, 2
  cap.add(REG(2, 'c@10.0.0.20', auth('n1')), REG401(2, 'c@10.0.0.20', 'n2'), phone); // frames 3, 4
  cap.add(REG(3, 'c@10.0.0.20'), REG401(3, 'c@10.0.0.20', 'n3'), phone); // frames 5, 6
  const last = cap.add(REG(4, 'c@10.0.0.20', auth('n3')), REG401(4, 'c@10.0.0.20', 'n4'), phone); // frames 7, 8
  const { findings } = run(cap);
  assert.deepEqual(byCode(findings, 'auth.challenge-mismatch'), []);
  const r = byCode(findings, 'auth.rejected-after-retry');
  assert.equal(r.length, 2);
  const second = r.find((f) => f.exchange === last.exchange.id)!;
  assert.equal(second.evidence['challengeFrame'], 6);
  assert.match(second.message, /answered the 401 challenge \(frame 6\)/);
});
