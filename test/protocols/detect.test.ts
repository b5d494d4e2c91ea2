// detectStart on whole first segments and on short prefixes of them; StartLineScanner across chunks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectStart, isStartLine, StartLineScanner } from '../../src/protocols/detect.js';

const b = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));

test('whole start lines', () => {
  assert.equal(detectStart(b('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')), 'http-request');
  assert.equal(detectStart(b('M-SEARCH * HTTP/1.1\r\n')), 'http-request');
  assert.equal(detectStart(b('CONNECT example.com:443 HTTP/1.1\r\n')), 'http-request');
  assert.equal(detectStart(b('HTTP/1.1 401 Unauthorized\r\n')), 'http-response');
  assert.equal(detectStart(b('HTTP/1.0 200 OK\r\n')), 'http-response');
  assert.equal(detectStart(b('REGISTER sip:example.com SIP/2.0\r\nVia: x\r\n')), 'sip-request');
  assert.equal(detectStart(b('OPTIONS sip:bob@example.com SIP/2.0\r\n')), 'sip-request');
  assert.equal(detectStart(b('SIP/2.0 401 Unauthorized\r\n')), 'sip-response');
  assert.equal(detectStart(b('\r\n\r\nINVITE sip:bob@x SIP/2.0\r\n')), 'sip-request', 'after CRLF keep-alives');
  assert.equal(detectStart(b([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])), 'tls');
  assert.equal(detectStart(b([0x16, 0x03, 0x04])), 'tls');
});

test('not a start: other protocols and binary', () => {
  assert.equal(detectStart(b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), null);
  assert.equal(detectStart(b('SSH-2.0-OpenSSH_9.0\r\n')), null);
  assert.equal(detectStart(b('RTSP/1.0 200 OK\r\n')), null);
  assert.equal(detectStart(b('get / HTTP/1.1\r\n')), null);
  assert.equal(detectStart(b('HTTP/2 200\r\n')), null);
  assert.equal(detectStart(b([0x16, 0x03, 0x05])), null);
  assert.equal(detectStart(b([0x17, 0x03, 0x03, 0, 1])), null);
  assert.equal(detectStart(b('EHLO mail.example.com\r\n')), null);
  assert.equal(detectStart(b('')), null);
});

test('short prefixes: null while undecidable, the right answer once decidable', () => {
  const cases: [string | number[], (string | null)[]][] = [
    // full text, then the answer for each prefix length 1..n
    ['HTTP/1.1 200', [null, null, null, null, null, null, null, null, 'http-response', 'http-response', 'http-response', 'http-response']],
    ['SIP/2.0 4', [null, null, null, null, null, null, null, 'sip-response', 'sip-response']],
    ['GET /x HTTP', [null, null, null, null, 'http-request', 'http-request', 'http-request', 'http-request', 'http-request', 'http-request', 'http-request']],
    ['INVITE sip:a SIP/2.0', [...Array(19).fill(null), 'sip-request']],
    [[0x16, 0x03, 0x03], [null, null, 'tls']],
  ];
  for (const [full, answers] of cases) {
    const buf = b(full);
    for (let n = 1; n <= buf.length; n++) assert.equal(detectStart(buf.subarray(0, n)), answers[n - 1], `${JSON.stringify(buf.subarray(0, n).toString('latin1'))}`);
  }
});

test('isStartLine', () => {
  assert.ok(isStartLine('POST /a?b=c HTTP/1.1', 'http-request'));
  assert.ok(!isStartLine('POST /a b HTTP/1.1', 'http-request'));
  assert.ok(isStartLine('HTTP/1.1 200', 'http-response'));
  assert.ok(isStartLine('SIP/2.0 200 OK', 'sip'));
  assert.ok(isStartLine('BYE sip:x@y SIP/2.0', 'sip'));
  assert.ok(!isStartLine('BYE sip:x@y HTTP/1.1', 'sip'));
});

test('StartLineScanner finds a start line split across chunks and reports where it began', () => {
  const s = new StartLineScanner('http-request', 1000);
  s.reset(false);
  const at = (base: number, frame: number) => ({ offset: (i: number) => base + i, frame: () => frame, time: () => ({ sec: frame, nsec: 0, digits: 6 }) });
  const first = b('junk\r\nmore junk\r\nGET /x HT');
  assert.equal(s.scan(first, 0, first.length, at(0, 7)), null);
  const f = s.scan(b('TP/1.1\r\n\r\n'), 0, 10, at(first.length, 8));
  assert.ok(f);
  assert.equal(f.index, -1);
  assert.equal(f.carry?.toString(), 'GET /x HT');
  assert.equal(f.carryOffset, 17);
  assert.equal(f.carryFrame, 7);
  // A start line in the same chunk is reported by index.
  s.reset(true);
  const g = s.scan(b('GET /y HTTP/1.1\r\n'), 0, 17, at(0, 9));
  assert.equal(g?.index, 0);
  // Not at a line start: skipped.
  s.reset(false);
  assert.equal(s.scan(b('GET /y HTTP/1.1\r\n'), 0, 17, at(0, 9)), null);
});

test('runs of spaces between the words of a request line still make a start line', () => {
  assert.equal(detectStart(Buffer.from('GET  /  HTTP/1.0\r\n')), 'http-request');
  assert.equal(detectStart(Buffer.from('INVITE  sip:b@example.com  SIP/2.0\r\n')), 'sip-request');
  assert.equal(isStartLine('GET  /  HTTP/1.0', 'http-request'), true);
  // A method alone followed by spaces is not decidable yet; a space before the method is no start line.
  assert.equal(detectStart(Buffer.from('GET   ')), null);
  assert.equal(detectStart(Buffer.from(' GET / HTTP/1.1\r\n')), null);
});
