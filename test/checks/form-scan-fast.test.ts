// The one-pass form/query credential scanner (issue 7) against the scanners it replaced, kept here as
// the reference: the regex for text without '%' / '+', the byte walker with decoding otherwise, and
// parseForm for queries with characters above 0xff. Every field (name, value, empty, user) must be the
// same, in the same order, on fixed cases and on many generated forms: credential names in any case,
// near misses ('users', 'xuser', 'pässword'), encoded names, '&&', '=', trailing '&', the scan limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/types.js';
import { isCredentialField, scanCredentials, scanFormCredentials, type CredentialField } from '../../src/checks/credentials.js';
import { decodeComponent, parseForm, uriQuery } from '../../src/checks/http-util.js';
import { rng } from '../lib/synthetic.js';

// ------------------------------------------------------------------ reference (the code replaced)

const FIELD_NAMES = [
  'user', 'username', 'user_name', 'login', 'userid', 'user_id', 'account', 'password', 'pass', 'passwd', 'pwd',
  'apikey', 'api_key', 'api-key', 'key', 'token', 'access_token', 'auth_token', 'id_token', 'signature', 'sig',
  'secret', 'client_secret', 'auth', 'authkey', 'auth_key', 'appkey', 'app_key',
];
const USER_FIELDS = new Set(['user', 'username', 'user_name', 'login', 'userid', 'user_id', 'account']);

function refField(location: 'form' | 'query', name: string, value: string): CredentialField {
  const v = value.trim();
  return { location, name, value: v, empty: v === '', user: USER_FIELDS.has(name.toLowerCase()) ? v || null : undefined };
}

const FORM_NAME_RE = new RegExp(`(?:^|&)(${FIELD_NAMES.join('|')})(?=[=&]|$)`, 'gi');

function refPlain(text: string, location: 'form' | 'query', out: CredentialField[]): void {
  const re = FORM_NAME_RE;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const nameEnd = m.index + m[0].length;
    let value = '';
    if (nameEnd < text.length && text.charCodeAt(nameEnd) === 0x3d) {
      let amp = text.indexOf('&', nameEnd + 1);
      if (amp < 0) amp = text.length;
      value = text.slice(nameEnd + 1, amp);
      re.lastIndex = amp;
    }
    out.push(refField(location, m[1], value));
  }
  re.lastIndex = 0;
}

function refWalk(b: Buffer, n: number, location: 'form' | 'query', out: CredentialField[]): void {
  let i = 0;
  while (i < n) {
    let j = i;
    let c = 0;
    let encoded = false;
    for (; j < n; j++) {
      c = b[j];
      if (c === 0x3d || c === 0x26) break;
      if (c === 0x25 || c === 0x2b) encoded = true;
    }
    const nameEnd = j;
    let valueStart = -1;
    if (j < n && c === 0x3d) {
      valueStart = ++j;
      while (j < n && b[j] !== 0x26) j++;
    }
    if (nameEnd > i) {
      const d = encoded ? decodeComponent(b.toString('latin1', i, nameEnd)) : b.toString('latin1', i, nameEnd);
      if (isCredentialField(d)) out.push(refField(location, d, valueStart < 0 ? '' : decodeComponent(b.toString('latin1', valueStart, j))));
    }
    i = j + 1;
  }
}

function refForm(b: Buffer, end: number, location: 'form' | 'query'): CredentialField[] {
  const out: CredentialField[] = [];
  const n = Math.min(end, b.length);
  const has = (c: number): boolean => {
    const i = b.indexOf(c);
    return i >= 0 && i < n;
  };
  if (!has(0x25) && !has(0x2b)) refPlain(b.toString('latin1', 0, n), location, out);
  else refWalk(b, n, location, out);
  return out;
}

function refQuery(uri: string): CredentialField[] {
  const out: CredentialField[] = [];
  if (uri.indexOf('?') < 0) return out;
  const query = uriQuery(uri);
  if (query === '') return out;
  if (/[^\x00-\xff]/.test(query)) {
    for (const [k, v] of parseForm(query)) if (isCredentialField(k)) out.push(refField('query', k, v));
  } else if (query.indexOf('%') < 0 && query.indexOf('+') < 0) refPlain(query, 'query', out);
  else {
    const b = Buffer.from(query, 'latin1');
    refWalk(b, b.length, 'query', out);
  }
  return out;
}

// ------------------------------------------------------------------ the code under test

function form(b: Buffer, end = 65536): CredentialField[] {
  const out: CredentialField[] = [];
  scanFormCredentials(b, end, 'form', out);
  return out;
}

