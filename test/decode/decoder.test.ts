// Decoder on hand-built frames: every link layer, VLAN/QinQ, GRE/ERSPAN, IPv4 and IPv6 fragments,
// IPv6 extension headers and address text, TCP/UDP headers, snaplen-cut packets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ethernet, ipv4, ipv4Fragments, ipv6, ipv6Bytes, loopback, sll, sll2, tcp, udp, ACK, PSH, SYN } from '../lib/packets.js';
import { Decoder } from '../../src/decode/decoder.js';
import { formatIpv6 } from '../../src/decode/addr.js';
import { DEFAULT_LIMITS, type CaptureProblem, type DecodedPacket, type RawPacket } from '../../src/types.js';

const HELLO = Buffer.from('GET / HTTP/1.1\r\n\r\n');
const seg = tcp(HELLO, { sport: 40000, dport: 80, seq: 1000, ack: 5000, flags: PSH | ACK });
const v4 = ipv4(seg, { src: '192.0.2.10', dst: '198.51.100.7', proto: 6 });
const v6 = ipv6(seg, { src: '2001:db8::10', dst: '2001:db8::7', nextHeader: 6 });

let frame = 0;
function raw(data: Buffer, linkType = 1, origLen = data.length): RawPacket {
  frame++;
  return { frame, input: 0, time: { sec: 1_700_000_000, nsec: frame, digits: 9 }, linkType, capLen: data.length, origLen, data };
}

function decoder(problems: CaptureProblem[] = [], fragments = DEFAULT_LIMITS.fragments) {
  return new Decoder({ limits: { ...DEFAULT_LIMITS, fragments }, onProblem: (p) => problems.push(p) });
}

/** The parts of a decoded packet a user checks, with the payload as text. */
function brief(d: DecodedPacket | null) {
  if (!d) return null;
  return { ip: d.ipVersion, src: d.src, dst: d.dst, transport: d.transport, sport: d.srcPort, dport: d.dstPort, payload: d.payload.toString('latin1'), missing: d.missingBytes };
}

const EXPECT4 = { ip: 4, src: '192.0.2.10', dst: '198.51.100.7', transport: 'tcp', sport: 40000, dport: 80, payload: HELLO.toString(), missing: 0 };
const EXPECT6 = { ...EXPECT4, ip: 6, src: '2001:db8::10', dst: '2001:db8::7' };

function arcnet(ip: Buffer, bsd: boolean, rfc1201: boolean): Buffer {
  const proto = rfc1201 ? (ip[0] >> 4 === 6 ? 0xc4 : 0xd4) : 0xf0;
  const head = bsd ? [0x01, 0x02, proto] : [0x01, 0x02, 0x00, 0x00, proto];
  const extra = rfc1201 ? [0x00, 0x00, 0x01] : []; // split flag, sequence
  return Buffer.concat([Buffer.from([...head, ...extra]), ip]);
}

test('every link layer yields the same TCP segment', () => {
  const d = decoder();
  const cases: [string, Buffer, number, object][] = [
    ['Ethernet IPv4', ethernet(v4), 1, EXPECT4],
    ['Ethernet IPv6', ethernet(v6), 1, EXPECT6],
    ['Linux SLL', sll(v4), 113, EXPECT4],
    ['Linux SLL2', sll2(v6), 276, EXPECT6],
    ['raw IP 101 (v4)', v4, 101, EXPECT4],
    ['raw IP 101 (v6)', v6, 101, EXPECT6],
    ['DLT_RAW 12', v4, 12, EXPECT4],
    ['DLT_RAW 14', v6, 14, EXPECT6],
    ['raw IPv4 228', v4, 228, EXPECT4],
    ['raw IPv6 229', v6, 229, EXPECT6],
    ['BSD null, little-endian AF_INET', loopback(v4), 0, EXPECT4],
    ['BSD null, big-endian AF_INET6 (30)', loopback(v6, { bigEndian: true }), 0, EXPECT6],
    ['OpenBSD loop 108', loopback(v6, { openbsd: true }), 108, EXPECT6],
    ['ARCNET Linux RFC 1051', arcnet(v4, false, false), 129, EXPECT4],
    ['ARCNET Linux RFC 1201', arcnet(v4, false, true), 129, EXPECT4],
    ['ARCNET BSD RFC 1201 IPv6', arcnet(v6, true, true), 7, EXPECT6],
  ];
  for (const [name, data, lt, want] of cases) assert.deepEqual(brief(d.decode(raw(data, lt))), want, name);
  assert.equal(d.stats.decoded, cases.length);
});

