// body.trailing-nul, body.missing (signature header without content; accepted requests carry a
// body), body.length-mismatch (and a TCP gap is not a mismatch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, run, byCode } from './builder.js';

const XML = `<?xml version='1.0' encoding='UTF-8' standalone='no' ?>\n<!DOCTYPE OPS_envelope SYSTEM 'ops.dtd'>\n<OPS_envelope><header><version>0.9</version></header><body><data_block><dt_assoc><item key="protocol">XCP</item><item key="action">LOOKUP</item><item key="object">DOMAIN</item></dt_assoc></data_block></body></OPS_envelope>`;
const HEAD = (len: number) => `POST / HTTP/1.0\nContent-Length: ${len}\nContent-Type: text/xml\nX-Username: test\nX-Signature: c9fd4c8fde71912c63cc4ba83bbb6bc1\n\n`;

test('XML API body ending in a NUL -> body.trailing-nul with count and length', () => {
  const cap = new Capture();
  const body = Buffer.concat([Buffer.from(XML), Buffer.from([0])]);
  const x = cap.add(Buffer.concat([Buffer.from(HEAD(body.length)), body]), 'HTTP/1.1 401 Unauthorized\n\n');
  const f = byCode(run(cap).findings, 'body.trailing-nul');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.deepEqual([f[0].evidence['count'], f[0].evidence['bodyLength']], [1, XML.length + 1]);
  assert.equal(f[0].exchange, x.exchange.id);
  assert.match(f[0].message, /signature/);
  assert.match(f[0].message, /librar/);
  // no length mismatch: Content-Length matched the bytes sent
  assert.equal(byCode(run(cap).findings, 'body.length-mismatch').length, 0);
});

test('X-Signature with an empty body -> body.missing (signature-without-body)', () => {
  const cap = new Capture();
  cap.add(HEAD(0), 'HTTP/1.1 401 Unauthorized\n\n');
  const f = byCode(run(cap).findings, 'body.missing');
  assert.equal(f.length, 1);
  assert.equal(f[0].evidence['reason'], 'signature-without-body');
  assert.equal(f[0].evidence['signatureHeader'], 'X-Signature');
});

test('empty POST refused where accepted POSTs to the endpoint carry a body -> body.missing in finish', () => {
  const cap = new Capture();
  const bad = cap.add('POST /api/orders HTTP/1.1\nHost: h\nX-API-Key: k1\nContent-Length: 0\n\n', 'HTTP/1.1 400 Bad Request\n\n');
  cap.add('POST /api/orders HTTP/1.1\nHost: h\nX-API-Key: k1\nContent-Type: application/json\n\n{"id":1}', 'HTTP/1.1 201 Created\n\n');
  const f = byCode(run(cap).findings, 'body.missing');
  assert.equal(f.length, 1);
  assert.equal(f[0].exchange, bad.exchange.id);
  assert.equal(f[0].evidence['reason'], 'accepted-requests-have-body');
  assert.equal(f[0].evidence['acceptedWithBody'], 1);
});

test('Content-Length larger than the bytes sent before the client closed -> body.length-mismatch; a TCP gap is not', () => {
  const cap = new Capture();
  cap.add('POST / HTTP/1.0\nContent-Length: 505\nContent-Type: text/xml\n\n<short/>', null, { incomplete: true, anomalies: ['incomplete: connection closed'] });
  cap.add('POST / HTTP/1.0\nContent-Length: 505\nContent-Type: text/xml\n\n<short/>', null, { incomplete: true, anomalies: ['incomplete: gap'] });
  cap.add('POST / HTTP/1.0\nContent-Length: 505\nContent-Type: text/xml\n\n<short/>', null, { incomplete: true, anomalies: ['incomplete: capture ended'] });
  cap.add('POST / HTTP/1.1\nContent-Length: 8\nContent-Length: 9\n\n<short/>', 'HTTP/1.1 400 Bad Request\n\n');
  const f = byCode(run(cap).findings, 'body.length-mismatch');
  assert.deepEqual(f.map((x) => [x.exchange, x.evidence['problem']]), [
    ['x1', 'closed-before-content-length'],
    ['x4', 'conflicting-headers'],
  ]);
  assert.equal(f[0].evidence['contentLength'], 505);
  assert.equal(f[0].evidence['bodyLength'], 8);
});

test('no mismatch: HEAD/304 responses with Content-Length, or a message whose body never came', () => {
  const cap = new Capture();
  cap.add('HEAD / HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 301 Moved Permanently\nContent-Length: 219\nLocation: /x\n\n');
  cap.add('GET /a HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 304 Not Modified\nContent-Length: 50\n\n');
  cap.add('POST / HTTP/1.0\nContent-Length: 505\n\n', null, { incomplete: true, anomalies: ['incomplete: connection closed'] });
  assert.deepEqual(byCode(run(cap).findings, 'body.length-mismatch'), []);
});
