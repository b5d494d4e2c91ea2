// The direct finding and 401-group writers (finding-json.ts) must give exactly the bytes of the generic
// path kept here as the reference (redactFindingForJson, orderFinding / orderUnauthorizedGroup,
// JSON.stringify at indent 2 at the report's depth, safeJsonText), on hand-written findings and on
// thousands of generated ones: nested evidence, empty arrays and objects, nulls, odd numbers, strings
// with quotes, backslashes, controls, U+2028, U+061C, lone surrogates and non-ASCII, undefined values,
// functions, symbols, Dates, toJSON, secret keys, header pairs, URIs with passwords, known secrets.
// Also: the findings file read back in report order, and the groups file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../src/types.js';
import { genericPathCount, writeFindingJson, writeGroupJson } from '../../src/report/finding-json.js';
import { FindingsReader, FindingsSpill, writeGroupsFile } from '../../src/report/findings-spill.js';
import { JsonSink } from '../../src/report/exchange-json.js';
import { orderFinding, orderUnauthorizedGroup } from '../../src/report/json.js';
import { redactFindingForJson } from '../../src/report/redact.js';
import { safeJsonText } from '../../src/report/sanitize.js';
import { rng } from '../lib/synthetic.js';
import { findingJsonText, stubText } from '../lib/stub-text.js';

// ------------------------------------------------------------------ the reference (the generic path)

const OPEN = '{\n  "findings": [\n';
const CLOSE = '\n  ]\n}';

function referenceFinding(f: Finding, redact: boolean, known: readonly string[]): string {
  const shown = redact ? redactFindingForJson(f, known) : f;
  const wrapped = safeJsonText(JSON.stringify({ findings: [orderFinding(shown)] }, null, 2));
  assert.ok(wrapped.startsWith(OPEN) && wrapped.endsWith(CLOSE));
  return wrapped.slice(OPEN.length, wrapped.length - CLOSE.length);
}

function referenceGroup(g: unknown): string {
  return `      ${safeJsonText(JSON.stringify(orderUnauthorizedGroup(g), null, 2)).replace(/\n/g, '\n      ')}`;
}

