// The direct exchange serialiser (exchange-json.ts) must write exactly the bytes of the generic path
// (redactExchangeAlone, orderExchange, safeJson, re-indent) and collect the same secrets, on exchanges
// built here to hit every branch: Basic/Digest/Bearer, cookies, secret query fields, a password copied
// elsewhere, control/bidi/non-ASCII characters, quotes and backslashes, null response and credentials,
// added fields, odd shapes; with redaction on and off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange } from '../../src/types.js';
import { exchangeJson, JsonSink, writeExchangeJson } from '../../src/report/exchange-json.js';
import { orderExchange } from '../../src/report/json.js';
import { redactExchangeAlone, SecretSet } from '../../src/report/redact.js';
import { safeJson } from '../../src/report/sanitize.js';

const PASSWORD = 'hunter2-Secret';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
const DIGEST_RESPONSE = '6629fae49393a05397450978507c4ef1';

function base(over: Partial<Exchange> = {}): Exchange {
  return {
    id: 'x1',
    protocol: 'http',
    stream: 3,
    client: '192.0.2.10:51234',
    server: '[2001:db8::1]:443',
    request: {
      frame: 4,
      time: '2024-05-14T09:30:00.123456Z',
      method: 'GET',
      uri: '/api/v1/status',
      version: 'HTTP/1.1',
      headers: [['Host', 'api.example.net'], ['User-Agent', 'test/1.0']],
      bodyLength: 0,
      credentials: null,
    },
    response: {
      frame: 6,
      time: '2024-05-14T09:30:00.200000Z',
      status: 200,
      reason: 'OK',
      headers: [['Content-Length', '0']],
      bodyLength: 0,
    },
    ...over,
  };
}

function withRequest(r: Partial<Exchange['request']>, over: Partial<Exchange> = {}): Exchange {
  const x = base(over);
  x.request = { ...x.request, ...r };
  return x;
}

/** Hand-built exchanges, each aimed at one feature of the writer. */
function cases(): [string, Exchange][] {
  const out: [string, Exchange][] = [];
  out.push(['plain, no secrets', base()]);
  out.push(['Basic, password repeated in another header, the URI and an added field', withRequest({
    uri: `/login?note=${PASSWORD}&x=1`,
    headers: [['Host', 'h'], ['Authorization', `Basic ${BASIC}`], ['X-Debug', `pw is ${PASSWORD}!`], [`X-${PASSWORD}`, 'name holds it']],
    credentials: { kind: 'basic', user: 'alice', fields: ['Authorization', `field ${PASSWORD}`] },
  }, { transport: 'tcp', tls: true, comment: `copy: ${PASSWORD}`, name: `structural ${PASSWORD}` } as Partial<Exchange>)]);
  out.push(['Digest with quotes, a token in its uri, hex response', withRequest({
    method: 'REGISTER',
    uri: '/a?token=t0psecret1',
    headers: [['Proxy-Authorization', `Digest username="bob", realm="example.com", nonce="abc123", uri="/a?token=t0psecret1", response="${DIGEST_RESPONSE}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`]],
    credentials: { kind: 'digest', user: 'bob', fields: ['Proxy-Authorization'] },
  }, { protocol: 'sip', stream: null, transport: 'udp' })]);
  const bearer = withRequest({
    headers: [['Authorization', 'Bearer abc.def.ghi'], ['Cookie', 'a=1; sid=xyz123; empty='], ['X-Api-Key', DIGEST_RESPONSE.toUpperCase()]],
    credentials: { kind: 'bearer', user: null, fields: [] },
  });
  bearer.response!.headers = [['Set-Cookie', 'sid=newsession99; Path=/; HttpOnly'], ['Location', '/next?sig=abcdef0123&keep=1'], ['X-Echo', 'abc.def.ghi']];
  bearer.response!.reason = 'Found abc.def.ghi';
  bearer.response!.status = 302;
  out.push(['Bearer, cookies, Set-Cookie, a secret echoed in the response', bearer]);
  out.push(['secret query fields, URL-encoded, userinfo', withRequest({
    uri: 'http://user:pa%40ss@example.net/login?user=bob&password=hunter%2B22&api_key=XYZ+1&client_secret=&q=%E2%82%AC',
    method: 'POST',
  })]);
  out.push(['control, bidi, C1, DEL, non-ASCII, lone surrogates, quotes, backslashes', withRequest({
    uri: '/p\u202eath?q="x"\\y',
    headers: [
      ['X-Esc', '\x1b[31mred\x1b[0m\t\r\n\b\f\x00\x7f\x85\x9f'],
      ['X-Bidi', 'a\u061cb\u200bc\u200fd\u2028e\u2029f\u202ag\u2066h\u2069i\ufeffj\ufff9k\ufffb'],
      ['X-Text', 'caf\u00e9 \u{1F600} \u00a0 \ud800 lone \udc00 end'],
      ['X-Quote', 'say "hi" \\ back\\slash'],
      ['X-\u00e9', 'name not ASCII'],
      ['Authorization', 'Basic ' + Buffer.from(`\u00e9l\u00e8ve:p\u00e4ss"w\\rd`).toString('base64')],
    ],
    credentials: { kind: 'basic', user: '\u00e9l\u00e8ve', fields: ['Authorization'] },
  })]);
  out.push(['null response, unanswered', base({ response: null })]);
  out.push(['added fields: firstFrame, incomplete, interim, tls, transport', (() => {
    const x = withRequest({ firstFrame: 2, incomplete: true }, { tls: false, transport: 'tcp', interim: [{ frame: 5, status: 100 }, { frame: 5, status: 180 }] });
    x.response = { ...x.response!, firstFrame: 6, incomplete: false };
    return x;
  })()]);
  out.push(['added nested values with a secret inside', withRequest({
    headers: [['Authorization', 'Bearer tok-en-12345']],
    extra: { note: 'tok-en-12345 again', list: ['tok-en-12345', 1, null, true], time: 'tok-en-12345' },
  } as Partial<Exchange['request']>, { zz: [[]], aa: {}, empty: [] } as Partial<Exchange>)]);
  out.push(['empty headers and fields, numbers not plain', withRequest({
    headers: [],
    bodyLength: Number.NaN,
    frame: 1e21,
    credentials: { kind: 'other', user: null, fields: [], extra: -0 } as unknown as Exchange['request']['credentials'],
  }, { stream: Infinity })]);
  out.push(['undefined fields are left out', withRequest({ method: undefined as unknown as string, credentials: undefined as unknown as null }, { stream: undefined as unknown as null })]);
  out.push(['falsy credentials kept as they are', withRequest({ credentials: 0 as unknown as null })]);
  out.push(['credentials fields not an array', withRequest({ credentials: { kind: 'form', user: 'u', fields: 'password' as unknown as string[] } })]);
  // Shapes the direct writer leaves to the generic path: the bytes must still be the same.
  out.push(['header with three items', withRequest({ headers: [['A', 'b', 'c'] as unknown as [string, string]] })]);
  out.push(['array-index added key', base({ 7: 'seven' } as Partial<Exchange>)]);
  out.push(['response key missing', (() => {
    const x = base() as Partial<Exchange>;
    delete x.response;
    return x as Exchange;
  })()]);
  out.push(['a Date in an added field', base({ when: new Date(0) } as Partial<Exchange>)]);
  return out;
}

