// app.ip-not-allowed from OpenSRS 555 replies and JSON/text bodies; NAT when the quoted address differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, run, byCode } from './builder.js';

const REPLY = (ip: string) => `HTTP/1.1 200 OK\nContent-Type: text/xml\n\n<?xml version='1.0' encoding="UTF-8" standalone="no" ?>
<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">
<OPS_envelope><header><version>0.9</version></header><body><data_block><dt_assoc>
<item key="protocol">XCP</item>
<item key="response_text">Connection refused: invalid ip address [${ip}]</item>
<item key="action">REPLY</item>
<item key="response_code">555</item>
</dt_assoc></data_block></body></OPS_envelope>`;
const REQ = 'POST / HTTP/1.0\nContent-Type: text/xml\nX-Username: test\n\n<OPS_envelope/>';

test('OPS 555 "invalid ip address" behind NAT: both addresses in evidence, message says so', () => {
  const cap = new Capture();
  const x = cap.add(REQ, REPLY('123.123.119.150'), { client: '10.1.2.3:51000', server: '216.40.33.39:55443' });
  const f = byCode(run(cap).findings, 'app.ip-not-allowed');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].exchange, x.exchange.id);
  assert.equal(f[0].evidence['clientAddress'], '10.1.2.3');
  assert.equal(f[0].evidence['quotedAddress'], '123.123.119.150');
  assert.equal(f[0].evidence['responseCode'], '555');
  assert.equal(f[0].evidence['addressesDiffer'], true);
  assert.match(f[0].message, /NAT/);
  assert.match(f[0].message, /123\.123\.119\.150/);
});

test('same address: no NAT wording', () => {
  const cap = new Capture();
  cap.add(REQ, REPLY('123.123.119.150'), { client: '123.123.119.150:51000' });
  const f = byCode(run(cap).findings, 'app.ip-not-allowed');
  assert.equal(f[0].evidence['addressesDiffer'], false);
  assert.doesNotMatch(f[0].message, /NAT/);
});

test('JSON 403 "IP address not whitelisted"; an HTML page about allow-lists is not a refusal', () => {
  const cap = new Capture();
  cap.add('GET /v1/balance HTTP/1.1\nHost: api\nX-API-Key: k\n\n', 'HTTP/1.1 403 Forbidden\nContent-Type: application/json\n\n{"error":"Your IP address 2001:db8::7 is not whitelisted"}', { client: '[2001:db8::7]:40000' });
  cap.add('GET /docs HTTP/1.1\nHost: api\n\n', `HTTP/1.1 200 OK\nContent-Type: text/html\n\n<html>${'x'.repeat(3000)} If your IP address is not whitelisted, contact support at 17:31:26.</html>`);
  const f = byCode(run(cap).findings, 'app.ip-not-allowed');
  assert.equal(f.length, 1);
  assert.equal(f[0].evidence['quotedAddress'], '2001:db8::7');
  assert.equal(f[0].evidence['clientAddress'], '2001:db8::7');
  assert.equal(f[0].evidence['addressesDiffer'], false);
});