/** Outcome of a text producer: its text, or the error it threw. */
function outcome(fn: () => string): { text?: string; error?: string } {
  try {
    return { text: fn() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** The direct writer into a sink that already holds text (it must append, and leave what was there). */
function viaSink(f: Finding, redact: boolean, known: readonly string[]): string {
  const sink = new JsonSink(16);
  sink.raw('prefix,');
  writeFindingJson(sink, f, redact, known);
  const all = sink.toString();
  assert.ok(all.startsWith('prefix,'));
  return all.slice('prefix,'.length);
}

function checkFinding(f: Finding, known: readonly string[], label: string): void {
  for (const redact of [false, true]) {
    const want = outcome(() => referenceFinding(f, redact, known));
    assert.deepEqual(outcome(() => findingJsonText(f, redact, known)), want, `${label} redact=${redact}`);
    assert.deepEqual(outcome(() => viaSink(f, redact, known)), want, `${label} redact=${redact} (sink)`);
  }
}

// ------------------------------------------------------------------ hand-written findings

const PASSWORD = 'hunter2-Secret';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');

function finding(evidence: Record<string, unknown>, over: Partial<Finding> = {}): Finding {
  return {
    code: 'http.unauthorized',
    severity: 'info',
    message: `401 Unauthorized to POST /api/v1/send from 10.0.7.199 (frames 6006/8731) after ${PASSWORD}`,
    exchange: 'x2',
    stream: 1991,
    frames: [6006, 8731],
    filter: 'tcp.stream eq 1991 && frame.number in {6006, 8731}',
    evidence,
    ...over,
  };
}

const UNAUTHORIZED_EVIDENCE = {
  status: 401,
  method: 'POST',
  path: '/api/v1/send',
  endpoint: 'POST /api/v1/send',
  client: '10.0.7.199',
  server: '192.0.2.8:80',
  host: 'api.example.net',
  user: null,
  credentialKind: null,
  credentialFields: [],
  emptyFields: [],
  hasBody: true,
  retry: { exchange: 'x1663', frame: 15036, status: 200 },
  accepted: { count: 4065, sameClient: 2, users: ['user491'], fields: ['authorization:authorization'], lastExchange: 'x10149', lastFrame: 78612 },
  reasons: ['challenge'],
  challenge: { schemes: ['Basic'], realm: 'api' },
};

class Point {
  constructor(public x: number, public y: number) {}
}

const HAND: [string, Finding, string[]][] = [
  ['usual 401 finding', finding(UNAUTHORIZED_EVIDENCE), []],
  ['usual 401 finding, the exchange had secrets', finding(UNAUTHORIZED_EVIDENCE), [PASSWORD, BASIC, 'user491']],
  ['no evidence key', (() => { const f = finding({}) as Partial<Finding>; delete f.evidence; return f as Finding; })(), []],
  ['evidence undefined', finding(undefined as never), [PASSWORD]],
  ['stream and exchange null, no frames', finding({ a: 1 }, { exchange: null, stream: null, frames: [] }), []],
  ['added fields, sorted after the contract ones', { zeta: 'z', ...finding({ a: 1 }), alpha: [1, 'two', null], Beta: true } as Finding, [PASSWORD]],
  ['added field that is an object (copied deeply when redacting)', { ...finding({ a: 1 }), extra: { nested: [PASSWORD] } } as Finding, [PASSWORD]],
  ['index-like added key', { ...finding({ a: 1 }), '7': 'seven' } as Finding, []],
  ['toJSON on the finding', { ...finding({ a: 1 }), toJSON: () => ({ replaced: true }) } as Finding, []],
  ['class-instance finding', Object.assign(Object.create({ inherited: 1 }), finding({ a: 1 })) as Finding, []],
  ['secret evidence keys', finding({ password: PASSWORD, token: 12345, signature: ['abcdef0123456789abcdef', { key: 'k3y-value' }], userToken: 'tok-tok-tok', Authorization: `Basic ${BASIC}` }), []],
  ['header pairs in evidence', finding({ headers: [['Authorization', `Basic ${BASIC}`], ['Cookie', 'sid=abc123; theme=dark'], ['Host', 'h']] }), []],
  ['URIs with secrets', finding({ uri: '/login?user=bob&password=s3cr3t!', location: 'https://bob:pw1234@example.net/x', path: '/plain', note: 'mail me@x?' }), []],
  ['a URI with a password and no query', finding({ location: 'https://bob:pw1234@example.net/x', path: '/plain' }), []],
  ['added field holding a function (structuredClone throws when redacting)', { ...finding({ a: 1 }), extra: { fn: () => 1 } } as Finding, []],
  ['added field holding a class instance', { ...finding({ a: 1 }), extra: [new Point(1, 2)] } as Finding, []],
  ['inherited contract key', (() => {
    const { stream: _own, ...rest } = finding({ a: 1 });
    return Object.assign(Object.create({ stream: 5 }), rest) as Finding;
  })(), []],
  ['non-enumerable contract key', Object.defineProperty(finding({ a: 1 }), 'message', { value: 'hidden message', enumerable: false }), []],
  ['a copy of a known secret in messages and evidence', finding({ detail: `seen ${PASSWORD} twice: ${PASSWORD}`, user: PASSWORD, list: [PASSWORD, 'x'] }, { filter: `http contains "${PASSWORD}"` }), [PASSWORD]],
  ['Date, class instance, toJSON object in evidence', finding({ when: new Date(Date.UTC(2024, 4, 14, 9, 30)), p: new Point(1, 2), t: { toJSON: (k: string) => `key=${k}` }, ok: 1 }), []],
  ['BigInt (JSON.stringify throws)', finding({ big: 10n }), []],
  ['null-prototype evidence object', finding(Object.assign(Object.create(null), { a: 'b', c: [1] })), [PASSWORD]],
  ['undefined, functions and symbols', finding({ u: undefined, f: () => 1, s: Symbol('s'), arr: [undefined, () => 1, Symbol('t'), 1], keep: 'yes' }), []],
  ['sparse array', finding({ sparse: [1, , 3] }), []],
  ['only dropped values', finding({ u: undefined, f() {} }), []],
  ['numbers', finding({ n: [0, -0, 1, -1, 0.5, -2.25, 1e21, 1e-7, 5e-324, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -(2 ** 53), NaN, Infinity, -Infinity, 123456789012] }), []],
  ['strings', finding({ s: ['"quoted"', 'back\\slash', 'ctl\x00\x01\x1b[31m\x7f\x80\x9f', 'tab\tnl\ncr\r', 'ls\u2028ps\u2029', 'alm\u061c', 'bidi\u202e\u2066\u200b\ufeff\ufff9', 'lone\ud800', 'lone\udc00x', 'pair\ud83d\ude00', 'é ü 漢字', ''] }, { message: 'message with \u202e and \x1b[2J and "quotes"' }), []],
  ['non-ASCII and odd keys', finding({ 'ключ': 1, 'a"b': 2, 'back\\slash': 3, 'ctl\x01': 4, '\u2028': 5, '': 6 }), []],
  ['empty containers', finding({ o: {}, a: [], nested: { o: {}, a: [[]], deep: [{}] } }), []],
  ['deep nesting', finding({ deep: JSON.parse(`${'['.repeat(80)}1${']'.repeat(80)}`) as unknown }), []],
  ['__proto__ own key', finding(JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as Record<string, unknown>), []],
  ['short known secrets are ignored', finding({ v: 'abc' }), ['abc', '', '<redacted>']],
];

test('hand-written findings: the direct writer gives the generic path\'s bytes (redacted and not)', () => {
  for (const [label, f, known] of HAND) checkFinding(f, known, label);
});

test('a cycle in the evidence is reported as JSON.stringify reports it', () => {
  const ev: Record<string, unknown> = { a: 1 };
  ev.self = ev;
  checkFinding(finding(ev), [], 'cycle');
  assert.throws(() => findingJsonText(finding(ev), false, []), /circular/);
});

test('the usual findings take the direct path, and are redacted', () => {
  const before = genericPathCount();
  const text = findingJsonText(finding(UNAUTHORIZED_EVIDENCE), true, [PASSWORD]);
  findingJsonText(finding({ ...UNAUTHORIZED_EVIDENCE, password: PASSWORD, uri: '/x?token=abcd1234' }), true, [PASSWORD]);
  findingJsonText(finding(UNAUTHORIZED_EVIDENCE), false, []);
  writeGroupJson(new JsonSink(), group(1));
  assert.equal(genericPathCount(), before);
  assert.doesNotMatch(text, new RegExp(PASSWORD));
  assert.match(text, /after <redacted>/);
  // The text sits in the report's findings array as it is.
  const parsed = JSON.parse(`${OPEN}${text}${CLOSE}`) as { findings: Finding[] };
  assert.equal(parsed.findings[0].evidence.endpoint, 'POST /api/v1/send');
});

// ------------------------------------------------------------------ generated findings


const KEYS = [
  'status', 'client', 'server', 'user', 'endpoint', 'exchange', 'frame', 'time', 'id', 'name', 'reason', 'count', 'realm',
  'password', 'token', 'key', 'secret', 'signature', 'authorization', 'credentials', 'response', 'expectedSignature', 'accessToken', 'userPasswords',
  'uri', 'url', 'location', 'referer', 'path', 'query', 'target', 'requestUri', 'Cookie', 'Set-Cookie', 'X-Api-Key', 'x-auth-token', 'Proxy-Authorization',
  'headers', 'message', 'filter', 'ключ', 'a"b', 'b\\c', '',
];
const STRINGS = [
  '', 'plain', 'POST /api/v1/send', '10.0.7.199', 'x42', 'hunter2-Secret', 'Basic ' + BASIC, 'Bearer abc.def.ghi', 'Digest username="bob", realm="api", nonce="n1", uri="/x?key=abc123", response="6629fae49393a05397450978507c4ef1"',
  'sid=abcdef123; Path=/', '/login?user=bob&password=s3cr3t!&x=1', 'https://bob:pw1234@example.net/x?sig=DEADBEEFdeadbeef00', 'me@example.net', 'what?', 'https://carol:pa55word@example.net/y',
  '"q"', 'a\\b', '\x00\x1f\x7f', '\x80\x9f', 'tab\there', 'line\nbreak', 'cr\r', '\u2028\u2029', '\u061c', '\u202e\u200f', '\ud800', '\udfff', 'x\ud83d\ude00y', 'é漢字', '<redacted>', '0123456789abcdef0123',
];
const NUMBERS = [0, -0, 1, -1, 7, 401, 0.1, -3.5, 1e21, 1.5e-9, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity];
const KNOWN = [[], [PASSWORD], [BASIC, PASSWORD], ['abc123', 'pw1234'], ['DEADBEEFdeadbeef00'], ['s3cr3t!', 'n1'], ['bob']];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)];
}

