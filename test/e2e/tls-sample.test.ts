// The HTTPS sample: with its key log, authcap decrypts the XML API POST and finds the trailing NUL, at the
// frames of the TLS records; without it, it says the traffic is encrypted and how to get keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runJson } from '../lib/run-cli.js';
import { SAMPLES } from '../lib/paths.js';

const pcap = join(SAMPLES, 'opensrs-tls-trailing-nul.pcap');
const keys = join(SAMPLES, 'opensrs-tls-trailing-nul.keys.txt');

test('with the key log, the POST inside TLS is analysed like plain HTTP', () => {
  const { code, report } = runJson([pcap, '--keylog', keys]);
  assert.equal(code, 1);
  assert.equal(report.exchanges.length, 1);
  const x = report.exchanges[0];
  assert.equal(x.tls, true);
  assert.equal(x.request.method, 'POST');
  assert.equal(x.response.status, 401);
  assert.ok(x.server.endsWith(':55443'));
  const nul = report.findings.filter((f: any) => f.code === 'body.trailing-nul');
  assert.equal(nul.length, 1);
  assert.equal(nul[0].exchange, x.id);
  assert.equal(report.findings.filter((f: any) => f.code === 'tls.encrypted' || f.code === 'tls.undecrypted').length, 0);
});

test('without keys, the connection is reported as encrypted (info) with the server name', () => {
  const { code, report } = runJson([pcap]);
  assert.equal(code, 0);
  assert.equal(report.exchanges.length, 0);
  const enc = report.findings.filter((f: any) => f.code === 'tls.encrypted');
  assert.equal(enc.length, 1);
  assert.equal(enc[0].severity, 'info');
  assert.match(JSON.stringify(enc[0].evidence), /rr-n1-tor\.opensrs\.net/);
  assert.match(enc[0].message + JSON.stringify(enc[0].evidence), /SSLKEYLOGFILE|keylog/i);
});