function get(uri: string): Message {
  return {
    protocol: 'http', kind: 'request', firstFrame: 1, frame: 1, time: [0, 0], firstTime: [0, 0], method: 'GET', uri,
    version: 'HTTP/1.1', headers: [], bodyLength: 0, body: Buffer.alloc(0), decodedBody: Buffer.alloc(0),
    bodyTruncated: false, incomplete: false, anomalies: [],
  } as unknown as Message;
}

function query(uri: string): CredentialField[] {
  return scanCredentials(get(uri)).fields;
}

// ------------------------------------------------------------------ generated forms


const NEAR = [
  'users', 'xuser', 'USER', 'User', 'pässword', 'usér', 'passwordx', 'pas', 'key_', '_key', 'api key', 'api+key',
  'us%65r', 'US%45R', 'pa%73s', 'pass%', 'pass%zz', '%70wd', 'api%2Dkey', 'api%2dKEY', 'toke%6E', 'sig%00', 'key+',
  '+key', 'k\u00ffey', 'ke\u00e9', '\u00c4pikey', 'user\u00a0', 'tokenn', 'id', 'alpha', 'msisdn', '', 'a', 'ke', 'ap',
];
const CHARS = ['a', 'b', 'z', 'Q', '0', '9', '_', '-', '.', ' ', '=', '&', '%', '+', '%41', '%2', '\u00e4', '\u00ff', '\u0080', '\t', '#', '?', ';'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function randomCase(r: () => number, s: string): string {
  let out = '';
  for (const ch of s) out += r() < 0.3 ? ch.toUpperCase() : ch;
  return out;
}

function noise(r: () => number, max: number): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += pick(r, CHARS);
  return s;
}

function randomName(r: () => number): string {
  const x = r();
  if (x < 0.45) return randomCase(r, pick(r, FIELD_NAMES));
  if (x < 0.8) return pick(r, NEAR);
  return noise(r, 6);
}

function randomValue(r: () => number): string {
  const x = r();
  if (x < 0.2) return '';
  if (x < 0.3) return ' ';
  if (x < 0.6) return String(Math.floor(r() * 1e6));
  return noise(r, 12);
}

