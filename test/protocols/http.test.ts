// HttpStreamParser: framing (Content-Length, chunked, close-delimited, HEAD/1xx/204/304, CONNECT, pipelining),
// frame numbers of each message's first and last byte, bodies and limits, malformed input and gaps.
// Every case is fed per frame, as one chunk, and byte by byte, and must give the same messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { MODES, feed, httpParser, summary, type Mode, type Piece } from './helpers.js';
import type { Limits } from '../../src/types.js';

/** Run one direction in every mode; assert the modes agree; return the per-frame result. */
function parseAll(kind: 'request' | 'response', pieces: Piece[], o: { methods?: string[]; limits?: Partial<Limits>; end?: Parameters<ReturnType<typeof httpParser>['parser']['end']>[0] | null } = {}) {
  const runs = MODES.map((mode: Mode) => {
    const c = httpParser(kind, o.limits);
    for (const m of o.methods ?? []) c.parser.expectMethod(m);
    feed(c.parser, pieces, mode);
    if (o.end !== null) c.parser.end(o.end);
    return c;
  });
  for (let i = 1; i < runs.length; i++) {
    assert.deepEqual(runs[i].messages.map(summary), runs[0].messages.map(summary), `mode ${MODES[i]} differs from ${MODES[0]}`);
    assert.deepEqual(
      runs[i].malformed.map((e) => e.streamOffset),
      runs[0].malformed.map((e) => e.streamOffset),
      `malformed reports in mode ${MODES[i]}`,
    );
  }
  return runs[0];
}

test('Content-Length body across several segments: first and last frame, exact body', () => {
  const r = parseAll('request', [
    [4, 'POST /login HTTP/1.1\r\nHost: example.com\r\nContent-Length: 23\r\n\r\n'],
    [5, 'user=alice&'],
    [6, 'pass=secret1'],
  ]);
  assert.equal(r.messages.length, 1);
  const m = r.messages[0];
  assert.equal(m.method, 'POST');
  assert.equal(m.uri, '/login');
  assert.equal(m.version, 'HTTP/1.1');
  assert.equal(m.firstFrame, 4);
  assert.equal(m.frame, 6);
  assert.equal(m.time.sec, 1006);
  assert.equal(m.firstTime.sec, 1004);
  assert.equal(m.body.toString(), 'user=alice&pass=secret1');
  assert.equal(m.bodyLength, 23);
  assert.equal(m.contentLength, 23);
  assert.deepEqual(m.headers, [['Host', 'example.com'], ['Content-Length', '23']]);
  assert.equal(m.incomplete, false);
  assert.deepEqual(r.malformed, []);
});