test('BSD null with AF_INET6 values 24 and 28 (other BSDs)', () => {
  const d = decoder();
  for (const fam of [24, 28]) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(fam);
    assert.deepEqual(brief(d.decode(raw(Buffer.concat([h, v6]), 0))), EXPECT6, `family ${fam}`);
  }
});

test('802.1Q, QinQ (88a8) and 9100 stacked tags are skipped; 802.3/LLC and ARP are not IP', () => {
  const d = decoder();
  assert.deepEqual(brief(d.decode(raw(ethernet(v4, { vlans: [100] })))), EXPECT4);
  assert.deepEqual(brief(d.decode(raw(ethernet(v6, { vlans: [744, 939], qinq: true })))), EXPECT6);
  const tag9100 = Buffer.concat([Buffer.alloc(12, 2), Buffer.from([0x91, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00]), v4]);
  assert.deepEqual(brief(d.decode(raw(tag9100))), EXPECT4);
  const llc = Buffer.concat([Buffer.alloc(12, 2), Buffer.from([0x00, 0x26, 0x42, 0x42, 0x03]), Buffer.alloc(40)]);
  assert.equal(d.decode(raw(llc)), null);
  assert.equal(d.decode(raw(ethernet(Buffer.alloc(28), { type: 0x0806 }))), null);
  assert.equal(d.stats.nonIp, 2);
});

test('Ethernet padding after the IP total length is not payload', () => {
  const small = ipv4(udp(Buffer.from('hi'), { sport: 5060, dport: 5060 }), { src: '10.0.0.1', dst: '10.0.0.2', proto: 17 });
  const padded = Buffer.concat([ethernet(small), Buffer.alloc(60 - 14 - small.length, 0xee)]);
  const p = decoder().decode(raw(padded));
  assert.equal(p?.payload.toString(), 'hi');
  assert.equal(p?.missingBytes, 0);
});

test('GRE: transparent Ethernet bridging with a key, ERSPAN type II, and IP in GRE', () => {
  const d = decoder();
  const gre = (proto: number, flags: number, extra: Buffer, inner: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(flags, 0);
    h.writeUInt16BE(proto, 2);
    return ethernet(ipv4(Buffer.concat([h, extra, inner]), { src: '10.200.0.3', dst: '10.200.0.224', proto: 47 }));
  };
  assert.deepEqual(brief(d.decode(raw(gre(0x6558, 0x2000, Buffer.alloc(4), ethernet(v4))))), EXPECT4);
  assert.deepEqual(brief(d.decode(raw(gre(0x88be, 0x1000, Buffer.alloc(4 + 8), ethernet(v6))))), EXPECT6);
  assert.deepEqual(brief(d.decode(raw(gre(0x0800, 0, Buffer.alloc(0), v4)))), EXPECT4);
});

test('TCP header: flags, sequence numbers, MSS and window scale; bad header length is malformed', () => {
  const opts = Buffer.from([2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
  const syn = ipv4(tcp(Buffer.alloc(0), { sport: 40000, dport: 80, seq: 0xfffffff0, flags: SYN, window: 64240, options: opts }), { src: '192.0.2.10', dst: '198.51.100.7', proto: 6 });
  const d = decoder();
  const p = d.decode(raw(syn, 101));
  assert.deepEqual(p?.tcp, { seq: 0xfffffff0, ack: 0, flags: SYN, window: 64240, headerLength: 28, mss: 1460, windowScale: 7 });
  const bad = Buffer.from(v4);
  bad[20 + 12] = 0x30; // data offset 12 bytes < 20
  assert.equal(d.decode(raw(bad, 101)), null);
  assert.equal(d.stats.malformed, 1);
});

test('UDP payload is trimmed to the UDP length; IPv4 header checks', () => {
  const d = decoder();
  const u = udp(Buffer.from('abcdef'), { sport: 1, dport: 2 });
  u.writeUInt16BE(8 + 3, 4);
  assert.equal(d.decode(raw(ipv4(u, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }), 101))?.payload.toString(), 'abc');
  const shortTotal = ipv4(seg, { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, totalLength: 12 });
  assert.equal(d.decode(raw(shortTotal, 101)), null);
  const badIhl = Buffer.from(v4);
  badIhl[0] = 0x44;
  assert.equal(d.decode(raw(badIhl, 101)), null);
  assert.equal(d.decode(raw(v4.subarray(0, 12), 101)), null);
  assert.equal(d.stats.malformed, 3);
});

test('snaplen-cut packet: missingBytes counts the transport payload that was not captured', () => {
  const body = Buffer.alloc(1000, 0x41);
  const full = ethernet(ipv4(tcp(body, { sport: 80, dport: 40000, seq: 1, ack: 1, flags: ACK }), { src: '198.51.100.7', dst: '192.0.2.10', proto: 6 }));
  const cut = full.subarray(0, 14 + 20 + 20 + 100);
  const p = decoder().decode(raw(cut, 1, full.length));
  assert.equal(p?.payload.length, 100);
  assert.equal(p?.missingBytes, 900);
});

const DGRAM = udp(Buffer.from('REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n\r\n'), { sport: 5060, dport: 5060 });
const FRAGS = ipv4Fragments(DGRAM, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 77 }, 24);

