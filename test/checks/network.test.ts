// Network findings (tcp.refused, tcp.no-answer, tcp.reset) from connection summaries made by the real
// TcpTracker on TCP conversations written with test/lib/packets.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, RST, SYN, TcpSession } from '../lib/packets.js';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { DEFAULT_LIMITS, type Finding, type TcpConnectionSummary } from '../../src/types.js';
import { TcpTracker } from '../../src/flows/tcp-tracker.js';
import { createNetworkChecks, type NetworkCheckOptions } from '../../src/checks/network.js';
import { decodeAll } from '../flows/helpers.js';

const C = '192.0.2.10:51234';

/** Run frames through the tracker and the network checks, as the pipeline does. */
function findings(frames: WrittenPacket[], o: NetworkCheckOptions = {}): Finding[] {
  const checks = createNetworkChecks(o);
  const out: Finding[] = [];
  const summaries: TcpConnectionSummary[] = [];
  const tr = new TcpTracker({
    limits: DEFAULT_LIMITS,
    factory: () => ({ data() {}, gap() {}, end() {}, close: (s) => summaries.push(s) }),
  });
  for (const p of decodeAll(frames)) tr.packet(p);
  tr.finish();
  for (const s of summaries) out.push(...checks.connection!(s));
  out.push(...checks.finish!());
  return out;
}

test('tcp.refused: the SYN is answered by RST from the server', () => {
  const s = new TcpSession(C, '198.51.100.7:55443');
  s.push(s.segment('client', SYN)); // 1
  s.push(s.segment('server', RST | ACK, undefined, { seq: 0, ack: s.nextSeq.client + 1 })); // 2
  const f = findings(s.packets);
  assert.equal(f.length, 1);
  assert.equal(f[0].code, 'tcp.refused');
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].message, 'Connection to 198.51.100.7:55443 refused: the server answered the SYN with RST (port closed, errno 111)');
  assert.equal(f[0].exchange, null);
  assert.equal(f[0].stream, 0);
  assert.deepEqual(f[0].frames, [1, 2]);
  assert.equal(f[0].filter, 'tcp.stream eq 0');
  assert.deepEqual(f[0].evidence, { client: '192.0.2.10:51234', server: '198.51.100.7:55443', attempts: 1, synFrame: 1, rstFrame: 2 });
});

test('tcp.refused: retried SYNs with their resets make one finding', () => {
  const s = new TcpSession(C, '198.51.100.7:8443', { step: 0.25 });
  for (let i = 0; i < 3; i++) {
    s.push(s.segment('client', SYN));
    s.push(s.segment('server', RST | ACK, undefined, { seq: 0, ack: s.nextSeq.client + 1 }));
  }
  const f = findings(s.packets);
  assert.deepEqual(f.map((x) => x.code), ['tcp.refused']);
  assert.deepEqual(f[0].frames, [1, 2, 3, 4, 5, 6]);
  assert.match(f[0].message, /\(3 attempts over 1\.0 s\)$/);
});

test('tcp.no-answer: three SYNs over three seconds', () => {
  const s = new TcpSession('[2001:db8::10]:40000', '[2001:db8::7]:443');
  s.push(s.segment('client', SYN), 1_700_000_000);
  s.push(s.segment('client', SYN), 1_700_000_001);
  s.push(s.segment('client', SYN), 1_700_000_003);
  const f = findings(s.packets);
  assert.equal(f.length, 1);
  assert.equal(f[0].code, 'tcp.no-answer');
  assert.equal(f[0].severity, 'error');
  assert.equal(
    f[0].message,
    'No answer from [2001:db8::7]:443: the client sent 3 SYNs over 3.0 s and got no SYN-ACK or RST back; a firewall is dropping the packets or the address is wrong',
  );
  assert.deepEqual(f[0].frames, [1, 2, 3]);
  assert.equal(f[0].filter, 'tcp.stream eq 0');
  assert.equal(f[0].evidence.attempts, 3);
  assert.equal(f[0].evidence.seconds, 3);
  assert.equal(f[0].evidence.client, '[2001:db8::10]:40000');
  assert.equal(f[0].evidence.server, '[2001:db8::7]:443');
  assert.equal(f[0].evidence.firstSyn, '2023-11-14T22:13:20.000000Z');
});

