// The terminal view's "SIP authentication" section: one line per SIP dialog (Call-ID, client address)
// that saw a 401/407, with the challenged method, the user, the sequence of final statuses and the
// outcome; built from a Report object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange, Finding, Report } from '../../src/types.js';
import { sipAuthDialogs } from '../../src/report/model.js';
import { renderTable } from '../../src/report/table.js';
import { cleanReport, exchange, fixtureReport } from './fixture.js';

const PBX = '198.51.100.30:5060';
const LONG_ID = 'a84b4c76e66710@pc33.atlanta.example.com';

let frame = 0;
function sip(id: string, client: string, method: string, callId: string, cseq: number, status: number | null, extra: [string, string][] = [], user?: string): Exchange {
  frame += 4;
  const x = exchange({
    id, t: `10:00:${String(frame).padStart(2, '0')}.000000`, stream: null, protocol: 'sip', client, server: PBX, method, uri: 'sip:pbx.example.com',
    headers: [['From', `<sip:${user ?? 'x'}@pbx.example.com>;tag=${id}`], ['Call-ID', callId], ['CSeq', `${cseq} ${method}`], ...extra],
    status: status ?? 0, reason: status === 200 ? 'OK' : 'Unauthorized', frame,
    credentials: extra.some(([k]) => /authorization/i.test(k)) ? { kind: 'digest', user: user ?? null, fields: ['Authorization'] } : null,
  });
  if (status === null) x.response = null;
  return x;
}

const auth = (user: string, header = 'Authorization'): [string, string][] => [[header, `Digest username="${user}", realm="pbx", nonce="n", uri="sip:pbx.example.com", response="<redacted>"`]];

function report(): Report {
  frame = 0;
  const exchanges = [
    // A: challenged, answered, registered
    sip('a1', '192.0.2.10:5060', 'REGISTER', 'call-a@192.0.2.10', 1, 401, [], '1001'),
    sip('a2', '192.0.2.10:5060', 'REGISTER', 'call-a@192.0.2.10', 2, 200, auth('1001'), '1001'),
    // B: never answers (three challenges), long Call-ID, user only in From
    sip('b1', '192.0.2.11:5060', 'REGISTER', LONG_ID, 1, 401, [], '1002'),
    sip('b2', '192.0.2.11:5060', 'REGISTER', LONG_ID, 2, 401, [], '1002'),
    sip('b3', '192.0.2.11:5060', 'REGISTER', LONG_ID, 3, 401, [], '1002'),
    // C: INVITE 407, ACK, INVITE with Proxy-Authorization refused again, then 403 on a third try
    sip('c1', '192.0.2.12:5060', 'INVITE', 'call-c', 1, 407, [], 'bob'),
    sip('c2', '192.0.2.12:5060', 'ACK', 'call-c', 1, null, [], 'bob'),
    sip('c3', '192.0.2.12:5060', 'INVITE', 'call-c', 2, 407, auth('bob', 'Proxy-Authorization'), 'bob'),
    sip('c4', '192.0.2.12:5060', 'INVITE', 'call-c', 3, 403, auth('bob', 'Proxy-Authorization'), 'bob'),
    // D: answered, but the answer's reply was not captured
    sip('d1', '192.0.2.13:5060', 'REGISTER', 'call-d', 1, 401, [], '1004'),
    sip('d2', '192.0.2.13:5060', 'REGISTER', 'call-d', 2, null, auth('1004'), '1004'),
    // not listed: a SIP OPTIONS accepted without a challenge, and an HTTP 401
    sip('e1', '192.0.2.14:5060', 'OPTIONS', 'call-e', 1, 200),
    exchange({ id: 'h1', t: '10:02:00.000000', stream: 0, client: '192.0.2.20:40000', server: '198.51.100.9:80', method: 'GET', uri: '/x', headers: [], status: 401, reason: 'Unauthorized', frame: 200 }),
  ];
  const f = (code: Finding['code'], severity: Finding['severity'], exchangeId: string): Finding =>
    ({ code, severity, message: code, exchange: exchangeId, stream: null, frames: [], filter: '', evidence: {} });
  return {
    ...cleanReport(0),
    exchanges,
    findings: [
      f('http.unauthorized', 'info', 'a1'),
      f('http.unauthorized', 'error', 'b1'),
      f('auth.challenge-unanswered', 'warning', 'b1'),
      f('auth.rejected-after-retry', 'error', 'c3'),
      f('auth.digest-mismatch', 'error', 'c3'),
    ],
  };
}