function feed(d: Decoder, list: Buffer[]): { frames: number[]; out: (DecodedPacket | null)[] } {
  const frames: number[] = [];
  const out = list.map((f) => {
    const r = raw(ethernet(f));
    frames.push(r.frame);
    return d.decode(r);
  });
  return { frames, out };
}

test('IPv4 fragments in order: reassembled at the last fragment, listing the fragment frames', () => {
  assert.equal(FRAGS.length, 3);
  const d = decoder();
  const { frames, out } = feed(d, FRAGS);
  assert.deepEqual(out.slice(0, 2), [null, null]);
  assert.equal(out[2]?.frame, frames[2]);
  assert.deepEqual(out[2]?.fragmentFrames, frames);
  assert.deepEqual(out[2]?.payload, DGRAM.subarray(8));
  assert.equal(d.stats.fragmentsReassembled, 1);
  assert.equal(d.stats.fragmentsDropped, 0);
});

test('IPv4 fragments out of order: attributed to the frame that completed the train (as tshark does)', () => {
  const d = decoder();
  const { frames, out } = feed(d, [FRAGS[2], FRAGS[0], FRAGS[1]]);
  assert.equal(out[2]?.frame, frames[2]);
  assert.deepEqual(out[2]?.fragmentFrames, [frames[1], frames[2], frames[0]]); // offset order
  assert.deepEqual(out[2]?.payload, DGRAM.subarray(8));
});

test('IPv4 overlapping fragments: the first data for a range wins; a pure duplicate is not listed', () => {
  const other = ipv4Fragments(udp(Buffer.alloc(DGRAM.length - 8, 0x5a), { sport: 5060, dport: 5060 }), { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 77 }, 24);
  const d = decoder();
  const { frames, out } = feed(d, [FRAGS[0], other[1], FRAGS[1], FRAGS[2]]);
  const want = Buffer.concat([FRAGS[0].subarray(20), other[1].subarray(20), FRAGS[2].subarray(20)]).subarray(8);
  assert.deepEqual(out[3]?.payload, want);
  assert.deepEqual(out[3]?.fragmentFrames, [frames[0], frames[1], frames[3]]);
});

test('IPv4 fragments never completed: nothing decoded, counted as dropped; trains are bounded', () => {
  const d = decoder([], 2);
  const { out } = feed(d, [FRAGS[0], FRAGS[1]]);
  assert.deepEqual(out, [null, null]);
  assert.equal(d.stats.fragmentsDropped, 2);
  // three more trains with a bound of two: the oldest is evicted
  for (const id of [1, 2, 3]) feed(d, [ipv4Fragments(DGRAM, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id }, 24)[0]]);
  assert.equal(d.stats.fragmentsDropped, 5);
  // completing an evicted train is impossible: its first fragments are gone
  assert.equal(feed(d, [FRAGS[2]]).out[0], null);
});

test('IPv6 extension headers (hop-by-hop, routing, destination options) before TCP; no next header', () => {
  const pad6 = Buffer.from([1, 4, 0, 0, 0, 0]);
  const routing = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0]), Buffer.alloc(16)]); // type 0, segments left 0, one address
  const p = ipv6(seg, { src: '2001:db8::10', dst: '2001:db8::7', nextHeader: 6, extensions: [{ type: 0, body: pad6 }, { type: 43, body: routing }, { type: 60, body: pad6 }] });
  const d = decoder();
  assert.deepEqual(brief(d.decode(raw(p, 229))), EXPECT6);
  const none = ipv6(Buffer.alloc(0), { src: '2001:db8::10', dst: '2001:db8::7', nextHeader: 59 });
  assert.equal(d.decode(raw(none, 229)), null);
});

