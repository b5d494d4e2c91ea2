// Decryption of REAL TLS sessions (Node's tls on loopback, recorded through a proxy) for every suite
// authcap supports: the plaintext must equal what each side sent, mapped to the frame of the record that
// carried it; where tshark is installed, tshark with the same key log must find HTTP at the same frames.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:crypto';
import type tls from 'node:tls';
import { KeyLog } from '../../src/protocols/tls/keylog.js';
import { driveTls, frameOfPlainByte, plaintextOf, type DriveOptions } from './harness.js';
import { tsharkHttpFrames } from './tshark.js';
import { opensrsRequest, runTls, toPcap, unauthorizedResponse, type LiveResult, type PcapOptions } from './live.js';

interface Case {
  name: string;
  ciphers: string;
  version: tls.SecureVersion;
  standard: string;
  serverSecureOptions?: number;
}

const NO_ETM = constants.SSL_OP_NO_ENCRYPT_THEN_MAC;

const CASES: Case[] = [
  { name: 'TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', version: 'TLSv1.2', standard: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 (P_SHA384)', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', version: 'TLSv1.2', standard: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
  { name: 'TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305 (RFC 7905 nonce)', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', version: 'TLSv1.2', standard: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.2 RSA key exchange AES128-GCM-SHA256', ciphers: 'AES128-GCM-SHA256', version: 'TLSv1.2', standard: 'TLS_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1, encrypt-then-MAC)', ciphers: 'ECDHE-RSA-AES128-SHA', version: 'TLSv1.2', standard: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
  { name: 'TLS 1.2 AES128-SHA (RSA, CBC, MAC-then-encrypt: the OpenSRS suite)', ciphers: 'AES128-SHA', version: 'TLSv1.2', standard: 'TLS_RSA_WITH_AES_128_CBC_SHA', serverSecureOptions: NO_ETM },
  { name: 'TLS 1.2 AES256-SHA256 (RSA, CBC, HMAC-SHA256, MAC-then-encrypt)', ciphers: 'AES256-SHA256', version: 'TLSv1.2', standard: 'TLS_RSA_WITH_AES_256_CBC_SHA256', serverSecureOptions: NO_ETM },
  { name: 'TLS 1.2 ECDHE-RSA-AES256-SHA384 (CBC, HMAC-SHA384, P_SHA384, encrypt-then-MAC)', ciphers: 'ECDHE-RSA-AES256-SHA384', version: 'TLSv1.2', standard: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384' },
  { name: 'TLS 1.3 TLS_AES_128_GCM_SHA256', ciphers: 'TLS_AES_128_GCM_SHA256', version: 'TLSv1.3', standard: 'TLS_AES_128_GCM_SHA256' },
  { name: 'TLS 1.3 TLS_AES_256_GCM_SHA384', ciphers: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3', standard: 'TLS_AES_256_GCM_SHA384' },
  { name: 'TLS 1.3 TLS_CHACHA20_POLY1305_SHA256', ciphers: 'TLS_CHACHA20_POLY1305_SHA256', version: 'TLSv1.3', standard: 'TLS_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.3 TLS_AES_128_CCM_SHA256', ciphers: 'TLS_AES_128_CCM_SHA256', version: 'TLSv1.3', standard: 'TLS_AES_128_CCM_SHA256' },
  { name: 'TLS 1.3 TLS_AES_128_CCM_8_SHA256', ciphers: 'TLS_AES_128_CCM_8_SHA256', version: 'TLSv1.3', standard: 'TLS_AES_128_CCM_8_SHA256' },
  { name: 'TLS 1.1 ECDHE-RSA-AES256-SHA (explicit IV, MD5/SHA1 PRF)', ciphers: 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0', version: 'TLSv1.1', standard: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA' },
  { name: 'TLS 1.0 AES128-SHA (chained IV)', ciphers: 'AES128-SHA:@SECLEVEL=0', version: 'TLSv1', standard: 'TLS_RSA_WITH_AES_128_CBC_SHA' },
];

/** Decrypt a recorded session and check plaintext, frames, and tshark's frames. */
function verify(r: LiveResult, req: Buffer, res: Buffer, po: PcapOptions = {}, drive: DriveOptions = {}): { frames: number[] } {
  assert.equal(r.error, null);
  assert.ok(r.serverGot.equals(req) && r.clientGot.equals(res), 'the live session itself exchanged the messages');
  const { pcap } = toPcap(r.records, po);
  const conns = driveTls(pcap, { ...drive, keylog: KeyLog.parse(r.keylog) });
  assert.equal(conns.length, 1);
  const [c] = conns;
  assert.ok(!c.events.some((e) => e.type === 'undecryptable' || e.type === 'malformed'), JSON.stringify(c.events));
  assert.ok(plaintextOf(c.plain.client).equals(req), 'client plaintext equals the request sent');
  assert.ok(plaintextOf(c.plain.server).equals(res), 'server plaintext equals the response sent');
  // plaintext offsets are contiguous
  for (const d of ['client', 'server'] as const) {
    let off = 0;
    for (const ch of c.plain[d]) { assert.equal(ch.streamOffset, off); off += ch.data.length; }
  }
  const reqFrame = frameOfPlainByte(c.plain.client, req.length - 1)!;
  const resFrame = frameOfPlainByte(c.plain.server, res.length - 1)!;
  assert.ok(reqFrame < resFrame);
  const ts = tsharkHttpFrames(pcap, r.keylog);
  if (ts) assert.deepEqual(ts, [reqFrame, resFrame], 'tshark shows the HTTP request and response at the same frames');
  return { frames: [reqFrame, resFrame] };
}

for (const k of CASES) {
  test(`decrypts ${k.name}`, async () => {
    const req = opensrsRequest();
    const res = unauthorizedResponse();
    const r = await runTls({ ciphers: k.ciphers, minVersion: k.version, maxVersion: k.version, serverSecureOptions: k.serverSecureOptions, request: req, response: res });
    assert.equal(r.cipher, k.standard, 'the live session negotiated the suite under test');
    verify(r, req, res);
    const [c] = driveTls(toPcap(r.records).pcap, { keylog: KeyLog.parse(r.keylog) });
    const sh = c.events.find((e) => e.type === 'server-hello');
    assert.ok(sh && sh.type === 'server-hello' && sh.cipher === k.standard);
    assert.equal(c.tls.handshake.decrypting, true);
    assert.equal(c.tls.handshake.sni, 'rr-n1-tor.opensrs.net');
    const alerts = c.events.filter((e) => e.type === 'alert');
    assert.ok(alerts.length >= 1 && alerts.every((a) => a.type === 'alert' && a.name === 'close_notify' && a.encrypted), 'the closing alerts are decrypted');
  });
}

test('a request of several records, each record spread over many small segments (mss 100)', async () => {
  const req = opensrsRequest(undefined, 40_000); // > 2 records of 16 KiB
  const res = unauthorizedResponse();
  for (const ciphers of ['TLS_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-SHA']) {
    const version = ciphers.startsWith('TLS_') ? 'TLSv1.3' : 'TLSv1.2';
    const r = await runTls({ ciphers, minVersion: version, maxVersion: version, request: req, response: res });
    const { frames } = verify(r, req, res, { mss: 100 });
    // the request's first byte came in an earlier record (an earlier frame) than its last byte
    const [c] = driveTls(toPcap(r.records, { mss: 100 }).pcap, { keylog: KeyLog.parse(r.keylog) });
    assert.ok(c.plain.client.length >= 3, 'the request was decrypted from several records');
    assert.ok(frameOfPlainByte(c.plain.client, 0)! < frames[0]);
  }
});

test('several records per segment and several segments per chunk give the same plaintext and frames', async () => {
  const req = opensrsRequest(undefined, 40_000);
  const res = unauthorizedResponse();
  const r = await runTls({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', request: req, response: res, responseWrite: 50 });
  // one big segment per write: the server's 50-byte writes become many records, and the flight
  // ServerHello..ServerHelloDone arrives as one segment
  const big = verify(r, req, res, { mss: 65_000 });
  const small = verify(r, req, res, { mss: 100 }, { coalesce: 7 });
  const tiny = verify(r, req, res, { mss: 1460 }, { split: 3 });
  assert.equal(big.frames.length, 2);
  assert.equal(small.frames.length, 2);
  assert.equal(tiny.frames.length, 2);
});

test('TLS 1.2 session resumption (ticket) decrypts with the resumed handshake\'s CLIENT_RANDOM line', async () => {
  const req = opensrsRequest();
  const res = unauthorizedResponse();
  const o = { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', request: req, response: res } as const;
  const first = await runTls(o);
  assert.ok(first.session);
  const second = await runTls({ ...o, session: first.session! });
  assert.equal(second.reused, true, 'the second session was resumed');
  verify(second, req, res);
});

test('TLS 1.3 PSK resumption decrypts with its logged traffic secrets', async () => {
  const req = opensrsRequest();
  const res = unauthorizedResponse();
  const o = { ciphers: 'TLS_AES_256_GCM_SHA384', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', request: req, response: res } as const;
  const first = await runTls(o);
  assert.ok(first.session);
  const second = await runTls({ ...o, session: first.session! });
  assert.equal(second.reused, true);
  verify(second, req, res);
});