test('sipAuthDialogs: one entry per challenged dialog, with statuses and outcome', () => {
  const d = sipAuthDialogs(report());
  assert.deepEqual(d.map((x) => [x.callId, x.client, x.method, x.user, x.statuses, x.outcome, x.finalStatus]), [
    ['call-a@192.0.2.10', '192.0.2.10:5060', 'REGISTER', '1001', [401, 200], 'registered', null],
    [LONG_ID, '192.0.2.11:5060', 'REGISTER', '1002', [401, 401, 401], 'never answered', null],
    ['call-c', '192.0.2.12:5060', 'INVITE', 'bob', [407, 407, 403], 'refused after answering', 403],
    ['call-d', '192.0.2.13:5060', 'REGISTER', '1004', [401, null], 'no final answer', null],
  ]);
  assert.deepEqual(d[1].codes, ['auth.challenge-unanswered']);
  assert.deepEqual(d[2].codes.sort(), ['auth.digest-mismatch', 'auth.rejected-after-retry']);
  assert.deepEqual(d[0].codes, []);
});

test('table: a "SIP authentication" section with one line per dialog', () => {
  const out = renderTable(report(), { color: false, width: 200 });
  const start = out.indexOf('SIP authentication (4 dialogs with a 401/407)');
  assert.ok(start >= 0, out);
  const section = out.slice(start, out.indexOf('\n\n', start));
  const row = (id: string) => {
    const lines = section.split('\n').filter((l) => l.includes(id));
    assert.equal(lines.length, 1, `one line for ${id} in:\n${section}`);
    return lines[0].split('│').map((c) => c.trim()).slice(1, -1);
  };
  assert.deepEqual(row('call-a@'), ['call-a@192.0.2.10', '192.0.2.10:5060', 'REGISTER', '1001', '401 → 200', 'registered', '-']);
  // the long Call-ID is shortened to its start
  assert.deepEqual(row('a84b4c76'), ['a84b4c76e66710@pc33.atl…', '192.0.2.11:5060', 'REGISTER', '1002', '401 → 401 → 401', 'never answered', 'auth.challenge-unanswered']);
  assert.ok(!section.includes('atlanta.example.com'));
  const c = row('call-c');
  assert.deepEqual(c.slice(0, 6), ['call-c', '192.0.2.12:5060', 'INVITE', 'bob', '407 → 407 → 403', 'refused after answering (403)']);
  assert.match(c[6], /auth\.rejected-after-retry/);
  assert.deepEqual(row('call-d').slice(4, 6), ['401 → none', 'no final answer']);
  // ACK, the unchallenged OPTIONS dialog and HTTP are not in it
  assert.ok(!section.includes('ACK') && !section.includes('call-e') && !section.includes('OPTIONS'));
});

test('table: long runs of the same status are counted; narrow terminals still fit', () => {
  const r = report();
  frame = 100;
  for (let i = 0; i < 6; i++) r.exchanges.push(sip(`z${i}`, '192.0.2.30:5060', 'REGISTER', 'call-z', i + 1, i < 5 ? 401 : 200, [], 'z'));
  const out = renderTable(r, { color: false, width: 200 });
  assert.match(out, /│ call-z .*│ 401 ×5 → 200 +│ registered /);
  for (const line of renderTable(r, { color: false, width: 80 }).split('\n')) assert.ok([...line].length <= 80, line);
});

test('table: no SIP authentication section without a SIP 401/407 dialog', () => {
  assert.ok(!renderTable(cleanReport(), { color: false, width: 120 }).includes('SIP authentication'));
  // the shared fixture's SIP REGISTER has no Call-ID: it cannot be placed in a dialog
  assert.ok(!renderTable(fixtureReport(), { color: false, width: 120 }).includes('SIP authentication'));
});
