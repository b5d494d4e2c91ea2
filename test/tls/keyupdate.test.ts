// TLS 1.3 KeyUpdate: Node cannot send one, so the test takes a real TLS 1.3 session and replaces the
// client's closing record with records it protects itself (an independent HKDF-Expand-Label here):
// a KeyUpdate under CLIENT_TRAFFIC_SECRET_0, then data and close_notify under the next secret.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { KeyLog } from '../../src/protocols/tls/keylog.js';
import { driveTls, plaintextOf } from './harness.js';
import { opensrsRequest, runTls, toPcap, unauthorizedResponse } from './live.js';

function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const l = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 255, l.length]), l, Buffer.from([0])]);
  // one HKDF-Expand block suffices for <= 32 bytes with SHA-256
  return createHmac('sha256', secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

function protect(secret: Buffer, seq: number, innerType: number, content: Buffer): Buffer {
  const key = expandLabel(secret, 'key', 16);
  const iv = expandLabel(secret, 'iv', 12);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
  const inner = Buffer.concat([content, Buffer.from([innerType])]);
  const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(header);
  return Buffer.concat([header, c.update(inner), c.final(), c.getAuthTag()]);
}

test('TLS 1.3 KeyUpdate switches to the next traffic secret with the sequence number reset', async () => {
  const req = opensrsRequest();
  const res = unauthorizedResponse();
  const r = await runTls({ ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', request: req, response: res });
  assert.equal(r.error, null);
  const line = r.keylog.split('\n').find((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0 '))!;
  const cts0 = Buffer.from(line.split(' ')[2], 'hex');
  const cts1 = expandLabel(cts0, 'traffic upd', 32);
  // the client's last chunk is its close_notify (seq 1 after the one-record request at seq 0)
  const records = [...r.records];
  const last = records.map((x) => x.from).lastIndexOf('client');
  assert.equal(records[last].data.length, 5 + 2 + 1 + 16, 'the last client chunk is one encrypted alert');
  const extra = Buffer.from('after the key update');
  records[last] = {
    from: 'client',
    data: Buffer.concat([
      protect(cts0, 1, 22, Buffer.from([24, 0, 0, 1, 0])), // KeyUpdate(update_not_requested)
      protect(cts1, 0, 23, extra),
      protect(cts1, 1, 21, Buffer.from([1, 0])),
    ]),
  };
  const [c] = driveTls(toPcap(records).pcap, { keylog: KeyLog.parse(r.keylog) });
  assert.ok(!c.events.some((e) => e.type === 'undecryptable'), JSON.stringify(c.events));
  assert.ok(plaintextOf(c.plain.client).equals(Buffer.concat([req, extra])));
  const clientAlerts = c.events.filter((e) => e.type === 'alert' && e.from === 'client');
  assert.deepEqual(clientAlerts.map((a) => a.type === 'alert' && a.name), ['close_notify']);

  // without the update the extra record does not authenticate: said once, not skipped silently
  records[last] = { from: 'client', data: protect(cts0, 1, 23, extra) };
  records.splice(last + 1, 0, { from: 'client', data: protect(cts1, 1, 23, extra) });
  const [d] = driveTls(toPcap(records).pcap, { keylog: KeyLog.parse(r.keylog) });
  const und = d.events.filter((e) => e.type === 'undecryptable');
  assert.equal(und.length, 1);
  assert.match(und[0].type === 'undecryptable' ? und[0].reason : '', /does not decrypt/);
});