test('a single unanswered SYN counts only if the capture went on long enough after it', () => {
  const lone = new TcpSession(C, '198.51.100.9:80', { time: 100 });
  lone.push(lone.segment('client', SYN)); // frame 1 at t=100
  const other = new TcpSession('192.0.2.11:40000', '198.51.100.7:80', { time: 104 });
  other.handshake();
  const reported = findings([...lone.packets, ...other.packets]);
  assert.deepEqual(reported.map((f) => [f.code, f.frames]), [['tcp.no-answer', [1]]]);
  assert.match(reported[0].message, /the client sent a SYN \(frame 1\)/);
  // the same SYN with the capture ending 1 s later: the answer may just not have been captured
  const early = new TcpSession('192.0.2.11:40000', '198.51.100.7:80', { time: 101 });
  early.handshake();
  assert.deepEqual(findings([...lone.packets, ...early.packets]), []);
});

test('tcp.reset: a connection with data reset by the server', () => {
  const s = new TcpSession(C, '198.51.100.7:80');
  s.handshake();
  s.send('client', 'POST /api HTTP/1.1\r\nContent-Length: 0\r\n\r\n'); // 4-5
  s.rst('server'); // 6
  const f = findings(s.packets);
  assert.equal(f.length, 1);
  assert.equal(f[0].code, 'tcp.reset');
  assert.equal(f[0].severity, 'warning');
  assert.deepEqual(f[0].frames, [6]);
  assert.equal(f[0].filter, 'tcp.stream eq 0');
  assert.equal(f[0].evidence.from, 'server');
  assert.equal(f[0].evidence.frame, 6);
  assert.equal(f[0].evidence.afterFin, false);
  assert.equal(f[0].evidence.client, '192.0.2.10:51234');
  assert.equal(f[0].evidence.server, '198.51.100.7:80');
  assert.match(f[0].message, /reset by the server \(RST in frame 6\)/);
});

test('tcp.reset by the client after the server closed its side says so', () => {
  const s = new TcpSession(C, '198.51.100.7:80');
  s.handshake();
  s.send('client', 'GET / HTTP/1.1\r\n\r\n');
  s.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  s.fin('server'); // 8
  s.rst('client'); // 9
  const f = findings(s.packets);
  assert.deepEqual(f.map((x) => [x.code, x.evidence.from, x.evidence.afterFin, x.evidence.finFrame]), [['tcp.reset', 'client', true, 8]]);
});

test('no tcp.reset after a bare ClientHello when the TLS module reports it', () => {
  const s = new TcpSession(C, '198.51.100.7:443');
  s.handshake();
  s.send('client', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0]));
  s.rst('server');
  assert.deepEqual(findings(s.packets).map((f) => f.code), ['tcp.reset']);
  assert.deepEqual(findings(s.packets, { isTlsHelloOnly: (stream) => stream === 0 }), []);
});

test('clean connections and a reset before any data give nothing', () => {
  const ok = new TcpSession(C, '198.51.100.7:80');
  ok.handshake();
  ok.send('client', 'GET / HTTP/1.1\r\n\r\n');
  ok.close();
  assert.deepEqual(findings(ok.packets), []);
  const early = new TcpSession('192.0.2.10:51235', '198.51.100.7:80');
  early.handshake();
  early.rst('client'); // reset with no data at all
  assert.deepEqual(findings(early.packets), []);
  const ack = new TcpSession('192.0.2.10:51236', '198.51.100.7:80');
  ack.push(ack.segment('client', ACK)); // mid-stream, no SYN: neither refused nor unanswered
  assert.deepEqual(findings(ack.packets), []);
});

test('an unanswered SYN followed by client traffic is an asymmetric capture, not tcp.no-answer', () => {
  const s = new TcpSession(C, '198.51.100.7:80', { step: 1 });
  s.push(s.segment('client', SYN)); // the SYN-ACK went another way
  s.nextSeq.client++;
  s.ack('client');
  s.send('client', 'GET / HTTP/1.1\r\n\r\n', { ackEach: false });
  const later = new TcpSession('192.0.2.99:40000', '198.51.100.8:80', { time: s.time + 10 });
  later.handshake(); // the capture goes on long enough for a lone SYN to count
  assert.deepEqual(findings([...s.packets, ...later.packets]), []);
  // control: the same SYN alone is reported
  assert.deepEqual(findings([s.packets[0], ...later.packets]).map((f) => f.code), ['tcp.no-answer']);
});

test('tcp.reset counts bytes the capture missed (headers-only capture)', () => {
  const s = new TcpSession(C, '198.51.100.7:80');
  s.handshake();
  s.send('client', 'x'.repeat(100), { ackEach: false }); // 4
  s.packets[3] = { ...s.packets[3], data: s.packets[3].data.subarray(0, 54), origLen: s.packets[3].data.length };
  s.rst('server');
  const f = findings(s.packets);
  assert.deepEqual(f.map((x) => [x.code, x.evidence.bytes]), [['tcp.reset', { client: 100, server: 0 }]]);
});