test('chunked response: de-chunked body, trailers, frame of the last chunk', () => {
  const r = parseAll('response', [
    [10, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'],
    [11, 'lo\r\n6;ext=1\r\n world\r\n'],
    [12, '0\r\nX-Checksum: abc\r\n\r\n'],
  ], { methods: ['GET'] });
  assert.equal(r.messages.length, 1);
  const m = r.messages[0];
  assert.equal(m.status, 200);
  assert.equal(m.reason, 'OK');
  assert.equal(m.chunked, true);
  assert.equal(m.body.toString(), 'hello world');
  assert.equal(m.bodyLength, 11);
  assert.deepEqual(m.trailers, [['X-Checksum', 'abc']]);
  assert.equal(m.firstFrame, 10);
  assert.equal(m.frame, 12);
  assert.equal(m.contentLength, undefined);
});

test('close-delimited response: completed by FIN at the FIN frame (as tshark shows it)', () => {
  const pieces: Piece[] = [[6, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello'], [7, 'world']];
  const fin = parseAll('response', pieces, { methods: ['GET'], end: { how: 'fin', frame: 9, time: { sec: 1009, nsec: 0, digits: 6 } } });
  assert.equal(fin.messages.length, 1);
  assert.equal(fin.messages[0].frame, 9);
  assert.equal(fin.messages[0].time.sec, 1009);
  assert.equal(fin.messages[0].firstFrame, 6);
  assert.equal(fin.messages[0].body.toString(), 'helloworld');
  assert.equal(fin.messages[0].incomplete, false);

  const bare = parseAll('response', pieces, { methods: ['GET'] });
  assert.equal(bare.messages[0].frame, 7, 'without the FIN frame: the last data frame');

  const rst = parseAll('response', pieces, { methods: ['GET'], end: { how: 'rst', frame: 8 } });
  assert.equal(rst.messages[0].frame, 7);
  assert.ok(rst.messages[0].anomalies.includes('body-ended-by-reset'));
  assert.equal(rst.messages[0].incomplete, false);

  const eof = parseAll('response', pieces, { methods: ['GET'], end: { how: 'eof' } });
  assert.equal(eof.messages[0].incomplete, true);
  assert.ok(eof.messages[0].anomalies.includes('incomplete: capture ended'));

  const none = parseAll('response', pieces, { methods: ['GET'], end: null });
  assert.equal(none.messages.length, 0, 'not complete before the connection ends');
});

test('response to HEAD, 204 and 304 carry no body even with Content-Length', () => {
  const r = parseAll('response', [
    [6, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'],
    [10, 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n'],
    [11, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n'],
    [12, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ], { methods: ['HEAD', 'GET', 'GET', 'GET'] });
  assert.deepEqual(r.messages.map((m) => [m.status, m.frame, m.bodyLength, m.contentLength]), [
    [200, 6, 0, 100],
    [204, 10, 0, 7],
    [304, 11, 0, 50],
    [200, 12, 2, 2],
  ]);
  assert.equal(r.messages[3].body.toString(), 'ok');
  assert.deepEqual(r.malformed, []);
});

test('100 Continue and other 1xx are separate messages before the final response', () => {
  const r = parseAll('response', [
    [15, 'HTTP/1.1 100 Continue\r\n\r\n'],
    [21, 'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n'],
  ], { methods: ['POST'] });
  assert.deepEqual(r.messages.map((m) => [m.status, m.reason, m.frame]), [
    [100, 'Continue', 15],
    [102, 'Processing', 21],
    [401, 'Unauthorized', 21],
  ]);
});

test('pipelined requests in one segment and keep-alive messages across segments', () => {
  const r = parseAll('request', [
    [8, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 4\r\n\r\nab'],
    [9, 'cd\r\nGET /d HTTP/1.0\r\n\r\n'],
  ]);
  assert.deepEqual(r.messages.map((m) => [m.method, m.uri, m.firstFrame, m.frame, m.body.toString(), m.version]), [
    ['GET', '/a', 8, 8, '', 'HTTP/1.1'],
    ['GET', '/b', 8, 8, '', 'HTTP/1.1'],
    ['POST', '/c', 8, 9, 'abcd', 'HTTP/1.1'],
    ['GET', '/d', 9, 9, '', 'HTTP/1.0'],
  ]);
  assert.deepEqual(r.malformed, [], 'a CRLF between messages is not an error');
});

test('request line and headers split inside a line: frame of the first byte', () => {
  const r = parseAll('request', [[4, 'GE'], [5, 'T /x HTTP/1.1\r\nHo'], [6, 'st: y\r'], [7, '\n\r\n']]);
  assert.equal(r.messages.length, 1);
  assert.equal(r.messages[0].firstFrame, 4);
  assert.equal(r.messages[0].frame, 7);
  assert.deepEqual(r.messages[0].headers, [['Host', 'y']]);
});

test('headers are bytes: latin1 values survive, folded lines join', () => {
  const r = parseAll('request', [[4, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nX-Name: Jos'), Buffer.from([0xe9]), Buffer.from('\r\nX-Long: a\r\n  b\r\n\r\n')])]]);
  assert.equal(r.messages[0].headers[0][1], 'Jos\u00e9');
  assert.deepEqual(r.messages[0].headers[1], ['X-Long', 'a b']);
});

test('methods outside http-parser-js list (QUERY) parse', () => {
  const r = parseAll('request', [[4, 'QUERY /search HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc']]);
  assert.equal(r.messages[0].method, 'QUERY');
  assert.equal(r.messages[0].body.toString(), 'abc');
});

test('CONNECT 2xx ends HTTP on the connection: the tunnel bytes are not malformed', () => {
  const tls = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
  const res = parseAll('response', [[6, 'HTTP/1.1 200 Connection established\r\n\r\n'], [8, tls]], { methods: ['CONNECT'] });
  assert.equal(res.messages.length, 1);
  assert.equal(res.messages[0].bodyLength, 0);
  assert.deepEqual(res.malformed, []);
  const req = parseAll('request', [[4, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'], [7, tls]]);
  assert.equal(req.messages.length, 1);
  assert.deepEqual(req.malformed, []);
  // A 407 to CONNECT keeps HTTP going: the client retries with credentials.
  const again = parseAll('request', [
    [4, 'CONNECT example.com:443 HTTP/1.1\r\n\r\n'],
    [7, 'CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n'],
  ]);
  assert.deepEqual(again.messages.map((m) => m.frame), [4, 7]);
  const proxy = parseAll('response', [[5, 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno'], [8, 'HTTP/1.1 200 OK\r\n\r\n'], [9, tls]], { methods: ['CONNECT', 'CONNECT'] });
  assert.deepEqual(proxy.messages.map((m) => [m.status, m.body.toString()]), [[407, 'no'], [200, '']]);
  assert.deepEqual(proxy.malformed, []);
});

test('after an Upgrade: h2c request, the HTTP/2 preface is a tunnel, not malformed', () => {
  const r = parseAll('request', [[4, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'], [7, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00']]);
  assert.equal(r.messages.length, 1);
  assert.deepEqual(r.malformed, []);
});

test('101 Switching Protocols ends HTTP on the connection', () => {
  const r = parseAll('response', [[6, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello']], { methods: ['GET'] });
  assert.equal(r.messages.length, 1);
  assert.equal(r.messages[0].status, 101);
  assert.deepEqual(r.malformed, []);
});

test('Transfer-Encoding "gzip, chunked" is chunked; Content-Encoding gzip is decoded', () => {
  const gz = zlib.gzipSync('the decoded text');
  const half = gz.length >> 1;
  const body = Buffer.concat([
    Buffer.from(`${half.toString(16)}\r\n`), gz.subarray(0, half), Buffer.from(`\r\n${(gz.length - half).toString(16)}\r\n`),
    gz.subarray(half), Buffer.from('\r\n0\r\n\r\n'),
  ]);
  const r = parseAll('response', [[6, 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'], [7, body]], { methods: ['GET'] });
  assert.equal(r.messages.length, 1);
  const m = r.messages[0];
  assert.equal(m.chunked, true);
  assert.equal(m.frame, 7);
  assert.deepEqual(m.body, gz);
  assert.equal(m.bodyLength, gz.length);
  assert.equal(m.decodedBody.toString(), 'the decoded text');
});

test('a response Transfer-Encoding without chunked is close-delimited', () => {
  const r = parseAll('response', [[6, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc']], { methods: ['GET'], end: { how: 'fin', frame: 8 } });
  assert.equal(r.messages[0].body.toString(), 'abc');
  assert.equal(r.messages[0].frame, 8);
});

test('deflate (zlib and raw) and br bodies: wire body kept, decoded body undone', () => {
  for (const [ce, enc] of [
    ['deflate', zlib.deflateSync('hello deflate')],
    ['deflate', zlib.deflateRawSync('hello deflate')],
    ['br', zlib.brotliCompressSync('hello deflate')],
  ] as const) {
    const r = parseAll('response', [[6, `HTTP/1.1 200 OK\r\nContent-Encoding: ${ce}\r\nContent-Length: ${enc.length}\r\n\r\n`], [7, enc]], { methods: ['GET'] });
    assert.deepEqual(r.messages[0].body, enc, ce);
    assert.equal(r.messages[0].decodedBody.toString(), 'hello deflate', ce);
    assert.deepEqual(r.messages[0].anomalies, []);
  }
});

test('Content-Length: abc -> anomaly, one malformed report, resync on the next request', () => {
  const r = parseAll('request', [
    [4, 'POST /a HTTP/1.1\r\nContent-Length: abc\r\n\r\nfield=1&other=2\r\nmore body\r\n'],
    [5, 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n'],
  ]);
  assert.deepEqual(r.messages.map((m) => [m.method, m.uri, m.frame]), [['POST', '/a', 4], ['GET', '/next', 5]]);
  assert.ok(r.messages[0].anomalies.includes('content-length-invalid'));
  assert.equal(r.messages[0].contentLength, undefined);
  assert.equal(r.malformed.length, 1);
  assert.match(r.malformed[0].reason, /Content-Length/);
  assert.equal(r.malformed[0].frame, 4);
});

test('negative Content-Length does not rewind the stream', () => {
  const r = parseAll('request', [[4, 'POST /a HTTP/1.1\r\nContent-Length: -5\r\n\r\nGET /b HTTP/1.1\r\n\r\n']]);
  assert.deepEqual(r.messages.map((m) => m.uri), ['/a', '/b']);
  assert.ok(r.messages[0].anomalies.includes('content-length-invalid'));
  assert.equal(r.malformed.length, 1);
});

test('Content-Length "5, 5" is one valid length; conflicting lengths are malformed', () => {
  const ok = parseAll('request', [[4, 'POST /a HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello']]);
  assert.equal(ok.messages[0].body.toString(), 'hello');
  const bad = parseAll('request', [[4, 'POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello\r\n'], [5, 'GET /b HTTP/1.1\r\n\r\n']]);
  assert.deepEqual(bad.messages.map((m) => m.uri), ['/b']);
  assert.equal(bad.malformed.length, 1);
  assert.match(bad.malformed[0].reason, /conflicting Content-Length/);
});

test('chunk size "zz" is malformed, not the last chunk; the next response is found', () => {
  const r = parseAll('response', [
    [6, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nsome junk\r\n'],
    [7, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
  ], { methods: ['GET', 'GET'] });
  assert.deepEqual(r.messages.map((m) => [m.status, m.incomplete, m.body.toString()]), [[200, true, 'abc'], [404, false, '']]);
  assert.ok(r.messages[0].anomalies.includes('chunk-size-invalid'));
  assert.equal(r.malformed.length, 1);
  assert.match(r.malformed[0].reason, /chunk size "zz"/);
});

test('body limit: body keeps limits.bodyBytes, bodyLength is the true length', () => {
  const r = parseAll('request', [[4, 'POST /u HTTP/1.1\r\nContent-Length: 100\r\n\r\n'], [5, 'x'.repeat(60)], [6, 'y'.repeat(40)], [7, 'GET /n HTTP/1.1\r\n\r\n']], { limits: { bodyBytes: 10 } });
  const m = r.messages[0];
  assert.equal(m.body.toString(), 'xxxxxxxxxx');
  assert.equal(m.bodyLength, 100);
  assert.equal(m.bodyTruncated, true);
  assert.equal(m.frame, 6);
  assert.equal(r.messages[1].uri, '/n');
  const chunked = parseAll('response', [[6, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n01234567890123456789\r\n0\r\n\r\n']], { methods: ['GET'], limits: { bodyBytes: 4 } });
  assert.equal(chunked.messages[0].body.toString(), '0123');
  assert.equal(chunked.messages[0].bodyLength, 20);
  assert.equal(chunked.messages[0].bodyTruncated, true);
});

test('gzip bomb: decoded body stops at limits.decompressedBytes', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(5_000_000));
  const r = parseAll('response', [[6, `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`], [7, bomb]], { methods: ['GET'], limits: { decompressedBytes: 100_000 } });
  const m = r.messages[0];
  assert.equal(m.bodyLength, bomb.length);
  assert.ok(m.decodedBody.length <= 100_000 && m.decodedBody.length > 50_000, `decoded ${m.decodedBody.length}`);
  assert.equal(m.bodyTruncated, true);
});

test('header block larger than limits.headerBytes: malformed, then the next message', () => {
  const big = `GET /big HTTP/1.1\r\n${'X-Pad: '.padEnd(2000, 'p')}\r\n\r\n`;
  const r = parseAll('request', [[4, big], [5, 'GET /ok HTTP/1.1\r\n\r\n']], { limits: { headerBytes: 1000 } });
  assert.deepEqual(r.messages.map((m) => m.uri), ['/ok']);
  assert.equal(r.malformed.length, 1);
  assert.match(r.malformed[0].reason, /larger than 1000/);
  assert.equal(r.malformed[0].frame, 4);
  assert.equal(r.malformed[0].streamOffset, 0);
  // A header line with no end at all is stopped too (memory stays bounded).
  const endless = httpParser('request', { headerBytes: 1000 });
  endless.parser.push({ data: Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}`), streamOffset: 0, offsets: [0], frames: [4], times: [{ sec: 1, nsec: 0, digits: 6 }] });
  assert.equal(endless.malformed.length, 1);
});

test('garbage before a request: one malformed report per burst, then parsing resumes', () => {
  const r = parseAll('request', [[4, 'hello there\r\nthis is not http\r\n\x00\x01\x02\r\n'], [5, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n']]);
  assert.deepEqual(r.messages.map((m) => [m.uri, m.firstFrame]), [['/after', 5]]);
  assert.equal(r.malformed.length, 1);
  assert.equal(r.malformed[0].streamOffset, 0);
});

test('invalid start line after a good message, and HTTP/2.0 versions, are malformed', () => {
  const r = parseAll('request', [[4, 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/2.0\r\n\r\nGET /c HTTP/1.1\r\n\r\n']]);
  assert.deepEqual(r.messages.map((m) => m.uri), ['/a', '/c']);
  assert.equal(r.malformed.length, 1);
  assert.match(r.malformed[0].reason, /HTTP\/2\.0/);
  assert.equal(r.malformed[0].streamOffset, 'GET /a HTTP/1.1\r\n\r\n'.length);
  const res = parseAll('response', [[6, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxx\r\nHTTP/1.1 500 Err\r\nContent-Length: 0\r\n\r\n']], { methods: ['GET', 'GET'] });
  assert.deepEqual(res.messages.map((m) => m.status), [200, 500]);
  assert.equal(res.malformed.length, 1);
});

test('gap inside a Content-Length body: message kept in sync, marked incomplete, no zero fill', () => {
  const c = httpParser('request');
  let off = feed(c.parser, [[4, 'POST /a HTTP/1.1\r\nContent-Length: 30\r\n\r\n0123456789']], 'frames');
  c.parser.gap({ streamOffset: off, bytes: 10, frameBefore: 4, frameAfter: 6 });
  off += 10;
  feed(c.parser, [[6, 'abcdefghijGET /b HTTP/1.1\r\n\r\n']], 'frames', off);
  assert.deepEqual(c.messages.map((m) => [m.uri, m.frame, m.incomplete, m.bodyLength, m.body.toString()]), [
    ['/a', 6, true, 30, '0123456789abcdefghij'],
    ['/b', 6, false, 0, ''],
  ]);
  assert.ok(c.messages[0].anomalies.includes('incomplete: gap'));
  assert.equal(c.messages[0].bodyTruncated, true);
  assert.deepEqual(c.malformed, []);
});

test('gap that swallows the end of a message and the start of the next: resync on the next start line', () => {
  const c = httpParser('response');
  ['GET', 'GET', 'GET'].forEach((m) => c.parser.expectMethod(m));
  let off = feed(c.parser, [[6, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234']], 'frames');
  c.parser.gap({ streamOffset: off, bytes: 20, frameBefore: 6, frameAfter: 8 });
  off += 20;
  feed(c.parser, [[8, 'nt-Length: 0\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n']], 'frames', off);
  assert.deepEqual(c.messages.map((m) => [m.status, m.frame, m.incomplete, m.bodyLength]), [
    [200, 6, true, 10],
    [401, 8, false, 0],
  ]);
  assert.deepEqual(c.malformed, [], 'bytes lost to a gap are not reported as malformed');
});

test('gap inside a header block: the partial message is emitted incomplete', () => {
  const c = httpParser('request');
  let off = feed(c.parser, [[4, 'GET /secret HTTP/1.1\r\nHost: x\r\nAuthori']], 'frames');
  c.parser.gap({ streamOffset: off, bytes: 100, frameBefore: 4, frameAfter: 6 });
  off += 100;
  feed(c.parser, [[6, 'xx\r\n\r\nGET /next HTTP/1.1\r\n\r\n']], 'frames', off);
  assert.deepEqual(c.messages.map((m) => [m.uri, m.frame, m.incomplete]), [['/secret', 4, true], ['/next', 6, false]]);
  assert.deepEqual(c.messages[0].headers, [['Host', 'x']]);
  assert.ok(c.messages[0].anomalies.includes('incomplete: gap'));
});

test('a capture that starts mid-stream (gap of unknown size first) finds the first start line silently', () => {
  const c = httpParser('request');
  c.parser.gap({ streamOffset: 0, bytes: 0, frameBefore: null, frameAfter: 3 });
  feed(c.parser, [[3, 'ody of a message we missed\r\nmore\r\nGET '], [4, '/x HTTP/1.1\r\n\r\n']], 'frames');
  assert.deepEqual(c.messages.map((m) => [m.uri, m.firstFrame, m.frame]), [['/x', 3, 4]]);
  assert.deepEqual(c.malformed, []);
});

test('end inside a body or a header block: incomplete, connection closed', () => {
  const r = parseAll('request', [[4, 'POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc']], { end: { how: 'fin', frame: 5 } });
  assert.deepEqual(r.messages.map((m) => [m.frame, m.incomplete, m.bodyLength, m.anomalies]), [[4, true, 3, ['incomplete: connection closed']]]);
  const h = parseAll('response', [[6, 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest']], { methods: ['GET'] });
  assert.deepEqual(h.messages.map((m) => [m.status, m.incomplete]), [[401, true]]);
});

test('response parser without the request methods: HEAD mismatch is repaired by the debt count', () => {
  // The first response arrives before expectMethod is called for its request.
  const c = httpParser('response');
  feed(c.parser, [[6, 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n']], 'frames');
  c.parser.expectMethod('POST'); // late, for the response already seen
  c.parser.expectMethod('HEAD');
  feed(c.parser, [[8, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n']], 'frames', 100);
  assert.deepEqual(c.messages.map((m) => [m.status, m.bodyLength]), [[401, 0], [200, 0], [204, 0]]);
  assert.deepEqual(c.malformed, []);
});

test('push, gap and end never throw on hostile input', () => {
  const c = httpParser('request', { headerBytes: 512 });
  let off = 0;
  const inputs = ['\r\n\r\n', 'GET', ' / HTTP/9.9\r\n\r\n', '\x16\x03\x01\x02\x00', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n', 'GET / HTTP/1.1\r\nA\rB: c\r\n\r\n'];
  for (const s of inputs) {
    off = feed(c.parser, [[1, s]], 'bytes', off);
    c.parser.gap({ streamOffset: off, bytes: 3, frameBefore: 1, frameAfter: 2 });
    off += 3;
  }
  c.parser.end();
  c.parser.end();
  assert.ok(c.malformed.length >= 1);
});

test('request line with runs of spaces between its words (RFC 9112 section 3 allows splitting on whitespace)', () => {
  const r = parseAll('request', [[1, 'POST  /  HTTP/1.0\r\nCookie: dummy 1234\r\nUser-Agent: Mozilla\r\n\r\n']]);
  assert.equal(r.messages.length, 1);
  assert.deepEqual([r.messages[0].method, r.messages[0].uri, r.messages[0].version], ['POST', '/', 'HTTP/1.0']);
  assert.deepEqual(r.malformed, []);
});

test('after a gap, a response at the start of a segment is found even when the bytes before it end without a line end', () => {
  // Frame 5: the binary tail of a body whose start was lost (no line end); frame 6 starts the next response.
  // "HTTP/1.1 200" inside frame 5 (not at a line or segment start) is not taken for a start line.
  for (const mode of MODES) {
    const c = httpParser('response');
    c.parser.expectMethod('GET');
    c.parser.gap({ streamOffset: 0, bytes: 100, frameBefore: 4, frameAfter: 5 });
    feed(c.parser, [
      [5, Buffer.concat([Buffer.from([0x00, 0xff, 0x3b]), Buffer.from('xHTTP/1.1 200 OK\r\n'), Buffer.from([0x01, 0x00, 0x3b])])],
      [6, 'HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n'],
    ], mode, 100);
    assert.deepEqual(c.messages.map((m) => [m.status, m.firstFrame, m.frame]), [[302, 6, 6]], `mode ${mode}`);
  }
});

// A head that arrives whole in one chunk takes a fast path; split ones (the 'bytes' mode of parseAll) go through
// http-parser-js. Both must read every head shape the same way.
test('header values are trimmed of spaces and tabs; empty values, bare-LF heads, and names with a space', () => {
  const r = parseAll('request', [[1, 'GET /a HTTP/1.1\r\nX-A: \t v1 \t\r\nX-Empty:\r\nX-Colon:a:b\r\nBad Name: x\r\nHost: h\r\n\r\n'], [2, 'GET /b HTTP/1.1\nHost: lf\n\n']]);
  assert.deepEqual(r.messages.map((m) => m.uri), ['/a', '/b']);
  // A line whose name holds a space is no header (http-parser-js drops it); the rest are kept in order.
  assert.deepEqual(r.messages[0].headers, [['X-A', 'v1'], ['X-Empty', ''], ['X-Colon', 'a:b'], ['Host', 'h']]);
  assert.deepEqual(r.messages[1].headers, [['Host', 'lf']]);
  assert.deepEqual(r.malformed, []);
});

test('a CR inside a header line is malformed in a whole head too; a repeated equal Content-Length is one length', () => {
  const bad = parseAll('request', [[1, 'GET /a HTTP/1.1\r\nHost: a\rb\r\n\r\n'], [2, 'GET /next HTTP/1.1\r\n\r\n']]);
  assert.equal(bad.malformed.length, 1);
  assert.match(bad.malformed[0].reason, /CR without LF/);
  assert.deepEqual(bad.messages.map((m) => m.uri), ['/next']);
  const twice = parseAll('response', [[1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc']], { methods: ['GET'] });
  assert.deepEqual(twice.messages.map((m) => [m.status, m.body.toString(), m.contentLength]), [[200, 'abc', 3]]);
});

test('a chunked body of many small chunks and a close-delimited body are kept whole', () => {
  const chunks = Array.from({ length: 200 }, (_, i) => `${(i % 15 + 1).toString(16)}\r\n${'abcdefghijklmno'.slice(0, i % 15 + 1)}\r\n`).join('');
  const want = Array.from({ length: 200 }, (_, i) => 'abcdefghijklmno'.slice(0, i % 15 + 1)).join('');
  const r = parseAll('response', [[1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'], [2, chunks.slice(0, 1000)], [3, `${chunks.slice(1000)}0\r\n\r\n`]], { methods: ['GET'] });
  assert.equal(r.messages[0].body.toString(), want);
  assert.equal(r.messages[0].bodyLength, want.length);
  const c = parseAll('response', [[1, 'HTTP/1.0 200 OK\r\n\r\n'], [2, 'x'.repeat(3000)], [3, 'y'.repeat(5000)]], { methods: ['GET'], end: { how: 'fin', frame: 4 } });
  assert.equal(c.messages[0].body.toString(), 'x'.repeat(3000) + 'y'.repeat(5000));
});