function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 3 || k < 0.35) return pick(r, STRINGS);
  if (k < 0.5) return pick(r, NUMBERS);
  if (k < 0.55) return pick(r, [true, false, null, undefined]);
  if (k < 0.57) return pick(r, [() => 1, Symbol('s'), new Date(Date.UTC(2024, 0, 1)), new Point(1, 2), { toJSON: () => 'tj' }]);
  if (k < 0.65) return [pick(r, ['Authorization', 'Cookie', 'Host', 'X-Api-Key']), pick(r, STRINGS)];
  if (k < 0.8) {
    const n = Math.floor(r() * 4);
    return Array.from({ length: n }, () => value(r, depth + 1));
  }
  return object(r, depth + 1);
}

function object(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) o[pick(r, KEYS)] = value(r, depth);
  return o;
}

function generated(r: () => number): Finding {
  const f: Finding = {
    code: pick(r, ['http.unauthorized', 'auth.missing', 'tcp.gap']) as Finding['code'],
    severity: pick(r, ['info', 'warning', 'error']) as Finding['severity'],
    message: `${pick(r, STRINGS)} ${pick(r, STRINGS)}`,
    exchange: pick(r, ['x1', null, 'x\u202e']),
    stream: pick(r, [0, 12, null]),
    frames: Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * 100000)),
    filter: pick(r, ['', 'tcp.stream eq 1', `frame contains "${PASSWORD}"`]),
    evidence: object(r, 0),
  };
  if (r() < 0.1) (f as unknown as Record<string, unknown>)[pick(r, ['zz', 'aa', 'note'])] = pick(r, [...STRINGS, ...NUMBERS]);
  return f;
}

