// Credential recognition: Authorization schemes (Basic, Digest, Bearer, NTLM type 3, Negotiate),
// Proxy-Authorization, API-key headers, form/multipart/JSON/XML bodies, query parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/types.js';
import { extractCredentials, parseNtlm } from '../../src/checks/credentials.js';
import { Capture, b64 } from './builder.js';

function req(text: string | Buffer): Message {
  return new Capture().add(text, null).req;
}

/** An NTLMSSP AUTHENTICATE (type 3) message with Unicode domain/user/workstation. */
function ntlmType3(domain: string, user: string, ws: string): string {
  const d = Buffer.from(domain, 'utf16le');
  const u = Buffer.from(user, 'utf16le');
  const w = Buffer.from(ws, 'utf16le');
  const h = Buffer.alloc(64);
  h.write('NTLMSSP\0', 0, 'latin1');
  h.writeUInt32LE(3, 8);
  let off = 64;
  const field = (at: number, b: Buffer) => {
    h.writeUInt16LE(b.length, at);
    h.writeUInt16LE(b.length, at + 2);
    h.writeUInt32LE(off, at + 4);
    off += b.length;
  };
  field(12, Buffer.alloc(0)); // LM
  field(20, Buffer.alloc(0)); // NT
  field(28, d);
  field(36, u);
  field(44, w);
  h.writeUInt32LE(0x00000001 | 0x00080000, 60); // UNICODE
  return Buffer.concat([h, d, u, w]).toString('base64');
}

test('Authorization schemes', () => {
  assert.deepEqual(extractCredentials(req(`GET / HTTP/1.1\nAuthorization: Basic ${b64('customerabc:pw')}\n\n`)), { kind: 'basic', user: 'customerabc', fields: ['Authorization'] });
  assert.deepEqual(extractCredentials(req('GET / HTTP/1.1\nAuthorization: Digest username="Mufasa", realm="r", nonce="n", uri="/", response="x"\n\n')), { kind: 'digest', user: 'Mufasa', fields: ['Authorization'] });
  assert.deepEqual(extractCredentials(req('GET / HTTP/1.1\nAuthorization: Bearer abc.def.ghi\n\n')), { kind: 'bearer', user: null, fields: ['Authorization'] });
  assert.deepEqual(extractCredentials(req(`GET / HTTP/1.1\nAuthorization: NTLM ${ntlmType3('CORP', 'jdoe', 'PC1')}\n\n`)), { kind: 'ntlm', user: 'CORP\\jdoe', fields: ['Authorization'] });
  assert.deepEqual(extractCredentials(req('GET / HTTP/1.1\nAuthorization: Negotiate YIIBzgYGKwYBBQUCoA==\n\n')), { kind: 'negotiate', user: null, fields: ['Authorization'] });
  assert.deepEqual(extractCredentials(req(`GET http://x/ HTTP/1.1\nProxy-Authorization: Basic ${b64('proxyuser:p')}\n\n`)), { kind: 'basic', user: 'proxyuser', fields: ['Proxy-Authorization'] });
  assert.equal(parseNtlm(Buffer.from('NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2', 'latin1').toString('base64'))!.type, 1);
});

test('API-key style headers, the OpenSRS X-Username / X-Signature pair', () => {
  assert.deepEqual(extractCredentials(req('POST / HTTP/1.0\nContent-Type: text/xml\nX-Username: test\nX-Signature: c9fd4c8fde71912c63cc4ba83bbb6bc1\n\n<x/>')), {
    kind: 'header',
    user: 'test',
    fields: ['X-Username', 'X-Signature'],
  });
  for (const h of ['X-API-Key', 'Api-Key', 'X-Auth-Token', 'X-Access-Token', 'Ocp-Apim-Subscription-Key']) {
    assert.equal(extractCredentials(req(`GET / HTTP/1.1\n${h}: v\n\n`))?.kind, 'header', h);
  }
  assert.equal(extractCredentials(req('GET / HTTP/1.1\nX-CSRF-Token: t\nX-Forwarded-User: u\nAccept: */*\n\n')), null);
});

test('form, multipart, JSON, XML bodies and query parameters', () => {
  assert.deepEqual(extractCredentials(req('POST /l HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\nusername=jo%40x&password=p&remember=1')), { kind: 'form', user: 'jo@x', fields: ['username', 'password'] });
  const mp = '--BB\r\nContent-Disposition: form-data; name="login"\r\n\r\nmaria\r\n--BB\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--BB\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nK\r\n--BB--\r\n';
  assert.deepEqual(extractCredentials(req(`POST /u HTTP/1.1\nContent-Type: multipart/form-data; boundary=BB\n\n${mp}`)), { kind: 'form', user: 'maria', fields: ['login', 'apikey'] });
  assert.deepEqual(extractCredentials(req('POST /j HTTP/1.1\nContent-Type: application/json\n\n{"auth":{"user":"sam","token":"t"},"items":[1]}')), { kind: 'form', user: 'sam', fields: ['user', 'token'] });
  assert.deepEqual(extractCredentials(req('POST /soap HTTP/1.1\nContent-Type: text/xml\n\n<Envelope><wsse:Username>ws1</wsse:Username><wsse:Password>p</wsse:Password></Envelope>')), { kind: 'form', user: 'ws1', fields: ['Username', 'Password'] });
  assert.deepEqual(extractCredentials(req('GET /send?user=u1&api_key=K&to=1 HTTP/1.1\n\n')), { kind: 'query', user: 'u1', fields: ['user', 'api_key'] });
  assert.equal(extractCredentials(req('GET /search?q=password+reset HTTP/1.1\n\n')), null);
});

test('Basic that is not base64 of user:password has no user', () => {
  assert.deepEqual(extractCredentials(req('GET / HTTP/1.1\nAuthorization: Basic not*base64\n\n')), { kind: 'basic', user: null, fields: ['Authorization'] });
});
