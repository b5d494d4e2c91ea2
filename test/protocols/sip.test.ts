// SIP: datagrams (compact headers, folding, Content-Length or rest of datagram), sipHeader lookups, and
// SipStreamParser over TCP (Content-Length and `l:` framing, CRLF keep-alives, gaps, resync).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { DEFAULT_LIMITS, type Message } from '../../src/types.js';
import { parseSipDatagram, sipHeader, sipHeaders } from '../../src/protocols/sip.js';
import { MODES, feed, sipParser, summary, timeOf, type Piece } from './helpers.js';

const T = timeOf(3);
const one = (m: Message | Message[] | null): Message => {
  assert.ok(m && !Array.isArray(m));
  return m;
};

const REGISTER =
  'REGISTER sip:example.com SIP/2.0\r\n' +
  'v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776\r\n' +
  'f: <sip:alice@example.com>;tag=1\r\n' +
  't: <sip:alice@example.com>\r\n' +
  'i: a84b4c76e66710@pc33\r\n' +
  'CSeq: 2 REGISTER\r\n' +
  'Authorization: Digest username="alice", realm="example.com",\r\n' +
  '  nonce="abc", uri="sip:example.com", response="0123"\r\n' +
  'm: <sip:alice@192.0.2.10>\r\n' +
  'l: 4\r\n' +
  '\r\n' +
  'body';

test('UDP request with compact headers and a folded header', () => {
  const m = one(parseSipDatagram(Buffer.from(REGISTER), 3, T, DEFAULT_LIMITS));
  assert.equal(m.protocol, 'sip');
  assert.equal(m.kind, 'request');
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.uri, 'sip:example.com');
  assert.equal(m.version, 'SIP/2.0');
  assert.equal(m.frame, 3);
  assert.equal(m.firstFrame, 3);
  assert.equal(m.body.toString(), 'body');
  assert.equal(m.contentLength, 4);
  assert.equal(sipHeader(m, 'Call-ID'), 'a84b4c76e66710@pc33');
  assert.equal(sipHeader(m, 'call-id'), 'a84b4c76e66710@pc33');
  assert.equal(sipHeader(m, 'i'), 'a84b4c76e66710@pc33');
  assert.equal(sipHeader(m, 'Via'), 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776');
  assert.equal(sipHeader(m, 'From'), '<sip:alice@example.com>;tag=1');
  assert.equal(sipHeader(m, 'To'), '<sip:alice@example.com>');
  assert.equal(sipHeader(m, 'Contact'), '<sip:alice@192.0.2.10>');
  assert.equal(sipHeader(m, 'CONTENT-LENGTH'), '4');
  assert.equal(sipHeader(m, 'cseq'), '2 REGISTER');
  assert.equal(sipHeader(m, 'Authorization'), 'Digest username="alice", realm="example.com", nonce="abc", uri="sip:example.com", response="0123"');
  assert.equal(sipHeader(m, 'Subject'), undefined);
  assert.equal(m.headers[0][0], 'v', 'wire names are kept');
});

test('UDP 401 response; body is the rest of the datagram without Content-Length', () => {
  const m = one(parseSipDatagram(Buffer.from('SIP/2.0 401 Unauthorized\r\nVia: a\r\nVia: b\r\nWWW-Authenticate: Digest realm="x", nonce="n"\r\n\r\nv=0\r\n'), 9, T, DEFAULT_LIMITS));
  assert.equal(m.kind, 'response');
  assert.equal(m.status, 401);
  assert.equal(m.reason, 'Unauthorized');
  assert.equal(m.body.toString(), 'v=0\r\n');
  assert.equal(m.contentLength, undefined);
  assert.deepEqual(sipHeaders(m, 'v'), ['a', 'b']);
});