test('generated findings: the same bytes as the generic path, redacted and not', () => {
  const r = rng(20240514);
  const before = genericPathCount();
  const n = 3000;
  for (let i = 0; i < n; i++) checkFinding(generated(r), pick(r, KNOWN), `generated #${i}`);
  // Some generated findings need the generic path (Dates, toJSON, ...), most must not (each is written 4 times).
  const generic = genericPathCount() - before;
  assert.ok(generic < (4 * n) / 10, `generic path taken ${generic} times for ${4 * n} texts`);
});

// ------------------------------------------------------------------ 401 groups

function group(i: number): Record<string, unknown> {
  return {
    endpoint: 'POST /api/v1/send',
    server: '192.0.2.2:80',
    host: i % 3 ? 'api.example.net' : null,
    client: `10.0.8.${i % 250}`,
    user: i % 2 ? `user${i}` : null,
    accepted: i,
    refused: 5,
    firstRefusal: { time: '2024-05-14T09:46:40.685850Z', frame: 34246 + i, exchange: `x${i}` },
    lastRefusal: i % 4 ? { exchange: `x${i + 1}`, frame: 59368, time: '2024-05-14T09:46:41.188972Z' } : null,
    lastAcceptedBeforeRefusal: null,
    reasons: { challenge: 5, 'auth.missing': i },
  };
}

test('401 groups: the same bytes as the generic path, in the file as in the report', () => {
  const odd: unknown[] = [
    group(0),
    { reasons: {}, lastRefusal: 0, refused: -0, zz: 'last', aa: [1, { b: undefined }], endpoint: 'GET /\u202e\ud800' },
    { ...group(2), firstRefusal: { extra: 1, frame: 1, '\u00e9': 'é' }, lastRefusal: {}, lastAcceptedBeforeRefusal: new Date(0) },
    { ...group(3), reasons: { 'a"b': 1, '\u2028': 2, '1': 3 } },
    { ...group(4), '9': 'index key' },
    { ...group(5), host: undefined, user: () => 'x' },
    Object.assign(Object.create(null), group(6)),
    new Point(3, 4),
    {},
  ];
  for (let i = 0; i < odd.length; i++) {
    const want = outcome(() => referenceGroup(odd[i]));
    const sink = new JsonSink(8);
    assert.deepEqual(outcome(() => (writeGroupJson(sink, odd[i]), sink.toString())), want, `group ${i}`);
  }
  const groups = [...odd, ...Array.from({ length: 600 }, (_, i) => group(i + 7))];
  const dir = mkdtempSync(join(tmpdir(), 'authcap-groups-'));
  try {
    const file = writeGroupsFile(dir, groups);
    assert.equal(readFileSync(file, 'utf8'), groups.map(referenceGroup).join(',\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ the findings file

test('findings file: texts read back in any order, across chunks, past the cache limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authcap-findings-'));
  try {
    const r = rng(7);
    const findings = Array.from({ length: 400 }, () => generated(r));
    findings.push(finding({ big: 'é'.repeat(5000) })); // longer than a chunk below
    const known: Record<string, string[]> = { x1: [PASSWORD, 'abc123'] };
    for (const redact of [true, false]) {
      const spill = new FindingsSpill(dir, redact, (id) => known[id] ?? []);
      const stubs = findings.map((f) => spill.add(f));
      const file = spill.close();
      // Texts follow each other in the file, in the order they were added.
      let size = 0;
      for (const s of stubs) {
        assert.equal(s.textRef[0], size);
        size += s.textRef[1];
      }
      assert.equal(readFileSync(file).length, size);
      const order = findings.map((_, i) => i).sort((a, b) => ((a * 7919) % 401) - ((b * 7919) % 401));
      for (const sizes of [{}, { chunk: 4096, cacheBytes: 5 * 4096 }, { chunk: 1000, cacheBytes: 1 << 20 }, { chunk: 4096, cacheBytes: 1000 }]) {
        const reader = new FindingsReader(file, sizes);
        for (const i of [...order, ...order.slice(0, 50)]) {
          const want = referenceFinding(findings[i], redact, known[findings[i].exchange ?? ''] ?? []);
          assert.equal(stubText(reader, stubs[i].textRef), want, `finding ${i} redact=${redact} ${JSON.stringify(sizes)}`);
        }
        assert.throws(() => stubText(reader, [size - 10, 11]), /shorter than expected/);
        reader.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
