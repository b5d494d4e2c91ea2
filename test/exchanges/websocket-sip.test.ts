// SIP over WebSocket (RFC 7118) on one TCP connection: an HTTP GET with "Upgrade: websocket", the 101 that
// accepts it, then SIP in WebSocket text frames (masked from the client). authcap reports the SIP exchange at
// the frames that completed each message, as tshark 4.0 does for this fixture (sip frames 8 and 9).
// Without the 101 (the server refuses the upgrade), the frames that follow are not read as WebSocket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.js';
import { writePcap } from '../lib/capture-writer.js';
import { TcpSession } from '../lib/packets.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-ws-'));

function wsFrame(text: string, mask?: number[]): Buffer {
  const p = Buffer.from(text, 'latin1');
  const head = p.length > 125 ? Buffer.from([0x81, (mask ? 0x80 : 0) | 126, p.length >> 8, p.length & 0xff]) : Buffer.from([0x81, (mask ? 0x80 : 0) | p.length]);
  if (!mask) return Buffer.concat([head, p]);
  return Buffer.concat([head, Buffer.from(mask), Buffer.from(p.map((x, i) => x ^ mask[i & 3]))]);
}

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: sip.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n';
const SWITCH =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n';
const REGISTER =
  'REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n' +
  'From: <sip:alice@example.com>;tag=65bnmj\r\nTo: <sip:alice@example.com>\r\nCall-ID: aiuy7k9njasd\r\n' +
  'CSeq: 1 REGISTER\r\nContact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n';
const CHALLENGE =
  'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n' +
  'From: <sip:alice@example.com>;tag=65bnmj\r\nTo: <sip:alice@example.com>;tag=1\r\nCall-ID: aiuy7k9njasd\r\n' +
  'CSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm="example.com", nonce="abc"\r\nContent-Length: 0\r\n\r\n';

async function exchanges(name: string, s: TcpSession) {
  const file = join(dir, name);
  writeFileSync(file, writePcap(s.packets));
  const { report } = await analyze([file]);
  return report.exchanges.map((x) => `${x.protocol} ${x.request.method}@${x.request.frame} -> ${x.response ? `${x.response.status}@${x.response.frame}` : 'none'}`);
}

test('SIP in WebSocket frames after 101 Switching Protocols is parsed and paired', async () => {
  const s = new TcpSession('192.0.2.10:43380', '198.51.100.7:8080').handshake(); // 1-3
  s.send('client', UPGRADE, { ackEach: false }); // 4
  s.send('server', SWITCH, { ackEach: false }); // 5
  // The REGISTER split over two segments (the split falls inside the WebSocket payload).
  const reg = wsFrame(REGISTER, [0x35, 0xba, 0x59, 0x9f]);
  s.send('client', reg.subarray(0, 100), { ackEach: false }); // 6
  s.ack('server'); // 7
  s.send('client', reg.subarray(100), { ackEach: false }); // 8
  s.send('server', wsFrame(CHALLENGE), { ackEach: false }); // 9
  assert.deepEqual(await exchanges('ws-sip.pcap', s), ['http GET@4 -> 101@5', 'sip REGISTER@8 -> 401@9']);
});

test('without a 101, bytes after an Upgrade request are not read as WebSocket', async () => {
  const s = new TcpSession('192.0.2.10:43381', '198.51.100.7:8080').handshake();
  s.send('client', UPGRADE, { ackEach: false }); // 4
  s.send('server', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', { ackEach: false }); // 5
  s.send('client', wsFrame(REGISTER, [1, 2, 3, 4]), { ackEach: false }); // 6
  const got = await exchanges('ws-refused.pcap', s);
  assert.equal(got[0], 'http GET@4 -> 403@5');
  assert.ok(!got.some((x) => x.startsWith('sip')), got.join('; '));
});