test('IPv6 fragments are reassembled', () => {
  const src = '2001:db8::10', dst = '2001:db8::7';
  const frag = (off: number, more: boolean) => {
    const body = Buffer.alloc(6);
    body.writeUInt16BE(off | (more ? 1 : 0), 0);
    body.writeUInt32BE(0xabcdef01, 2);
    return ipv6(DGRAM.subarray(off, more ? off + 32 : undefined), { src, dst, nextHeader: 17, extensions: [{ type: 44, body }] });
  };
  const d = decoder();
  const a = raw(frag(0, true), 229);
  const b = raw(frag(32, false), 229);
  assert.equal(d.decode(b), null);
  const p = d.decode(a);
  assert.equal(p?.frame, a.frame);
  assert.deepEqual(p?.fragmentFrames, [a.frame, b.frame]);
  assert.deepEqual(p?.payload, DGRAM.subarray(8));
  assert.equal(p?.src, src);
});

test('IPv6 address text is RFC 5952 (as tshark prints it)', () => {
  const t = (s: string) => formatIpv6(ipv6Bytes(s), 0);
  assert.equal(t('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(t('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // one zero group is not compressed
  assert.equal(t('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // the longest run
  assert.equal(t('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // the first of equal runs
  assert.equal(t('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(t('0:0:0:0:0:0:0:0'), '::');
  assert.equal(t('fe80:0:0:0:0:0:0:0'), 'fe80::');
  const mapped = Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff, 192, 0, 2, 1])]);
  assert.equal(formatIpv6(mapped, 0), '::ffff:192.0.2.1');
});

test('unknown link type: one capture.malformed problem per link type, packets skipped', () => {
  const problems: CaptureProblem[] = [];
  const d = decoder(problems);
  assert.equal(d.decode(raw(v4, 147)), null);
  assert.equal(d.decode(raw(v4, 147)), null);
  assert.equal(d.decode(raw(v4, 148)), null);
  assert.deepEqual(problems.map((p) => [p.code, p.evidence?.linkType]), [['capture.malformed', 147], ['capture.malformed', 148]]);
  assert.match(problems[0].message, /link type 147/);
  assert.deepEqual(d.stats.unknownLinkTypes, [147, 148]);
});

test('TCP header longer than the segment ("Short segment"): passed on marked short, with no payload, as tshark numbers it', () => {
  const d = decoder();
  const s = tcp(Buffer.from('abcde'), { sport: 40000, dport: 80, seq: 7, ack: 9, flags: PSH | ACK });
  s[12] = 15 << 4; // data offset 60 bytes; the segment has 25
  const p = d.decode(raw(ipv4(s, { src: '192.0.2.10', dst: '198.51.100.7', proto: 6 }), 101));
  assert.equal(p?.transport, 'tcp');
  assert.equal(p?.srcPort, 40000);
  assert.equal((p?.tcp as { short?: boolean } | null)?.short, true);
  assert.equal(p?.tcp?.seq, 7);
  assert.equal(p?.payload.length, 0);
  assert.equal(d.stats.malformed, 1);
});

test('TCP header cut by the snap length: decoded (tshark numbers and analyses it), all its payload missing', () => {
  const d = decoder();
  // 40-byte header (MSS option, then NOPs) and 100 bytes of payload; only 30 header bytes captured
  const opts = Buffer.from([2, 4, 0x05, 0xb4, ...Buffer.alloc(16, 1)]);
  const full = ipv4(tcp(Buffer.alloc(100, 0x41), { sport: 1, dport: 2, seq: 77, ack: 88, flags: ACK, options: opts }), { src: '10.0.0.1', dst: '10.0.0.2', proto: 6 });
  const p = d.decode(raw(full.subarray(0, 20 + 30), 101, full.length));
  assert.equal(p?.transport, 'tcp');
  assert.equal(p?.tcp?.seq, 77);
  assert.equal(p?.tcp?.ack, 88);
  assert.equal(p?.tcp?.headerLength, 40);
  assert.equal(p?.tcp?.mss, 1460);
  assert.equal((p?.tcp as { short?: boolean } | null)?.short, undefined);
  assert.equal(p?.payload.length, 0);
  assert.equal(p?.missingBytes, 100);
  assert.equal(d.stats.malformed, 0);
});
