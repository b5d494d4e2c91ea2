// The fast form/query credential scanner (issue 7): large forms with the credential field last,
// percent-encoded and '+' names, mixed case, the 64 KiB scan limit, and a randomised comparison with
// the plain decoder (every field decoded, then filtered) that it replaces. Also the auth-param
// tokenizer's quoted strings and the small-array path of uniqFrames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/types.js';
import { extractCredentials, isCredentialField, scanCredentials } from '../../src/checks/credentials.js';
import { parseForm } from '../../src/checks/http-util.js';
import { parseAuthItems } from '../../src/checks/auth-params.js';
import { parseDigestAuthorization } from '../../src/checks/digest.js';
import { uniqFrames } from '../../src/checks/finding.js';
import { Capture } from './builder.js';

function post(body: string | Buffer, type = 'application/x-www-form-urlencoded'): Message {
  const head = `POST /api HTTP/1.1\r\nHost: h\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`;
  return new Capture().add(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')]), null).req;
}

function get(uri: string): Message {
  return new Capture().add(`GET ${uri} HTTP/1.1\r\nHost: h\r\n\r\n`, null).req;
}

/** What the scanner must find: every field decoded, then filtered by name (the behaviour before issue 7). */
function reference(text: string): { name: string; value: string }[] {
  return parseForm(text)
    .filter(([k]) => isCredentialField(k))
    .map(([k, v]) => ({ name: k, value: v.trim() }));
}

function formFields(m: Message, location: 'form' | 'query'): { name: string; value: string }[] {
  return scanCredentials(m)
    .fields.filter((f) => f.location === location)
    .map((f) => ({ name: f.name, value: f.value }));
}

test('a form of 500 fields with the credential field last', () => {
  const parts: string[] = [];
  for (let i = 0; i < 499; i++) parts.push(`field${i}=value${i}`);
  parts.push('password=s%20cret');
  const m = post(parts.join('&'));
  assert.deepEqual(extractCredentials(m), { kind: 'form', user: null, fields: ['password'] });
  assert.deepEqual(formFields(m, 'form'), [{ name: 'password', value: 's cret' }]);
});

test('percent-encoded, plus-encoded and mixed-case credential names', () => {
  const m = post('pass%77ord=a%2Bb&%55ser=Bob&user+name=x&API_KEY=K1&Api-Key=K2&to=1&token');
  assert.deepEqual(formFields(m, 'form'), [
    { name: 'password', value: 'a+b' },
    { name: 'User', value: 'Bob' },
    { name: 'API_KEY', value: 'K1' },
    { name: 'Api-Key', value: 'K2' },
    { name: 'token', value: '' },
  ]);
  assert.deepEqual(extractCredentials(m), { kind: 'form', user: 'Bob', fields: ['password', 'User', 'API_KEY', 'Api-Key', 'token'] });
  // A malformed escape keeps the name as sent; '+' in a name is a space, so "user+name" is not "user_name".
  assert.deepEqual(formFields(post('pass%zzword=1&user%5Fname=u'), 'form'), [{ name: 'user_name', value: 'u' }]);
  // Names that only contain a credential name, or differ by one character, are not credential fields.
  assert.equal(extractCredentials(post('mykey=1&keys=2&passwords=3&pas=4&usr=5')), null);
});

test('query parameters go through the same scanner', () => {
  assert.deepEqual(formFields(get('/send?to=1&Pass%77ord=p%40ss&sig=ABC#frag'), 'query'), [
    { name: 'Password', value: 'p@ss' },
    { name: 'sig', value: 'ABC' },
  ]);
  assert.equal(extractCredentials(get('/search?q=password+reset&page=2')), null);
});

test('non-ASCII names follow Unicode case rules (Kelvin sign K lower-cases to k)', () => {
  // U+212A KELVIN SIGN, percent-encoded as UTF-8: "\u212Aey".toLowerCase() === "key".
  assert.deepEqual(formFields(post('%E2%84%AAey=v&x=1'), 'form'), [{ name: '\u212Aey', value: 'v' }]);
  // A raw latin1 byte in a name never matches an ASCII credential name.
  assert.equal(extractCredentials(post(Buffer.from([...Buffer.from('k\xe9y=1&'), ...Buffer.from('u=2')]))), null);
});

test('only the first 64 KiB of a body are scanned, as before', () => {
  // The 64 KiB mark falls after "abc" of the password value; "user" lies beyond it.
  const pad = 'a='.padEnd(65536 - '&password='.length - 3, 'x');
  const m = post(`${pad}&password=abcdef&user=late`);
  assert.deepEqual(formFields(m, 'form'), [{ name: 'password', value: 'abc' }]);
  assert.deepEqual(formFields(m, 'form'), reference(`${pad}&password=abcdef&user=late`.slice(0, 65536)));
});

test('randomised forms: the scanner finds exactly what decoding every field finds', () => {
  let seed = 7;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const atoms = ['&', '=', '%', '%41', '%2B', '%E2%84%AA', '+', 'user', 'USER', 'pass', 'word', 'Key', 'api', '_', '-', 'x', ' ', '\xe9', 'token', 'sig', 'nature', '%7', '%zz'];
  for (let n = 0; n < 400; n++) {
    let s = '';
    const len = 1 + Math.floor(rnd() * 30);
    for (let i = 0; i < len; i++) s += atoms[Math.floor(rnd() * atoms.length)];
    assert.deepEqual(formFields(post(s), 'form'), reference(s), JSON.stringify(s));
  }
});

test('auth-param tokenizer: escapes in quoted strings, an unclosed quote, token68 padding', () => {
  const d = parseDigestAuthorization('Digest username="a\\"b\\\\c", realm="r, with comma", nonce="n", uri="/x", response="0"');
  assert.equal(d.username, 'a"b\\c');
  assert.equal(d.realm, 'r, with comma');
  assert.equal(d.uri, '/x');
  assert.deepEqual(parseAuthItems('Digest realm="never closed'), [{ scheme: 'Digest', params: { realm: 'never closed' } }]);
  assert.deepEqual(parseAuthItems('Negotiate YIIB==, Basic realm=x'), [
    { scheme: 'Negotiate', params: {}, token68: 'YIIB==' },
    { scheme: 'Basic', params: { realm: 'x' } },
  ]);
});

test('uniqFrames: sorted, de-duplicated, without empty values, for short and long lists', () => {
  assert.deepEqual(uniqFrames([9, null, 3]), [3, 9]);
  assert.deepEqual(uniqFrames([5, 5, undefined]), [5]);
  assert.deepEqual(uniqFrames([0, -1, NaN]), []);
  assert.deepEqual(uniqFrames([12, 3, 12, 7, 1]), [1, 3, 7, 12]);
});