function generic(x: Exchange, redact: boolean, into?: SecretSet, indent = 4): string {
  const pad = ' '.repeat(indent);
  return pad + safeJson(orderExchange(redact ? redactExchangeAlone(x, into) : x), 2).replace(/\n/g, `\n${pad}`);
}

test('every hand-built exchange is written byte for byte as the generic path writes it, redacted and not', () => {
  for (const [name, x] of cases()) {
    for (const redact of [true, false]) {
      const want = new SecretSet();
      const got = new SecretSet();
      const expected = generic(x, redact, want);
      assert.equal(exchangeJson(x, redact, got), expected, `${name} redact=${redact}`);
      assert.deepEqual([...got.values], [...want.values], `${name}: secrets found`);
      assert.equal(generic(x, redact), expected, `${name}: the exchange is not changed`);
      assert.equal(exchangeJson(x, redact, undefined, 0), generic(x, redact, undefined, 0), `${name}: indent 0`);
    }
  }
});

test('the redacted output hides the secrets and keeps the user and the structure', () => {
  const [, x] = cases()[1];
  const text = exchangeJson(x, true);
  assert.equal(text.split(PASSWORD).length, 2, 'the password is left only under the structural key "name"');
  assert.ok(!text.includes(BASIC));
  const back = JSON.parse(text);
  assert.equal(back.request.credentials.user, 'alice');
  assert.equal(back.request.headers[1][1], 'Basic <redacted> (user: alice)');
  assert.equal(back.request.uri, '/login?note=<redacted>&x=1');
  assert.equal(back.name, `structural ${PASSWORD}`, 'strings under structural keys are left alone, as redactExchangeAlone does');
  assert.equal(back.comment, 'copy: <redacted>');
  assert.equal(back.request.headers[2][1], 'pw is <redacted>!');
  assert.deepEqual(Object.keys(back), ['id', 'protocol', 'stream', 'client', 'server', 'request', 'response', 'comment', 'name', 'tls', 'transport']);
  // Not redacted: the text is the exchange as it is.
  assert.deepEqual(JSON.parse(exchangeJson(x, false)).request.headers, x.request.headers);
});

test('strings are escaped exactly as safeJson escapes them, for every character up to U+FFFF and surrogate pairs', () => {
  const sink = new JsonSink(16);
  for (let c = 0; c <= 0xffff; c++) {
    const s = `a${String.fromCharCode(c)}b`;
    sink.pos = 0;
    sink.str(s);
    assert.equal(sink.toString(), safeJson(s), `U+${c.toString(16)}`);
  }
  for (const s of ['', '"', '\\', '\ud83d\ude00', 'x'.repeat(100_000) + '\u202e', '\x7f'.repeat(50)]) {
    sink.pos = 0;
    sink.str(s);
    assert.equal(sink.toString(), safeJson(s));
  }
});

test('numbers are written as JSON.stringify writes them', () => {
  const sink = new JsonSink(4);
  for (const n of [0, -0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -1, 1.5, 1e21, 1e-7, NaN, Infinity, -Infinity]) {
    sink.pos = 0;
    sink.num(n);
    assert.equal(sink.toString(), JSON.stringify(n), String(n));
  }
});

test('writeExchangeJson appends to what the sink holds, growing it as needed', () => {
  const sink = new JsonSink(8);
  sink.raw('[\n');
  const [, x] = cases()[5];
  writeExchangeJson(sink, x, true);
  sink.raw(',\n');
  writeExchangeJson(sink, x, false, undefined, 2);
  assert.equal(sink.toString(), `[\n${generic(x, true)},\n${generic(x, false, undefined, 2)}`);
});

test('a huge header value goes through (the buffer grows)', () => {
  const x = withRequest({ headers: [['X-Big', 'v'.repeat(3 << 20)], ['Cookie', `s=${'c'.repeat(70_000)}`]] });
  assert.equal(exchangeJson(x, true), generic(x, true));
  assert.equal(exchangeJson(x, false), generic(x, false));
});