/** A form text (latin1 units only): fields joined by '&', with doubled, leading and trailing separators. */
function randomForm(r: () => number, fields: number): string {
  let s = r() < 0.1 ? '&' : '';
  for (let i = 0; i < fields; i++) {
    if (i > 0) s += r() < 0.1 ? '&&' : '&';
    const name = randomName(r);
    const y = r();
    s += y < 0.15 ? name : y < 0.2 ? `${name}=` : y < 0.25 ? `=${randomValue(r)}` : `${name}=${randomValue(r)}`;
  }
  if (r() < 0.1) s += '&';
  return s;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

// ------------------------------------------------------------------ tests

test('fixed forms: the fields a user expects, and the reference agrees', () => {
  const cases: [string, [string, string][]][] = [
    ['username=alice&password=s3cret&remember=1', [['username', 'alice'], ['password', 's3cret']]],
    ['USER=Bob&PassWord=&users=x&xuser=y', [['USER', 'Bob'], ['PassWord', '']]],
    ['p\u00e4ssword=x&token', [['token', '']]],
    ['&&key=&&api-key=k1=k2&', [['key', ''], ['api-key', 'k1=k2']]],
    ['us%65r=bob+smith&pa%73s=a%20b', [['user', 'bob smith'], ['pass', 'a b']]],
    ['=v&sig', [['sig', '']]],
    ['login=  padded  ', [['login', 'padded']]],
  ];
  for (const [text, want] of cases) {
    const got = form(latin1(text)).map((f) => [f.name, f.value]);
    assert.deepEqual(got, want, text);
    assert.deepEqual(form(latin1(text)), refForm(latin1(text), 65536, 'form'), text);
  }
  // The user of a user field, the empty flag of an empty one.
  const [u, p] = form(latin1('Username=carol&pwd='));
  assert.equal(u.user, 'carol');
  assert.equal(p.empty, true);
  assert.equal(p.user, undefined);
});

test('generated plain and encoded forms: same fields as the regex / byte-walker reference', () => {
  const r = rng(7);
  for (let t = 0; t < 4000; t++) {
    const text = randomForm(r, 1 + Math.floor(r() * 12));
    const b = latin1(text);
    assert.deepEqual(form(b), refForm(b, 65536, 'form'), JSON.stringify(text));
    // Without '%' and '+' (the former regex path), the same text again.
    const plain = latin1(text.replace(/[%+]/g, '.'));
    assert.deepEqual(form(plain), refForm(plain, 65536, 'form'), JSON.stringify(plain.toString('latin1')));
    // The scan limit anywhere in the text, names and values cut.
    const end = Math.floor(r() * (b.length + 2));
    assert.deepEqual(form(b, end), refForm(b, end, 'form'), `${JSON.stringify(text)} cut at ${end}`);
    assert.deepEqual(form(plain, end), refForm(plain, end, 'form'), `${JSON.stringify(plain.toString('latin1'))} cut at ${end}`);
  }
});

test('bodies at every byte alignment in memory (the scan reads aligned 4-byte words)', () => {
  const r = rng(23);
  for (let t = 0; t < 1500; t++) {
    const text = randomForm(r, 1 + Math.floor(r() * 10)).replace(/[%+]/g, '.');
    const at = t & 7;
    const backing = Buffer.alloc(text.length + 16, '&');
    backing.write(text, at, 'latin1');
    const b = backing.subarray(at, at + text.length);
    assert.deepEqual(form(b), refForm(latin1(text), 65536, 'form'), `${JSON.stringify(text)} at offset ${at}`);
    const end = Math.floor(r() * (text.length + 1));
    assert.deepEqual(form(b, end), refForm(latin1(text), end, 'form'), `${JSON.stringify(text)} at offset ${at} cut at ${end}`);
  }
  // '&' bytes just outside the body (before it and after its end) start no field.
  const backing = Buffer.from('&user=a&token=b&', 'latin1');
  assert.deepEqual(form(backing.subarray(1, 7)).map((f) => [f.name, f.value]), [['user', 'a']]);
  assert.deepEqual(form(backing.subarray(2, 7)), []);
  assert.deepEqual(form(backing.subarray(10, 16)), []);
});

test('every byte value in every position of every credential name', () => {
  for (let c = 0; c < 256; c++) {
    const parts: string[] = [];
    for (const n of FIELD_NAMES) {
      for (let i = 0; i <= n.length; i++) {
        parts.push(`${n.slice(0, i)}${String.fromCharCode(c)}${n.slice(i + 1)}=v${i}`);
        parts.push(`${n.slice(0, i)}${String.fromCharCode(c)}${n.slice(i)}`);
      }
    }
    const b = latin1(parts.join('&'));
    assert.deepEqual(form(b), refForm(b, 65536, 'form'), `byte ${c}`);
  }
});

test('the 64 KiB body limit: a credential field cut at the limit, and one after it', () => {
  const filler = 'alpha=123456&'.repeat(Math.ceil(65536 / 13));
  const head = filler.slice(0, 65536 - 'password'.length - 1);
  // "&password" ends exactly at the limit: found, with an empty value (its "=x" is past the limit).
  const b1 = latin1(`${head}&password=x&token=t`);
  assert.deepEqual(form(b1).map((f) => [f.name, f.value]), [['password', '']]);
  assert.deepEqual(form(b1), refForm(b1, 65536, 'form'));
  // One byte later: "&passwor" is no credential name.
  const b2 = latin1(`${head}x&password=x`);
  assert.deepEqual(form(b2), []);
  assert.deepEqual(refForm(b2, 65536, 'form'), []);
  // Through scanCredentials: a real request body of more than 64 KiB.
  const m = get('/login');
  const body = latin1(`user=dave&${filler}&token=late`);
  Object.assign(m, { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], bodyLength: body.length, body, decodedBody: body });
  assert.deepEqual(scanCredentials(m).fields.map((f) => [f.location, f.name, f.value]), [['form', 'user', 'dave']]);
});

test('generated queries: same fields as the reference, with fragments and characters above 0xff', () => {
  const r = rng(11);
  const wide = ['\u212aey', '\u212AEY', 'pa\u017Fs', '\u0130d', 'us\u20acr', '\u212a'];
  for (let t = 0; t < 3000; t++) {
    let q = randomForm(r, 1 + Math.floor(r() * 8));
    if (r() < 0.2) q = q.replace(/[a-z]/, () => pick(r, wide));
    if (r() < 0.2) q += `=${pick(r, wide)}`;
    if (r() < 0.15) q += `#${randomForm(r, 2)}`;
    const uri = `/p${r() < 0.1 ? '' : '?'}${q}`;
    assert.deepEqual(query(uri), refQuery(uri), JSON.stringify(uri));
  }
  // The Kelvin sign lower-cases to "k": "\u212Aey" is the field "key", as parseForm reads it.
  assert.deepEqual(query('/a?\u212Aey=v&token=t#key=no').map((f) => [f.name, f.value]), [['\u212Aey', 'v'], ['token', 't']]);
  assert.deepEqual(query('/a?x=1&KEY=a&b#&password=frag').map((f) => [f.name, f.value]), [['KEY', 'a']]);
});
