// The cheap tests that now run before the costly ones (issue 7) must never hide a result: the
// regex form scanner for bodies and queries without '%' / '+' against the plain decoder, every byte
// value inside every credential name, and the byte/regex pre-filters of the response-body reading
// against the unfiltered reading (whitespace that is only NBSP/VT/FF, the 64 KiB scan limit). Also
// the compact exchange summary: ids, times and flags read back as they went in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/types.js';
import { isCredentialField, scanCredentials } from '../../src/checks/credentials.js';
import { findIpRefusal, inspectResponse } from '../../src/checks/app.js';
import { formNames, parseForm } from '../../src/checks/http-util.js';
import { ExchangeStore } from '../../src/checks/store.js';
import { Capture, run } from './builder.js';

const NAMES = [
  'user', 'username', 'user_name', 'login', 'userid', 'user_id', 'account', 'password', 'pass', 'passwd', 'pwd',
  'apikey', 'api_key', 'api-key', 'key', 'token', 'access_token', 'auth_token', 'id_token', 'signature', 'sig',
  'secret', 'client_secret', 'auth', 'authkey', 'auth_key', 'appkey', 'app_key',
];

function post(body: Buffer): Message {
  const head = `POST /api HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
  return new Capture().add(Buffer.concat([Buffer.from(head, 'latin1'), body]), null).req;
}

function fields(m: Message, location: 'form' | 'query'): { name: string; value: string }[] {
  return scanCredentials(m)
    .fields.filter((f) => f.location === location)
    .map((f) => ({ name: f.name, value: f.value }));
}

function reference(text: string): { name: string; value: string }[] {
  return parseForm(text)
    .filter(([k]) => isCredentialField(k))
    .map(([k, v]) => ({ name: k, value: v.trim() }));
}

test('every byte value in every position of every credential name: the regex path agrees with decoding', () => {
  for (let c = 0; c < 256; c++) {
    const parts: string[] = [];
    for (const n of NAMES) for (let i = 0; i < n.length; i++) parts.push(`${n.slice(0, i)}${String.fromCharCode(c)}${n.slice(i + 1)}=v${i}`);
    const text = parts.join('&');
    assert.deepEqual(fields(post(Buffer.from(text, 'latin1')), 'form'), reference(text), `byte ${c}`);
  }
});

test('plain forms: upper/mixed case, names ending at "&", at the end, "=" inside values, empty fields', () => {
  const text = 'PASSWORD=a=b&&User&x=user&token&KEY=  k  &keyx=1&xkey=2&sig=';
  const want = [
    { name: 'PASSWORD', value: 'a=b' },
    { name: 'User', value: '' },
    { name: 'token', value: '' },
    { name: 'KEY', value: 'k' },
    { name: 'sig', value: '' },
  ];
  assert.deepEqual(reference(text), want);
  assert.deepEqual(fields(post(Buffer.from(text, 'latin1')), 'form'), want);
  const query = text.replace(/ /g, '');
  const q = new Capture().add(`GET /s?${query}#frag HTTP/1.1\nHost: h\n\n`, null).req;
  assert.deepEqual(fields(q, 'query'), reference(query));
  assert.equal(fields(q, 'query').length, 5);
});

test('a "%" or "+" beyond the 64 KiB scan limit does not change what the first 64 KiB give', () => {
  const head = `user=bob&${'a='.padEnd(65536 - 'user=bob&'.length - '&password=xy'.length, 'x')}&password=xy`;
  assert.equal(head.length, 65536);
  const m = post(Buffer.from(`${head}z&token=%41+`, 'latin1'));
  assert.deepEqual(fields(m, 'form'), [
    { name: 'user', value: 'bob' },
    { name: 'password', value: 'xy' },
  ]);
});

test('randomised plain forms (no "%" or "+"): the regex path finds exactly what decoding every field finds', () => {
  let seed = 11;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const atoms = ['&', '=', 'user', 'USER', 'name', '_', '-', 'pass', 'word', 'Key', 'api', 'x', ' ', '\xe9', '\xff', 'token', 'sig', 'nature', 'id', 'auth'];
  for (let n = 0; n < 600; n++) {
    let s = '';
    const len = 1 + Math.floor(rnd() * 30);
    for (let i = 0; i < len; i++) s += atoms[Math.floor(rnd() * atoms.length)];
    assert.deepEqual(fields(post(Buffer.from(s, 'latin1')), 'form'), reference(s), JSON.stringify(s));
  }
});

test('formNames gives the names parseForm gives', () => {
  for (const q of ['', 'a', 'a=1', '&&a=1&&b&c=2=3&', '=x&%41=1&a+b=2', 'x&y&z', '=&=']) {
    assert.deepEqual(formNames(q), parseForm(q).map(([k]) => k), q);
  }
});

