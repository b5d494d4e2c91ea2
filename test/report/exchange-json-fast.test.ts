// The exchange writer's shortcuts (issue 7) must not change a byte: pre-encoded keys and indentation,
// the remembered added-key lists (exchanges whose objects have the same keys, then other keys, in
// other orders, alternating), and header values copied only when redaction changed one. Generated
// exchanges are written by the direct writer and by the generic path (redactExchangeAlone,
// orderExchange, safeJson, re-indent), redacted and not, at several indentations, and must match
// byte for byte with the same secrets collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange } from '../../src/types.js';
import { exchangeJson, JsonSink, writeExchangeJson } from '../../src/report/exchange-json.js';
import { orderExchange } from '../../src/report/json.js';
import { redactExchangeAlone, SecretSet } from '../../src/report/redact.js';
import { safeJson } from '../../src/report/sanitize.js';
import { rng } from '../lib/synthetic.js';

function generic(x: Exchange, redact: boolean, into?: SecretSet, indent = 4): string {
  const pad = ' '.repeat(indent);
  return pad + safeJson(orderExchange(redact ? redactExchangeAlone(x, into) : x), 2).replace(/\n/g, `\n${pad}`);
}


function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

const HEADERS: [string, string][] = [
  ['Host', 'api.example.net'], ['User-Agent', 'bench/1.0'], ['Content-Type', 'application/x-www-form-urlencoded'],
  ['Content-Length', '2905'], ['Authorization', `Basic ${Buffer.from('user7:secret-pw').toString('base64')}`],
  ['Authorization', 'Digest username="user7", realm="api", nonce="n1", uri="/a?token=tok-abc-1", response="00000000000000000000000000000000", qop=auth, nc=00000001, cnonce="c"'],
  ['Cookie', 'sid=abc123456; theme=dark'], ['X-Api-Key', 'KEY-0123456789'], ['X-Echo', 'secret-pw and tok-abc-1'],
  ['Location', '/next?sig=deadbeef01&x=1'], ['WWW-Authenticate', 'Digest realm="api", nonce="n1", qop="auth"'],
  ['X-Caf\u00e9', 'd\u00e9j\u00e0 vu \u202e'], ['X-Empty', ''],
];

/** One exchange with some of the optional and added keys, inserted in a random order. */
function exchange(r: () => number, i: number): Exchange {
  const headers = (n: number): [string, string][] => Array.from({ length: n }, () => [...pick(r, HEADERS)] as [string, string]);
  const cred = r() < 0.5
    ? { kind: pick(r, ['basic', 'digest', 'form']), user: pick(r, ['user7', null, 'secret-pw']), fields: pick(r, [['Authorization'], [], ['password', 'tok-abc-1']]) }
    : null;
  const reqEntries: [string, unknown][] = [
    ['frame', i * 3 + 1], ['time', '2024-05-14T09:46:40.120183Z'], ['method', pick(r, ['GET', 'POST'])],
    ['uri', pick(r, ['/api/v1/send', '/api/v1/status?id=109449', '/login?password=secret-pw&user=user7', 'http://u:pw@h/x'])],
    ['version', 'HTTP/1.1'], ['headers', headers(Math.floor(r() * 5))], ['bodyLength', Math.floor(r() * 9000)],
    ['credentials', cred],
  ];
  if (r() < 0.7) reqEntries.push(['firstFrame', i * 3]);
  if (r() < 0.1) reqEntries.push(['incomplete', true]);
  if (r() < 0.05) reqEntries.push(['note', 'has secret-pw inside']);
  if (r() < 0.2) reqEntries.reverse();
  const resEntries: [string, unknown][] = [
    ['frame', i * 3 + 2], ['time', '2024-05-14T09:46:40.120223Z'], ['status', pick(r, [200, 401, 302])],
    ['reason', pick(r, ['OK', 'Unauthorized', 'Found tok-abc-1'])], ['headers', headers(Math.floor(r() * 4))],
    ['bodyLength', 12],
  ];
  if (r() < 0.7) resEntries.push(['firstFrame', i * 3 + 2]);
  if (r() < 0.2) resEntries.reverse();
  const xEntries: [string, unknown][] = [
    ['id', `x${i}`], ['protocol', 'http'], ['stream', r() < 0.9 ? i % 50 : null], ['client', '10.0.1.205:1484'],
    ['server', '192.0.2.5:80'], ['request', Object.fromEntries(reqEntries)], ['response', r() < 0.9 ? Object.fromEntries(resEntries) : null],
  ];
  if (r() < 0.7) xEntries.push(['transport', 'tcp']);
  if (r() < 0.1) xEntries.push(['tls', false]);
  if (r() < 0.2) xEntries.reverse();
  return Object.fromEntries(xEntries) as unknown as Exchange;
}

test('generated exchanges: the same bytes and secrets as the generic path, redacted and not', () => {
  const r = rng(17);
  const sink = new JsonSink(256);
  for (let i = 0; i < 3000; i++) {
    const x = exchange(r, i);
    const indent = i % 5 === 0 ? pick(r, [0, 2, 6]) : 4;
    for (const redact of [true, false]) {
      const got = new SecretSet();
      const want = new SecretSet();
      const expected = generic(x, redact, want, indent);
      assert.equal(exchangeJson(x, redact, got, indent), expected, `exchange ${i} redact=${redact}`);
      assert.deepEqual([...got.values], [...want.values], `exchange ${i}: secrets`);
      // Appended to a sink holding other text, as the report writer does.
      sink.pos = 0;
      sink.raw(',\n');
      writeExchangeJson(sink, x, redact, undefined, indent);
      assert.equal(sink.toString(), `,\n${expected}`);
    }
  }
});

test('what a user reads: the password and the Basic token are hidden, the user and the headers stay', () => {
  const x = exchange(rng(1), 1);
  x.request.uri = '/login?password=secret-pw&user=user7';
  x.request.headers = [['Host', 'h'], ['Authorization', `Basic ${Buffer.from('user7:secret-pw').toString('base64')}`], ['X-Echo', 'said secret-pw']];
  x.request.credentials = { kind: 'basic', user: 'user7', fields: ['Authorization'] };
  const text = exchangeJson(x, true);
  assert.ok(!text.includes('secret-pw'), text);
  assert.ok(!text.includes(Buffer.from('user7:secret-pw').toString('base64')), text);
  const back = JSON.parse(text) as Exchange;
  assert.equal(back.request.uri, '/login?password=<redacted>&user=user7');
  assert.deepEqual(back.request.headers, [['Host', 'h'], ['Authorization', 'Basic <redacted> (user: user7)'], ['X-Echo', 'said <redacted>']]);
  assert.equal(back.request.credentials?.user, 'user7');
  assert.equal(back.id, x.id);
});
