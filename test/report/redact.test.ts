// redactReport / isSecretHeader: credentials, cookies, signature and key headers, secret query
// fields and evidence are redacted; usernames and Digest parameters a ticket needs stay visible.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretHeader, redactHeaderValue, redactReport, redactUri } from '../../src/report/redact.js';
import {
  API_KEY, BASIC_PASSWORD, BASIC_TOKEN, DIGEST_RESPONSE, EVIDENCE_PASSWORD, EXPECTED_DIGEST, NESTED_SECRET, SECRETS,
  SIGNATURE_UPPER, fixtureReport,
} from './fixture.js';

function header(r: ReturnType<typeof fixtureReport>, id: string, name: string): string | undefined {
  return r.exchanges.find((x) => x.id === id)!.request.headers.find(([n]) => n === name)?.[1];
}

test('isSecretHeader: credential, cookie, key and signature headers; not challenges or usernames', () => {
  for (const n of ['Authorization', 'proxy-authorization', 'Cookie', 'Set-Cookie', 'X-Signature', 'Signature', 'X-API-Key', 'Api-Key', 'X-Auth-Token', 'X-Access-Token', 'X-Client-Secret', 'X-Hub-Signature-256']) {
    assert.equal(isSecretHeader(n), true, n);
  }
  for (const n of ['WWW-Authenticate', 'Proxy-Authenticate', 'X-Username', 'Host', 'Content-Type', 'Content-Length', 'Keep-Alive', 'Via']) {
    assert.equal(isSecretHeader(n), false, n);
  }
});

test('Basic keeps the scheme and the user, hides the password and the base64', () => {
  const v = redactHeaderValue('Authorization', `Basic ${BASIC_TOKEN}`);
  assert.equal(v, 'Basic <redacted> (user: alice)');
  assert.equal(redactHeaderValue('Authorization', 'Basic !!notbase64!!'), 'Basic <redacted>');
});

test('Digest keeps username/realm/nonce/uri/qop/algorithm/cnonce, redacts response with its length', () => {
  const v = redactHeaderValue('Proxy-Authorization', `Digest username="bob", realm="example.com", nonce="abc123", uri="/a?token=t0psecret1", response="${DIGEST_RESPONSE}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`);
  assert.equal(v, 'Digest username="bob", realm="example.com", nonce="abc123", uri="/a?token=<redacted>", response="<redacted 32 hex>", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001');
});

test('Bearer tokens, cookies and Set-Cookie values are redacted, attributes kept', () => {
  assert.equal(redactHeaderValue('authorization', 'Bearer abc.def.ghi'), 'Bearer <redacted>');
  assert.equal(redactHeaderValue('Cookie', 'a=1; sid=xyz'), 'a=<redacted>; sid=<redacted>');
  assert.equal(redactHeaderValue('Set-Cookie', 'sid=xyz; Path=/; HttpOnly'), 'sid=<redacted>; Path=/; HttpOnly');
  assert.equal(redactHeaderValue('X-Signature', SIGNATURE_UPPER), '<redacted 32 hex, upper case>');
  assert.equal(redactHeaderValue('X-API-Key', API_KEY), '<redacted>');
  assert.equal(redactHeaderValue('X-Username', 'resellr'), 'resellr');
});

test('secret-named query fields are redacted, others kept', () => {
  assert.equal(redactUri('/send?user=bob&password=hunter22&to=123&api_key=K1&sig=abcd&client_secret=s3&pass='),
    '/send?user=bob&password=<redacted>&to=123&api_key=<redacted>&sig=<redacted>&client_secret=<redacted>&pass=');
  assert.equal(redactUri('/p?Token=AbC&access_token=x1'), '/p?Token=<redacted>&access_token=<redacted>');
  assert.equal(redactUri('http://bob:pw123@host/x'), 'http://bob:<redacted>@host/x');
  assert.equal(redactUri('/plain/path'), '/plain/path');
});

test('redactReport hides every fixture secret, keeps usernames, does not touch its input', () => {
  const r = fixtureReport();
  const before = JSON.stringify(r);
  const red = redactReport(r);
  assert.equal(JSON.stringify(r), before, 'input unchanged');
  const text = JSON.stringify(red);
  for (const s of SECRETS) assert.equal(text.includes(s), false, `secret ${s} leaked`);
  for (const u of ['alice', 'bob', 'customerabc', 'resellr']) assert.ok(text.includes(u), `user ${u} shown`);
  assert.equal(header(red, 'x8', 'Authorization'), 'Basic <redacted> (user: alice)');
  assert.equal(header(red, 'x6', 'X-Username'), 'resellr');
});

test('evidence under SECRET_EVIDENCE_KEYS is redacted recursively; other evidence stays', () => {
  const red = redactReport(fixtureReport());
  const digest = red.findings.find((f) => f.code === 'auth.digest-mismatch')!.evidence;
  assert.deepEqual(digest, { password: '<redacted>', response: '<redacted 32 hex>', expectedResponse: '<redacted 32 hex>', realm: 'example.com' });
  const upper = red.findings.find((f) => f.code === 'signature.uppercase')!;
  assert.deepEqual(upper.evidence, { header: 'X-Signature', computed: { key: '<redacted>', rounds: 2 } });
  const nul = red.findings.find((f) => f.code === 'body.trailing-nul')!.evidence;
  assert.equal(nul.nulBytes, 1);
  const get = red.findings.find((f) => f.code === 'method.get-not-post')!.evidence;
  assert.equal(get.uri, '/customerabc/customerabc.sms?user=customerabc&password=<redacted>');
  assert.ok(!JSON.stringify(red.findings).includes(EVIDENCE_PASSWORD) && !JSON.stringify(red.findings).includes(NESTED_SECRET) && !JSON.stringify(red.findings).includes(EXPECTED_DIGEST));
});

test('a secret copied into a message elsewhere is scrubbed too', () => {
  const red = redactReport(fixtureReport());
  const upper = red.findings.find((f) => f.code === 'signature.uppercase')!;
  assert.equal(upper.message, 'X-Signature <redacted 32 hex, upper case> is upper case; the server expects lower case');
});

test('redactReport is idempotent', () => {
  const once = redactReport(fixtureReport());
  assert.deepEqual(redactReport(once), once);
});

test('a header value that merely contains "<redacted>" is still redacted', () => {
  assert.equal(redactHeaderValue('X-Signature', '<redacted> realsecret'), '<redacted>');
  assert.equal(redactHeaderValue('Authorization', 'Bearer <redacted>x'), 'Bearer <redacted>');
  void BASIC_PASSWORD;
});