test('UDP: Content-Length shorter or longer than the datagram', () => {
  const short = one(parseSipDatagram(Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 2\r\n\r\nabcdef'), 1, T, DEFAULT_LIMITS));
  assert.equal(short.body.toString(), 'ab');
  assert.ok(short.anomalies.includes('bytes-after-body'));
  const long = one(parseSipDatagram(Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 20\r\n\r\nabc'), 1, T, DEFAULT_LIMITS));
  assert.equal(long.body.toString(), 'abc');
  assert.equal(long.incomplete, true);
  assert.ok(long.anomalies.includes('content-length-exceeds-datagram'));
});

test('UDP: keep-alives and other protocols are not SIP', () => {
  assert.equal(parseSipDatagram(Buffer.from('\r\n\r\n'), 1, T, DEFAULT_LIMITS), null);
  assert.equal(parseSipDatagram(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 1, T, DEFAULT_LIMITS), null);
  assert.equal(parseSipDatagram(Buffer.from([0x80, 0x00, 0x01, 0x02]), 1, T, DEFAULT_LIMITS), null);
  assert.equal(parseSipDatagram(Buffer.alloc(0), 1, T, DEFAULT_LIMITS), null);
});

test('UDP: gzip body (e: gzip) is decoded; body limit keeps true length', () => {
  const gz = zlib.gzipSync('v=0\r\no=- 1 1 IN IP4 x\r\n');
  const m = one(parseSipDatagram(Buffer.concat([Buffer.from(`MESSAGE sip:x SIP/2.0\r\ne: gzip\r\nl: ${gz.length}\r\n\r\n`), gz]), 1, T, DEFAULT_LIMITS));
  assert.equal(m.decodedBody.toString(), 'v=0\r\no=- 1 1 IN IP4 x\r\n');
  const lim = one(parseSipDatagram(Buffer.from('MESSAGE sip:x SIP/2.0\r\nl: 10\r\n\r\n0123456789'), 1, T, { ...DEFAULT_LIMITS, bodyBytes: 3 }));
  assert.equal(lim.body.toString(), '012');
  assert.equal(lim.bodyLength, 10);
  assert.equal(lim.bodyTruncated, true);
});

function parseAll(pieces: Piece[]) {
  const runs = MODES.map((mode) => {
    const c = sipParser();
    feed(c.parser, pieces, mode);
    c.parser.end();
    return c;
  });
  for (let i = 1; i < runs.length; i++) assert.deepEqual(runs[i].messages.map(summary), runs[0].messages.map(summary), MODES[i]);
  return runs[0];
}

test('TCP: Content-Length and compact l: framing, CRLF keep-alives skipped, frames of first and last byte', () => {
  const r = parseAll([
    [4, '\r\n\r\n'],
    [5, 'INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\nContent-Length: 10\r\n\r\nv=0\r\n'],
    [6, 'o=x\r\n\r\nSIP/2.0 100 Trying\r\ni: c1\r\nl: 0\r\n\r\n\r\n'],
    [7, 'SIP/2.0 401 Unauthorized\r\ni: c1\r\nl: 3\r\n\r\nabc'],
  ]);
  assert.deepEqual(r.messages.map((m) => [m.method ?? m.status, m.firstFrame, m.frame, m.body.toString()]), [
    ['INVITE', 5, 6, 'v=0\r\no=x\r\n'],
    [100, 6, 6, ''],
    [401, 7, 7, 'abc'],
  ]);
  assert.deepEqual(r.malformed, []);
});

test('TCP: missing Content-Length is an anomaly (body taken as empty)', () => {
  const r = parseAll([[4, 'BYE sip:x SIP/2.0\r\nCall-ID: z\r\n\r\n']]);
  assert.equal(r.messages.length, 1);
  assert.ok(r.messages[0].anomalies.includes('content-length-missing'));
});

test('TCP: garbage is reported once and parsing resumes at the next SIP start line', () => {
  const r = parseAll([[4, 'garbage line\r\nmore\r\n\r\n'], [5, 'OPTIONS sip:x SIP/2.0\r\nl: 0\r\n\r\n']]);
  assert.deepEqual(r.messages.map((m) => [m.method, m.frame]), [['OPTIONS', 5]]);
  assert.equal(r.malformed.length, 1);
});

test('TCP: gap inside a body keeps framing; gap across messages resyncs; end emits partial', () => {
  const c = sipParser();
  let off = feed(c.parser, [[4, 'MESSAGE sip:x SIP/2.0\r\nl: 10\r\n\r\n01234']], 'frames');
  c.parser.gap({ streamOffset: off, bytes: 2, frameBefore: 4, frameAfter: 6 });
  off += 2;
  off = feed(c.parser, [[6, '789SIP/2.0 200 OK\r\nl: 0\r\n\r\nSIP/2.0 180 Ringing\r\nl: 5\r\n\r\n']], 'frames', off);
  c.parser.gap({ streamOffset: off, bytes: 50, frameBefore: 6, frameAfter: 8 });
  off += 50;
  off = feed(c.parser, [[8, 'xx\r\nSIP/2.0 486 Busy Here\r\nl: 0\r\n\r\nBYE sip:x SIP/2.0\r\nl: 0\r\n']], 'frames', off);
  c.parser.end();
  assert.deepEqual(c.messages.map((m) => [m.method ?? m.status, m.frame, m.incomplete, m.bodyLength]), [
    ['MESSAGE', 6, true, 10],
    [200, 6, false, 0],
    [180, 6, true, 5],
    [486, 8, false, 0],
    ['BYE', 8, true, 0],
  ]);
  assert.equal(c.messages[0].body.toString(), '01234789');
  assert.deepEqual(c.malformed, []);
});

test('UDP: a lone CR ends the start line (as in Wireshark), so a damaged line end does not hide the request', () => {
  const text = 'CANCEL sip:bob@example.com SIP/2.0\r7Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\r\nCall-ID: c1@h\r\nCSeq: 1 CANCEL\r\n\r\n';
  const m = one(parseSipDatagram(Buffer.from(text, 'latin1'), 7, T, DEFAULT_LIMITS));
  assert.equal(m.method, 'CANCEL');
  assert.equal(m.uri, 'sip:bob@example.com');
  assert.equal(sipHeader(m, 'Call-ID'), 'c1@h');
  assert.equal(sipHeader(m, 'CSeq'), '1 CANCEL');
  // The start line itself still has to be SIP/2.0.
  assert.equal(parseSipDatagram(Buffer.from('CANCEL sip:bob@example.com SIP/2.1\r\n\r\n'), 8, T, DEFAULT_LIMITS), null);
});
