// auth.basic-malformed and auth.token-expired (bearer JWT exp before the packet time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, run, byCode, b64 } from './builder.js';

const jwt = (payload: object) =>
  `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJl`;

test('Basic credentials that are not base64 of user:password', () => {
  const cap = new Capture();
  cap.add('GET /a HTTP/1.1\nAuthorization: Basic alice:secret\n\n', 'HTTP/1.1 401 Unauthorized\n\n');
  cap.add(`GET /a HTTP/1.1\nAuthorization: Basic ${b64('alicesecret')}\n\n`, 'HTTP/1.1 401 Unauthorized\n\n');
  cap.add(`GET /a HTTP/1.1\nAuthorization: Basic ${b64('alice:secret')}\n\n`, 'HTTP/1.1 200 OK\n\n');
  const f = byCode(run(cap).findings, 'auth.basic-malformed');
  assert.deepEqual(f.map((x) => [x.exchange, x.evidence['problem']]), [['x1', 'not-base64'], ['x2', 'no-colon']]);
  assert.ok(f.every((x) => !x.message.includes('secret')));
});

test('expired bearer JWT: exp as ISO time and how long before the request', () => {
  const cap = new Capture();
  const t = 1_700_000_000;
  cap.add(`GET /api/me HTTP/1.1\nAuthorization: Bearer ${jwt({ sub: 'u1', exp: t - 7260 })}\n\n`, 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer error="invalid_token"\n\n', { time: t });
  cap.add(`GET /api/me HTTP/1.1\nAuthorization: Bearer ${jwt({ sub: 'u1', exp: t + 3600 })}\n\n`, 'HTTP/1.1 401 Unauthorized\n\n', { time: t + 1 });
  cap.add('GET /api/me HTTP/1.1\nAuthorization: Bearer opaque-token-value\n\n', 'HTTP/1.1 401 Unauthorized\n\n', { time: t + 2 });
  const f = byCode(run(cap).findings, 'auth.token-expired');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].exchange, 'x1');
  assert.equal(f[0].evidence['exp'], '2023-11-14T20:12:20.000Z');
  assert.equal(f[0].evidence['expiredSecondsAgo'], 7260);
  assert.equal(f[0].evidence['expiredAgo'], '2h 1m');
  assert.match(f[0].message, /2023-11-14T20:12:20/);
});
