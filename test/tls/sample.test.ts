// The OpenSRS TLS sample decrypts to the POST with a trailing NUL and the 401, at tshark's frames.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLog } from '../../src/protocols/tls/keylog.js';
import { driveTls, frameOfPlainByte, plaintextOf } from './harness.js';
import { opensrsTlsSample } from './sample.js';
import { tsharkHttpFrames } from './tshark.js';

test('opensrsTlsSample: port 55443, TLS 1.2 AES128-SHA, POST with trailing NUL answered 401', async () => {
  const { pcap, keylog } = await opensrsTlsSample();
  const [c] = driveTls(pcap, { keylog: KeyLog.parse(keylog) });
  assert.equal(c.summary.server.port, 55443);
  const sh = c.events.find((e) => e.type === 'server-hello');
  assert.ok(sh && sh.type === 'server-hello' && sh.version === 'TLS 1.2' && sh.cipher === 'TLS_RSA_WITH_AES_128_CBC_SHA');
  const req = plaintextOf(c.plain.client);
  const res = plaintextOf(c.plain.server);
  assert.match(req.toString('latin1'), /^POST \/ HTTP\/1\.0\r\n/);
  assert.equal(req[req.length - 1], 0, 'the body ends in a NUL');
  assert.match(res.toString('latin1'), /^HTTP\/1\.0 401 /);
  const frames = tsharkHttpFrames(pcap, keylog, ['-d', 'tcp.port==55443,tls', '-d', 'tls.port==55443,http']);
  if (frames) assert.deepEqual(frames, [frameOfPlainByte(c.plain.client, req.length - 1), frameOfPlainByte(c.plain.server, res.length - 1)]);
});
