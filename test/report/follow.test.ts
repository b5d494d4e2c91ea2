// renderFollow: a TCP conversation shown like Wireshark's Follow TCP Stream, with headers and
// secret body fields redacted unless --show-secrets, escapes neutralised, long bodies cut.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFollow, type FollowMessage } from '../../src/report/follow.js';
import { BASIC_TOKEN, BASIC_PASSWORD, COOKIE_SESSION, SIGNATURE, SIGNATURE_UPPER } from './fixture.js';

const FORM_PASSWORD = 'formPassw0rd9';
const JSON_TOKEN = 'jsonTokenValue77';

function msg(dir: 'client' | 'server', frame: number, startLine: string, headers: [string, string][], body: Buffer | string, extra: Partial<FollowMessage> = {}): FollowMessage {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return { dir, frame, time: `2024-05-01T10:00:0${frame % 10}.000000Z`, startLine, headers, body: b, bodyLength: b.length, incomplete: false, ...extra };
}

function conversation(): FollowMessage[] {
  return [
    msg('client', 4, `POST /sms?user=bob&password=${FORM_PASSWORD} HTTP/1.1`, [['Host', 'h'], ['Authorization', `Basic ${BASIC_TOKEN}`], ['Cookie', `sid=${COOKIE_SESSION}`], ['X-Signature', SIGNATURE_UPPER], ['Content-Type', 'application/x-www-form-urlencoded']], `user=bob&password=${FORM_PASSWORD}&to=123\x00`),
    msg('server', 6, 'HTTP/1.1 401 Unauthorized', [['WWW-Authenticate', 'Basic realm="sms"'], ['Content-Type', 'application/json']], `{"error":"bad signature","token":"${JSON_TOKEN}","echo":"${SIGNATURE}"}`),
  ];
}

const SECRETS = [BASIC_TOKEN, BASIC_PASSWORD, COOKIE_SESSION, SIGNATURE_UPPER, SIGNATURE, FORM_PASSWORD, JSON_TOKEN];

test('follow shows both directions in order with frames, start lines and headers', () => {
  const out = renderFollow(3, '192.0.2.10:50001', '198.51.100.7:80', conversation(), { color: false, showSecrets: false, maxBody: 4096 });
  assert.match(out, /stream 3/);
  const c = out.indexOf('>>> client 192.0.2.10:50001  frame 4');
  const s = out.indexOf('<<< server 198.51.100.7:80  frame 6');
  assert.ok(c >= 0 && s > c, out);
  assert.ok(out.includes('HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="sms"'));
  assert.ok(out.includes('Authorization: Basic <redacted> (user: alice)'));
  assert.ok(out.includes('X-Signature: <redacted 32 hex, upper case>'));
  assert.match(out, /1 client message, 1 server message/);
});

test('follow redacts headers, query and body secrets unless --show-secrets', () => {
  const red = renderFollow(3, 'c', 's', conversation(), { color: false, showSecrets: false, maxBody: 4096 });
  for (const x of SECRETS) assert.equal(red.includes(x), false, `leaks ${x}`);
  assert.ok(red.includes('user=bob&password=<redacted>&to=123\\x00'), 'form body redacted, trailing NUL visible');
  assert.ok(red.includes('"token":"<redacted>"'));
  assert.ok(red.includes('"echo":"<redacted 32 hex>"'), 'a header secret echoed in a body is scrubbed');
  const shown = renderFollow(3, 'c', 's', conversation(), { color: false, showSecrets: true, maxBody: 4096 });
  for (const x of SECRETS.filter((v) => v !== BASIC_PASSWORD)) assert.ok(shown.includes(x), `shows ${x}`);
});

test('follow escapes terminal sequences in lines and bodies; no ESC without colour', () => {
  const m = [msg('client', 4, 'GET /x\x1b]0;t\x07\u202e HTTP/1.1', [['X-A', 'a\x1b[2Jb']], 'line1\r\nline2\x1b[31m\u009b\n')];
  const out = renderFollow(0, 'c', 's', m, { color: false, showSecrets: false, maxBody: 100 });
  assert.equal(out.includes('\x1b'), false);
  assert.doesNotMatch(out, /[\x07\u009b\u202e\r]/);
  assert.ok(out.includes('GET /x\\x1b]0;t\\x07\\u202e HTTP/1.1'));
  assert.ok(out.includes('X-A: a\\x1b[2Jb'));
  assert.ok(out.includes('line1\nline2\\x1b[31m\\x9b\n'));
  const colored = renderFollow(0, 'c', 's', m, { color: true, showSecrets: false, maxBody: 100 });
  assert.ok(colored.includes('\x1b[31m'), 'client text in red');
  assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, '').includes('\x1b'), false);
});

test('long bodies are cut with the count of bytes left; binary bodies are hex-dumped', () => {
  const long = msg('server', 6, 'HTTP/1.1 200 OK', [], 'A'.repeat(1000));
  const out = renderFollow(0, 'c', 's', [long], { color: false, showSecrets: false, maxBody: 64 });
  assert.ok(out.includes(`${'A'.repeat(64)}\n... (936 more bytes)`));
  assert.equal(out.includes('A'.repeat(65)), false);
  // only part of the body was kept by the parser: the rest still counts
  const kept = msg('server', 6, 'HTTP/1.1 200 OK', [], 'hello', { bodyLength: 5000, incomplete: true });
  const out2 = renderFollow(0, 'c', 's', [kept], { color: false, showSecrets: false, maxBody: 64 });
  assert.ok(out2.includes('hello\n... (4995 more bytes)'));
  assert.match(out2, /\[incomplete: part of this message was not captured\]/);
  const bin = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0x4c, 0x4a, 0x06, 0x00, 0xc2, 0x41, 0x24, 0x35, 0x03, 0x00, 0x00, 0x00]);
  const out3 = renderFollow(0, 'c', 's', [msg('server', 6, 'HTTP/1.1 200 OK', [['Content-Encoding', 'gzip']], bin)], { color: false, showSecrets: false, maxBody: 16 });
  assert.ok(out3.includes('[binary body, 23 bytes; hex dump of the first 16]'));
  assert.ok(out3.includes('00000000  1f 8b 08 00 00 00 00 00 00 03 4b 4c 4a 06 00 c2  ..........KLJ...'));
  assert.ok(out3.includes('... (7 more bytes)'));
});

test('XML bodies: key="..." attributes stay readable, values of secret-named items are redacted', () => {
  const xml = '<item key="protocol">XCP</item>\n<item key="response_text">Authentication Error</item>\n<item key="password">xmlPassw0rd1</item>\n<pwd>elemPass99</pwd>';
  const out = renderFollow(0, 'c', 's', [msg('client', 4, 'POST / HTTP/1.0', [['Content-Type', 'text/xml']], xml)], { color: false, showSecrets: false, maxBody: 4096 });
  assert.ok(out.includes('<item key="protocol">XCP</item>\n<item key="response_text">Authentication Error</item>'), out);
  assert.ok(out.includes('<item key="password"><redacted></item>'));
  assert.ok(out.includes('<pwd><redacted></pwd>'));
  // a text body that merely contains "key=" in prose is not treated as a form
  const prose = renderFollow(0, 'c', 's', [msg('server', 6, 'HTTP/1.1 400 Bad Request', [['Content-Type', 'text/plain']], 'missing key=value pair in request')], { color: false, showSecrets: false, maxBody: 4096 });
  assert.ok(prose.includes('missing key=value pair in request'));
});