/** The response reading without any pre-filter (what inspectResponse did before issue 7). */
function unfiltered(res: Message): { refused: boolean; opsCode: string | null; ip: ReturnType<typeof findIpRefusal> } {
  const body = res.decodedBody;
  if (body.length === 0) return { refused: false, opsCode: null, ip: null };
  const type = (res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '').split(';')[0].trim().toLowerCase();
  const text = (body.length > 65536 ? body.subarray(0, 65536) : body).toString('latin1');
  const trust = (res.status ?? 0) >= 400 || (body.length <= 2048 && !type.includes('html'));
  const ip = findIpRefusal(text, trust);
  let refused = false;
  let opsCode: string | null = null;
  if (text.includes('OPS_envelope') || text.includes('response_code')) {
    opsCode = /<item\s+key=["']response_code["']\s*>\s*(\d+)\s*</i.exec(text)?.[1] ?? null;
    const success = /<item\s+key=["']is_success["']\s*>\s*([01])\s*</i.exec(text)?.[1];
    if ((opsCode !== null && !opsCode.startsWith('2')) || success === '0') refused = true;
  }
  if (ip) refused = true;
  return { refused, opsCode, ip };
}

function response(status: number, body: string, type = 'text/plain'): Message {
  return new Capture().add('GET / HTTP/1.1\nHost: h\n\n', Buffer.from(`HTTP/1.1 ${status} X\nContent-Type: ${type}\n\n${body}`, 'latin1')).res!;
}

test('response pre-filters agree with the unfiltered reading, whatever whitespace the body uses', () => {
  const bodies = [
    'IP address not allowed',
    'ip\xa0address\xa0not\xa0allowed:203.0.113.9',
    'Client\x0bIP\x0bnot\x0bwhitelisted',
    'ip\x0cblocked',
    'INVALID\tIP\tADDRESS [198.51.100.7]',
    'Invalid\r\nsource\nip',
    '<item\xa0key="response_code">555</item><item\xa0key="response_text">nope</item>',
    '<OPS_envelope><item key="is_success">0</item></OPS_envelope>',
    '<OPS_envelope><item\tkey="response_code">200</item></OPS_envelope>',
    '{"response_code":"555","message":"invalid ip"}',
    'notallowed&ip=1.2.3.4&invalid',
    'alpha=1&beta=2',
    'Unauthorized',
    'response_code=555',
    'OPS_envelope',
  ];
  for (const b of bodies) {
    for (const status of [200, 403]) {
      for (const type of ['text/plain', 'text/html']) {
        const res = response(status, b, type);
        const got = inspectResponse(res);
        const want = unfiltered(res);
        assert.deepEqual({ refused: got.refused, opsCode: got.opsCode, ip: got.ipRefusal }, want, `${status} ${type} ${JSON.stringify(b)}`);
      }
    }
  }
  // Sanity: the list above does exercise refusals found only through NBSP / VT whitespace.
  assert.equal(inspectResponse(response(403, 'ip\xa0address\xa0not\xa0allowed:203.0.113.9')).ipRefusal?.quotedAddress, '203.0.113.9');
  assert.equal(inspectResponse(response(403, 'Client\x0bIP\x0bnot\x0bwhitelisted')).refused, true);
});

test('response pre-filter: whitespace only beyond the 64 KiB scan limit is no refusal, as before', () => {
  const pad = 'x'.repeat(65536);
  for (const b of [`${pad} IP address not allowed`, `${pad.slice(0, 100)} IP address not allowed ${pad}`]) {
    const res = response(403, b);
    const got = inspectResponse(res);
    assert.deepEqual({ refused: got.refused, opsCode: got.opsCode, ip: got.ipRefusal }, unfiltered(res));
  }
  assert.equal(inspectResponse(response(403, `${pad.slice(0, 100)} IP address not allowed ${pad}`)).refused, true);
});

test('compact summary: ids, times, status, flags and keys read back as recorded', () => {
  const cap = new Capture();
  const a = cap.add('POST /p HTTP/1.1\nHost: h\nAuthorization: Basic ' + Buffer.from('bob:pw').toString('base64') + '\n\nbody', 'HTTP/1.1 200 OK\n\n', { time: 1_700_000_000.25 });
  const b = cap.add('GET /p?x=1&password=2 HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 401 No\nWWW-Authenticate: Basic realm="r", Digest realm="d", stale=true\n\n', { time: 4_000_000_000.5 });
  const c = cap.add('GET /q HTTP/1.1\nHost: h\n\n', null);
  a.exchange.id = 'x0';
  b.exchange.id = 'x007'; // not "x" + a number as written: kept as text
  c.exchange.id = 'custom';
  const store = new ExchangeStore();
  const s = [a, b, c].map((ctx, i) =>
    store.add(ctx, scanCredentials(ctx.req), false, i === 1 ? [{ scheme: 'Basic', params: {}, realm: 'r' }, { scheme: 'Digest', params: {}, realm: 'd', stale: true }] : []),
  );
  assert.deepEqual(s.map((x) => x.id), ['x0', 'x007', 'custom']);
  assert.deepEqual(s[0].time, a.time);
  assert.deepEqual(s[0].resTime, a.res!.time);
  assert.deepEqual(s[1].time, { sec: 4_000_000_000, nsec: 500_000_000, digits: 6 });
  assert.equal(s[2].resTime, null);
  assert.equal(s[2].status, null);
  assert.deepEqual([s[0].accepted, s[0].hasBody, s[0].protocol, s[0].credKind, s[0].user, s[0].userFrom], [true, true, 'http', 'basic', 'bob', 'credentials']);
  assert.deepEqual([s[1].accepted, s[1].hasBody, s[1].credKind, s[1].status, s[1].callId, s[1].cseq], [false, false, 'query', 401, null, null]);
  assert.deepEqual(s[0].present, ['authorization:authorization', 'authorization:username']);
  assert.deepEqual(s[1].present, ['query:password']);
  assert.deepEqual(s[1].queryNames, ['x', 'password']);
  assert.deepEqual(s[1].challenge, { schemes: ['Basic', 'Digest'], realm: 'r', stale: true });
  assert.deepEqual(Object.keys(s[1].challenge!), ['schemes', 'realm', 'stale']);
  assert.ok(s[0].compareEventTime(s[1]) < 0 && s[1].compareEventTime(s[0]) > 0 && s[0].compareEventTime(s[0]) === 0);
  // The 401 summary still reports the refusal with its time and id.
  const r = run(cap);
  assert.equal(r.summary.refused, 1);
});
