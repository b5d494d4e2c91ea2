// Frame numbers against Wireshark: conversations written as real captures (TcpSession + writePcap); the
// parsers get the same bytes with the same frame map, and when tshark is on PATH its frame.number for
// every http/sip message must equal ours. Without tshark only our expected frames are checked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TcpSession, udpFrame } from '../lib/packets.js';
import { writePcap, type WrittenPacket } from '../lib/capture-writer.js';
import { DEFAULT_LIMITS, type Message } from '../../src/types.js';
import { parseSipDatagram } from '../../src/protocols/sip.js';
import { feed, httpParser, sipParser, timeOf, type Piece } from './helpers.js';

const tsharkOk = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;

/** tshark's messages as "frame:METHOD" / "frame:status", one per message (pipelined ones repeat the frame). */
function tshark(packets: WrittenPacket[], filter: 'http' | 'sip'): string[] | null {
  if (!tsharkOk) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authcap-tshark-'));
  try {
    const file = path.join(dir, 'c.pcap');
    fs.writeFileSync(file, writePcap(packets));
    const fields = filter === 'http' ? ['http.request.method', 'http.response.code'] : ['sip.Method', 'sip.Status-Code'];
    const r = spawnSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number', ...fields.flatMap((f) => ['-e', f]), '-E', 'occurrence=a', '-E', 'aggregator=,'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out: string[] = [];
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [frame, a, b] = line.split('\t');
      for (const v of [a, b]) for (const x of (v ?? '').split(',').filter(Boolean)) out.push(`${frame}:${x}`);
    }
    return out.sort();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A TcpSession that also records which frame carried which bytes of each direction. */
class Conversation {
  s = new TcpSession('10.0.0.1:40000', '10.0.0.2:80');
  pieces: Record<'client' | 'server', Piece[]> = { client: [], server: [] };
  finFrame: Record<'client' | 'server', number | null> = { client: null, server: null };

  constructor(port = 80) {
    this.s = new TcpSession('10.0.0.1:40000', `10.0.0.2:${port}`);
    this.s.handshake();
  }

  /** Returns the 1-based frames of the data segments. */
  send(side: 'client' | 'server', text: string, o: { mss?: number; ackEach?: boolean } = {}): number[] {
    const data = Buffer.from(text, 'latin1');
    const mss = o.mss ?? this.s.mss;
    const idx = this.s.send(side, data, o);
    idx.forEach((i, k) => this.pieces[side].push([i + 1, data.subarray(k * mss, (k + 1) * mss)]));
    return idx.map((i) => i + 1);
  }

  fin(side: 'client' | 'server'): number {
    this.s.fin(side);
    this.finFrame[side] = this.s.packets.length;
    return this.s.packets.length;
  }

  /** Run both HTTP parsers over the recorded bytes. */
  parseHttp(): Message[] {
    const req = httpParser('request');
    const res = httpParser('response');
    feed(req.parser, this.pieces.client, 'frames');
    for (const m of req.messages) res.parser.expectMethod(m.method!);
    feed(res.parser, this.pieces.server, 'frames');
    for (const side of ['client', 'server'] as const) {
      const p = side === 'client' ? req.parser : res.parser;
      const f = this.finFrame[side];
      p.end(f ? { how: 'fin', frame: f, time: timeOf(f) } : { how: 'eof' });
    }
    assert.deepEqual([...req.malformed, ...res.malformed], []);
    return [...req.messages, ...res.messages];
  }
}

const label = (m: Message) => `${m.frame}:${m.method ?? m.status}`;

test('tshark agrees: HEAD, pipelining, 204/304, 100-continue, chunked, multi-segment body', () => {
  const c = new Conversation();
  const [fHead] = c.send('client', 'HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n');
  const [fHeadRes] = c.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
  const [fPipe] = c.send('client', 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  const [f204] = c.send('server', 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', { ackEach: false });
  const [f304] = c.send('server', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n');
  const [fPostHead] = c.send('client', 'POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n');
  const [f100] = c.send('server', 'HTTP/1.1 100 Continue\r\n\r\n');
  const [fPostBody] = c.send('client', '0123456789');
  c.send('server', 'HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { ackEach: false });
  c.send('server', '6\r\n world\r\n', { ackEach: false });
  const [fChunkEnd] = c.send('server', '0\r\nX-T: 1\r\n\r\n');
  const bigFrames = c.send('client', `POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n${'a'.repeat(3000)}`, { mss: 1000 });
  const [fOk] = c.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  c.s.close();

  const ours = c.parseHttp();
  const expected = [
    `${fHead}:HEAD`, `${fHeadRes}:200`, `${fPipe}:GET`, `${fPipe}:GET`, `${f204}:204`, `${f304}:304`,
    `${fPostBody}:POST`, `${f100}:100`, `${fChunkEnd}:401`, `${bigFrames[bigFrames.length - 1]}:POST`, `${fOk}:200`,
  ].sort();
  assert.deepEqual(ours.map(label).sort(), expected);
  const post = ours.find((m) => m.uri === '/p')!;
  assert.equal(post.firstFrame, fPostHead);
  const big = ours.find((m) => m.uri === '/big')!;
  assert.equal(big.firstFrame, bigFrames[0]);
  assert.equal(bigFrames.length, 4);
  const t = tshark(c.s.packets, 'http');
  if (t) assert.deepEqual(t, expected);
});

test('tshark agrees: a close-delimited response is shown at the FIN frame, not the last data frame', () => {
  const c = new Conversation();
  c.send('client', 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
  c.send('server', 'HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="r"\r\n\r\nden', { ackEach: false });
  const [lastData] = c.send('server', 'ied');
  const fin = c.fin('server');
  c.fin('client');
  c.s.ack('server');
  const ours = c.parseHttp();
  const res = ours.find((m) => m.kind === 'response')!;
  assert.equal(res.frame, fin);
  assert.notEqual(fin, lastData);
  assert.equal(res.body.toString(), 'denied');
  const t = tshark(c.s.packets, 'http');
  if (t) assert.deepEqual(t, [`4:GET`, `${fin}:401`]);
});

/** An INVITE with a 500-byte body over TCP in 200-byte segments, then a 401; `lengthHeader` names Content-Length. */
function sipOverTcp(lengthHeader: string) {
  const c = new Conversation(5060);
  const body = 'v=0\r\n'.repeat(100);
  const frames = c.send('client', `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n${lengthHeader}: ${body.length}\r\n\r\n${body}`, { mss: 200 });
  const [f401] = c.send('server', 'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\nWWW-Authenticate: Digest realm="x", nonce="n"\r\nContent-Length: 0\r\n\r\n');
  const client = sipParser();
  const server = sipParser();
  feed(client.parser, c.pieces.client, 'frames');
  feed(server.parser, c.pieces.server, 'frames');
  assert.equal(client.messages.length, 1);
  assert.equal(client.messages[0].firstFrame, frames[0]);
  assert.equal(client.messages[0].bodyLength, body.length);
  return { c, frames, f401, ours: [...client.messages, ...server.messages].map(label).sort() };
}

test('tshark agrees: SIP over TCP, a message across segments is shown at its last segment', () => {
  const { c, frames, f401, ours } = sipOverTcp('Content-Length');
  const expected = [`${frames[frames.length - 1]}:INVITE`, `${f401}:401`].sort();
  assert.deepEqual(ours, expected);
  const t = tshark(c.s.packets, 'sip');
  if (t) assert.deepEqual(t, expected);
});

test('tshark 4.0 differs: SIP over TCP with compact "l:" is shown where the headers end (its body is cut)', () => {
  const { c, frames, f401, ours } = sipOverTcp('l');
  assert.deepEqual(ours, [`${frames[frames.length - 1]}:INVITE`, `${f401}:401`].sort());
  const t = tshark(c.s.packets, 'sip');
  // Where tshark ends the INVITE: the segment holding the blank line after the headers (the second one).
  if (t) assert.deepEqual(t, [`${frames[1]}:INVITE`, `${f401}:401`].sort());
});

test('tshark agrees: SIP over UDP, one message per datagram, keep-alives ignored', () => {
  const udp: WrittenPacket[] = [
    { time: 1, data: udpFrame('10.0.0.1:5060', '10.0.0.2:5060', 'REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\ni: u1\r\nCSeq: 1 REGISTER\r\nl: 0\r\n\r\n') },
    { time: 2, data: udpFrame('10.0.0.1:5060', '10.0.0.2:5060', '\r\n\r\n') },
    { time: 3, data: udpFrame('10.0.0.2:5060', '10.0.0.1:5060', 'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\ni: u1\r\nCSeq: 1 REGISTER\r\nl: 0\r\n\r\n') },
  ];
  const payloads = [udp[0], udp[1], udp[2]].map((p) => p.data.subarray(14 + 20 + 8));
  const parsed = payloads.map((p, i) => parseSipDatagram(p, i + 1, timeOf(i + 1), DEFAULT_LIMITS));
  assert.equal(parsed[1], null);
  const udpOurs = parsed.filter((m): m is Message => m !== null && !Array.isArray(m)).map(label);
  assert.deepEqual(udpOurs, ['1:REGISTER', '3:401']);
  const tu = tshark(udp, 'sip');
  if (tu) assert.deepEqual(tu, ['1:REGISTER', '3:401']);
});
