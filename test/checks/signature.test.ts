// Signatures: the seed's MD5 vector, upper-case hex, and with a key the OpenSRS double MD5 and its
// known wrong variants (single MD5, upper case, trailing NUL stripped, NUL appended, CRLF).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkSignature } from '../../src/checks/signature.js';
import { Capture, run, byCode } from './builder.js';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const XML = `<?xml version='1.0' encoding='UTF-8' standalone='no' ?>\r\n<OPS_envelope><body><item key="action">LOOKUP</item></body></OPS_envelope>`;
/** The OpenSRS rule, written from the documentation: md5(md5(xml + key) + key), lower case. */
const opensrs = (body: string | Buffer) => md5(Buffer.concat([Buffer.from(md5(Buffer.concat([Buffer.from(body), Buffer.from(KEY)])) + KEY)]));

test("the seed's MD5 test vector", () => {
  assert.equal(md5('ConnecttoOpenSRSviaSSL'), 'e787cc1d1951dfec4827cede7b1a0933');
  // and checkSignature's "body-only-md5" variant is that plain MD5
  assert.equal(checkSignature('e787cc1d1951dfec4827cede7b1a0933', Buffer.from('ConnecttoOpenSRSviaSSL'), 'k').variant, 'body-only-md5');
});

function post(sig: string, body: Buffer | string) {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`POST / HTTP/1.0\r\nContent-Length: ${b.length}\r\nContent-Type: text/xml\r\nX-Username: test\r\nX-Signature: ${sig}\r\n\r\n`), b]);
}
const DENIED = 'HTTP/1.1 401 Unauthorized\n\n';

test('correct signature: nothing, with or without the key', () => {
  const cap = new Capture();
  cap.add(post(opensrs(XML), XML), DENIED);
  assert.equal(run(cap, { key: KEY }).findings.filter((f) => f.code.startsWith('signature.')).length, 0);
  assert.equal(run(cap).findings.filter((f) => f.code.startsWith('signature.')).length, 0);
});

test('upper-case hex without a key -> signature.uppercase (warning), no secret in the message', () => {
  const cap = new Capture();
  const sig = opensrs(XML).toUpperCase();
  cap.add(post(sig, XML), DENIED);
  const f = byCode(run(cap).findings, 'signature.uppercase');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'warning');
  assert.equal(f[0].evidence['field'], 'X-Signature');
  assert.ok(!f[0].message.includes(sig));
  assert.equal(f[0].evidence['signature'], sig); // under a secret evidence key
});

test('with the key: each wrong way is named', () => {
  const cases: [string, string | Buffer, string][] = [
    ['uppercase', XML, opensrs(XML).toUpperCase()],
    ['single-md5', XML, md5(XML + KEY)],
    ['body-trailing-nul-stripped', Buffer.concat([Buffer.from(XML), Buffer.from([0])]), opensrs(XML)],
    ['body-nul-appended', XML, opensrs(Buffer.concat([Buffer.from(XML), Buffer.from([0])]))],
    ['body-crlf-to-lf', XML, opensrs(XML.replace(/\r\n/g, '\n'))],
    ['key-first', XML, md5(md5(KEY + XML) + KEY)],
    ['single-md5+uppercase', XML, md5(XML + KEY).toUpperCase()],
  ];
  for (const [variant, body, sig] of cases) {
    const cap = new Capture();
    cap.add(post(sig, body), DENIED);
    const fs = run(cap, { key: KEY }).findings;
    const v = byCode(fs, 'signature.variant');
    assert.equal(v.length, 1, variant);
    assert.equal(v[0].evidence['variant'], variant);
    assert.equal(v[0].evidence['expectedSignature'], opensrs(body));
    assert.ok(!v[0].message.includes(KEY));
    assert.equal(byCode(fs, 'signature.mismatch').length, 0);
  }
});

test('with a wrong key -> signature.mismatch', () => {
  const cap = new Capture();
  cap.add(post('c9fd4c8fde71912c63cc4ba83bbb6bc1', XML), DENIED);
  const f = byCode(run(cap, { key: KEY }).findings, 'signature.mismatch');
  assert.equal(f.length, 1);
  assert.ok((f[0].evidence['tried'] as number) > 10);
});

test('accepted requests are not judged', () => {
  const cap = new Capture();
  cap.add(post(md5(XML + KEY).toUpperCase(), XML), 'HTTP/1.1 200 OK\n\n<ok/>');
  assert.equal(run(cap, { key: KEY }).findings.length, 0);
});

test('an OPS reply with HTTP 200 but response_code 400 is a refusal: the signature is judged', () => {
  const cap = new Capture();
  cap.add(
    post(opensrs(XML).toUpperCase(), XML),
    'HTTP/1.1 200 OK\nContent-Type: text/xml\n\n<OPS_envelope><body><data_block><dt_assoc><item key="response_text">Authentication Error.</item><item key="is_success">0</item><item key="response_code">400</item></dt_assoc></data_block></body></OPS_envelope>',
  );
  assert.equal(byCode(run(cap).findings, 'signature.uppercase').length, 1);
  const v = byCode(run(cap, { key: KEY }).findings, 'signature.variant');
  assert.equal(v[0].evidence['variant'], 'uppercase');
});
