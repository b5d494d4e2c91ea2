// Pairing of HTTP requests and responses when the responder's bytes have a hole (lost segments, or a capture
// that began inside a response): the answers in the hole are gone, so the first response after it answers the
// latest request complete before it, not the oldest outstanding one. Without a hole, pairing stays in order.
// tshark 4.0 (default preferences) pairs the first two fixtures the same way (http.request_in 5 and 3).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.js';
import { writePcap } from '../lib/capture-writer.js';
import { TcpSession } from '../lib/packets.js';
import { ExchangeBuilder } from '../../src/exchanges/builder.js';
import { parseSipDatagram } from '../../src/protocols/sip.js';
import { DEFAULT_LIMITS, type Message } from '../../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-pairing-'));

async function pairs(name: string, s: TcpSession): Promise<[string, number | null][]> {
  const file = join(dir, name);
  writeFileSync(file, writePcap(s.packets));
  const { report } = await analyze([file]);
  return report.exchanges.map((x) => [`${x.request.method} ${x.request.uri} @${x.request.frame}`, x.response?.status ?? null]);
}

const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
const res = (status: string, body: string) => `HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

test('a response after lost server segments answers the latest request, not the oldest outstanding one', async () => {
  const s = new TcpSession('10.0.0.1:40000', '10.0.0.2:80').handshake(); // frames 1-3
  s.send('client', req('/login'), { ackEach: false }); // 4
  // The 401 to /login was sent but not captured: the server's sequence numbers move on without frames.
  s.nextSeq.server += Buffer.byteLength(res('401 Unauthorized', 'no'));
  s.send('client', req('/login?retry'), { ackEach: false }); // 5
  s.send('server', res('302 Found', 'moved'), { ackEach: false }); // 6
  assert.deepEqual(await pairs('hole.pcap', s), [
    ['GET /login @4', null],
    ['GET /login?retry @5', 302],
  ]);
});

test('a capture that begins inside a response: the next response answers the request sent after it', async () => {
  const s = new TcpSession('10.0.0.1:40001', '10.0.0.2:80'); // no handshake captured
  s.send('client', req('/a.js'), { ackEach: false }); // 1
  s.send('server', 'end of the script body of the answer to /a.js\r\n', { ackEach: false }); // 2: no start line
  s.send('client', req('/b.gif'), { ackEach: false }); // 3
  s.send('server', res('200 OK', 'GIF89a'), { ackEach: false }); // 4
  assert.deepEqual(await pairs('midstream.pcap', s), [
    ['GET /a.js @1', null],
    ['GET /b.gif @3', 200],
  ]);
});

test('without a hole, pipelined requests are answered in order', async () => {
  const s = new TcpSession('10.0.0.1:40002', '10.0.0.2:80').handshake();
  s.send('client', req('/1') + req('/2'), { ackEach: false }); // 4
  s.send('server', res('401 Unauthorized', 'x'), { ackEach: false }); // 5
  s.send('server', res('200 OK', 'y'), { ackEach: false }); // 6
  assert.deepEqual(await pairs('pipelined.pcap', s), [
    ['GET /1 @4', 401],
    ['GET /2 @4', 200],
  ]);
});

test('answers whose request was not captured are listed unpaired: a lone 100 Continue, and a response cut by the end of the capture', async () => {
  const a = new TcpSession('10.0.0.1:40003', '10.0.0.2:80', { time: 1_700_000_000 });
  a.send('server', 'HTTP/1.1 100 Continue\r\n\r\n', { ackEach: false }); // 1
  const b = new TcpSession('10.0.0.1:40004', '10.0.0.2:80', { time: 1_700_000_001 });
  b.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 4003\r\n\r\nfirst bytes', { ackEach: false }); // 2
  const file = join(dir, 'unpaired.pcap');
  writeFileSync(file, writePcap([...a.packets, ...b.packets]));
  const { report } = await analyze([file]);
  assert.equal(report.exchanges.length, 0);
  const u = (report.unpairedResponses as { frame: number; status: number; incomplete?: boolean }[]).map((r) => [r.frame, r.status, r.incomplete === true]);
  assert.deepEqual(u, [
    [1, 100, false],
    [2, 200, true],
  ]);
});

test('SIP requests without Call-ID or CSeq (damaged) are each reported, not collapsed as retransmissions of one another', () => {
  const seen: string[] = [];
  const b = new ExchangeBuilder({ onExchange: (c) => seen.push(`${c.exchange.request.method}@${c.exchange.request.frame}`), onUnpaired: (u) => seen.push(`unpaired ${u.status}@${u.frame}`) });
  const path = { transport: 'udp' as const, stream: null, clientIp: '192.0.2.10', clientPort: 5060, serverIp: '192.0.2.20', serverPort: 5060 };
  const msg = (frame: number, text: string) => parseSipDatagram(Buffer.from(text, 'latin1'), frame, { sec: frame, nsec: 0, digits: 6 }, DEFAULT_LIMITS) as Message;
  b.sipMessage(path, msg(1, 'ACK sip:a@example.com SIP/2.0\r\nFrom: <sip:x@y>\r\n\r\n'));
  b.sipMessage(path, msg(2, 'REGISTER sip:example.com SIP/2.0\r\nFrom: <sip:x@y>\r\n\r\n'));
  b.sipMessage(path, msg(3, 'SIP/2.0 401 Unauthorized\r\nFrom: <sip:x@y>\r\n\r\n'));
  // A real retransmission (same Call-ID, CSeq, branch) is still collapsed.
  const invite = 'INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: k@h\r\nCSeq: 1 INVITE\r\n\r\n';
  b.sipMessage(path, msg(4, invite));
  b.sipMessage(path, msg(5, invite));
  b.finish();
  assert.deepEqual(seen, ['ACK@1', 'REGISTER@2', 'unpaired 401@3', 'INVITE@4']);
});

test('request and response times keep the capture precision, within one second and across seconds', () => {
  const times: string[] = [];
  const b = new ExchangeBuilder({ onExchange: (c) => times.push(c.exchange.request.time, c.exchange.response?.time ?? '-'), onUnpaired: (u) => times.push(`unpaired ${u.time}`) });
  const path = { transport: 'udp' as const, stream: null, clientIp: '192.0.2.10', clientPort: 5060, serverIp: '192.0.2.20', serverPort: 5060 };
  const at = (text: string, frame: number, sec: number, nsec: number, digits: number) =>
    parseSipDatagram(Buffer.from(text, 'latin1'), frame, { sec, nsec, digits }, DEFAULT_LIMITS) as Message;
  const reg = (n: number) => `REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK${n}\r\nCall-ID: c${n}@h\r\nCSeq: 1 REGISTER\r\n\r\n`;
  const ok = (n: number) => `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK${n}\r\nCall-ID: c${n}@h\r\nCSeq: 1 REGISTER\r\n\r\n`;
  // 1700000000 = 2023-11-14T22:13:20Z
  b.sipMessage(path, at(reg(1), 1, 1700000000, 5_000, 6)); // same second, µs
  b.sipMessage(path, at(ok(1), 2, 1700000000, 123_456_789, 9)); // same second, ns
  b.sipMessage(path, at(reg(2), 3, 1700000061, 999_999_999, 6)); // next minute: digits cut, not rounded
  b.sipMessage(path, at(ok(2), 4, 1700000061, 0, 0)); // no fraction
  b.sipMessage(path, at(ok(3), 5, 1699999999, 1, 9)); // an earlier second again, answer to nothing
  b.finish();
  assert.deepEqual(times, [
    '2023-11-14T22:13:20.000005Z', '2023-11-14T22:13:20.123456789Z',
    '2023-11-14T22:14:21.999999Z', '2023-11-14T22:14:21Z',
    'unpaired 2023-11-14T22:13:19.000000001Z',
  ]);
});
