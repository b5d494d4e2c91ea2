// Digest parsing and verification against the published vectors of RFC 7616 §3.9.1 (MD5 and
// SHA-256), §3.9.2 (SHA-512-256 with userhash) and RFC 2617 §3.5, plus auth.digest-mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseDigestAuthorization, verifyDigest, digestUserhash } from '../../src/checks/digest.js';
import { Capture, run, byCode } from './builder.js';

const RFC7616_COMMON =
  'username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", qop=auth, nc=00000001, ' +
  'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

test('RFC 7616 3.9.1 MD5 vector verifies', () => {
  const p = parseDigestAuthorization(`Digest ${RFC7616_COMMON}, algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec"`);
  assert.equal(p.username, 'Mufasa');
  assert.equal(p.realm, 'http-auth@example.org');
  assert.equal(p.cnonce, 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
  const r = verifyDigest(p, { password: 'Circle of Life', method: 'GET' });
  assert.equal(r.expected, '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(r.ok, true);
  assert.equal(verifyDigest(p, { password: 'Circle of life', method: 'GET' }).ok, false);
  assert.equal(verifyDigest(p, { password: 'Circle of Life', method: 'POST' }).ok, false);
});

test('RFC 7616 3.9.1 SHA-256 vector verifies', () => {
  const p = parseDigestAuthorization(`Digest ${RFC7616_COMMON}, algorithm=SHA-256, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`);
  const r = verifyDigest(p, { password: 'Circle of Life', method: 'GET' });
  assert.equal(r.expected, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  assert.equal(r.ok, true);
});

test('SHA-512-256 with userhash (RFC 7616 3.9.2 user, hash as corrected by erratum 4897)', () => {
  const user = 'J\u00e4s\u00f8n Doe';
  const uh = digestUserhash('SHA-512-256', user, 'api@example.org');
  assert.equal(uh, '793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b');
  // The RFC's printed response is disputed (erratum 4897): check the formula step by step instead.
  const H = (x: string) => createHash('sha512-256').update(x).digest('hex');
  const nonce = '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK';
  const cnonce = 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v';
  const resp = H(`${H(`${user}:api@example.org:Secret, or not?`)}:${nonce}:00000001:${cnonce}:auth:${H('GET:/doe.json')}`);
  const p = parseDigestAuthorization(
    `Digest username="${uh}", realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="${nonce}", nc=00000001, ` +
      `cnonce="${cnonce}", qop=auth, response="${resp}", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true`,
  );
  assert.equal(p.userhash, true);
  assert.equal(verifyDigest(p, { password: 'Secret, or not?', method: 'GET', user }).ok, true);
  assert.equal(verifyDigest(p, { password: 'Secret, or not!', method: 'GET', user }).ok, false);
});

test('RFC 2617 3.5 example verifies', () => {
  const p = parseDigestAuthorization(
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", ' +
      'qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.equal(p.algorithm, 'MD5');
  const r = verifyDigest(p, { password: 'Circle Of Life', method: 'GET' });
  assert.equal(r.ok, true);
});

test('qop none, auth-int and MD5-sess are computed per RFC 2617', () => {
  // Reference values computed step by step from the RFC formulas with independent code.
  const H = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
  const ha1 = H('bob:r:pw');
  const none = H(`${ha1}:n1:${H('REGISTER:sip:example.com')}`);
  const p1 = parseDigestAuthorization(`Digest username="bob", realm="r", nonce="n1", uri="sip:example.com", response="${none}"`);
  assert.equal(verifyDigest(p1, { password: 'pw', method: 'REGISTER' }).ok, true);
  const body = Buffer.from('hello');
  const ai = H(`${ha1}:n1:00000002:c1:auth-int:${H(`POST:/x:${H(body)}`)}`);
  const p2 = parseDigestAuthorization(`Digest username="bob", realm="r", nonce="n1", uri="/x", qop=auth-int, nc=00000002, cnonce="c1", response="${ai}"`);
  assert.equal(verifyDigest(p2, { password: 'pw', method: 'POST', body }).ok, true);
  assert.equal(verifyDigest(p2, { password: 'pw', method: 'POST', body: Buffer.from('hello\0') }).ok, false);
  const sess = H(`${H(`${ha1}:n1:c1`)}:n1:00000001:c1:auth:${H('GET:/y')}`);
  const p3 = parseDigestAuthorization(`Digest username="bob", realm="r", nonce="n1", uri="/y", qop=auth, nc=00000001, cnonce="c1", algorithm=MD5-sess, response="${sess}"`);
  assert.equal(verifyDigest(p3, { password: 'pw', method: 'GET' }).ok, true);
});


const MUFASA_MD5 = `Authorization: Digest ${RFC7616_COMMON}, algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec"`;

test('auth.digest-mismatch only when the given password does not verify', () => {
  const cap = new Capture();
  cap.add(`GET /dir/index.html HTTP/1.1\nHost: example.org\n${MUFASA_MD5}\n\n`, 'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Digest realm="http-auth@example.org", nonce="x"\n\n');
  const good = run(cap, { password: 'Circle of Life' });
  assert.equal(byCode(good.findings, 'auth.digest-mismatch').length, 0);
  const bad = run(cap, { password: 'Zebra42' });
  const f = byCode(bad.findings, 'auth.digest-mismatch');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].evidence['username'], 'Mufasa');
  assert.equal(f[0].evidence['expectedResponse'] !== '8ca523f5e9506fed4657c9700eebdbec', true);
  assert.ok(!f[0].message.includes('Zebra42'), 'message must not contain the password');
  assert.deepEqual(f[0].frames, [1, 2]);
  // --user for another user: that user's requests only.
  const other = run(cap, { password: 'Zebra42', user: 'alice' });
  assert.equal(byCode(other.findings, 'auth.digest-mismatch').length, 0);
});
