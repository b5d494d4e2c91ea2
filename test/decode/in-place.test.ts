// The decoder reads the capture parser's records in place (PacketRecord: the bytes at buf[start..end) of
// the chunk, with other records before and after them): every link layer must give what it gives for the
// same frame in a buffer of its own, and nothing past the record's end may become payload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapngBuilder, writePcap } from '../lib/capture-writer.js';
import { ethernet, ipv4, ipv6, loopback, sll, sll2, tcp, udp, ACK, PSH } from '../lib/packets.js';
import { CaptureParser, PacketRecord } from '../../src/capture/parser.js';
import { Decoder } from '../../src/decode/decoder.js';
import { DEFAULT_LIMITS, type DecodedPacket, type RawPacket } from '../../src/types.js';

const HELLO = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
const seg = tcp(HELLO, { sport: 40000, dport: 80, seq: 1000, ack: 5000, flags: PSH | ACK });
const v4 = ipv4(seg, { src: '192.0.2.10', dst: '198.51.100.7', proto: 6 });
const v6 = ipv6(seg, { src: '2001:db8::10', dst: '2001:db8::7', nextHeader: 6 });
const small = ipv4(udp(Buffer.from('hi'), { sport: 5060, dport: 5060 }), { src: '10.0.0.1', dst: '10.0.0.2', proto: 17 });
// an Ethernet frame padded to the 60-byte minimum: the padding is not UDP payload
const padded = Buffer.concat([ethernet(small), Buffer.alloc(60 - 14 - small.length, 0xee)]);

/** [link type, frame] for every link layer the decoder reads. */
const FRAMES: [number, Buffer][] = [
  [1, ethernet(v4)],
  [1, ethernet(v6, { vlans: [100] })],
  [1, padded],
  [113, sll(v4)],
  [276, sll2(v6)],
  [101, v4],
  [12, v6],
  [228, v4],
  [229, v6],
  [0, loopback(v4)],
  [108, loopback(v6, { openbsd: true })],
  [129, Buffer.concat([Buffer.from([0x01, 0x02, 0x00, 0x00, 0xf0]), v4])], // ARCNET Linux, RFC 1051
  [7, Buffer.concat([Buffer.from([0x01, 0x02, 0xc4, 0x00, 0x00, 0x01]), v6])], // ARCNET BSD, RFC 1201 IPv6
];

function brief(d: DecodedPacket | null) {
  if (!d) return null;
  return { frame: d.frame, ip: d.ipVersion, src: d.src, dst: d.dst, transport: d.transport, sport: d.srcPort, dport: d.dstPort, payload: d.payload.toString('latin1'), missing: d.missingBytes, seq: d.tcp?.seq ?? null };
}

/** Parses the file in chunks of `chunk` bytes; decodes each record in place and, separately, from a copy. */
function decodeBoth(file: Buffer, chunk: number) {
  const inPlace = new Decoder({ limits: DEFAULT_LIMITS, onProblem: () => {} });
  const copied = new Decoder({ limits: DEFAULT_LIMITS, onProblem: () => {} });
  const a: unknown[] = [];
  const b: unknown[] = [];
  const p = new CaptureParser({
    input: 0,
    firstFrame: 1,
    onPacket: (r) => {
      assert.ok(r instanceof PacketRecord);
      a.push(brief(inPlace.decode(r)));
      const copy: RawPacket = { frame: r.frame, input: r.input, time: r.time, linkType: r.linkType, capLen: r.capLen, origLen: r.origLen, data: Buffer.from(r.data) };
      assert.equal(copy.data.length, r.capLen);
      b.push(brief(copied.decode(copy)));
    },
    onProblem: (x) => assert.equal(x.code, 'capture.snaplen', x.message),
  });
  for (let i = 0; i < file.length; i += chunk) p.push(file.subarray(i, i + chunk));
  p.end();
  return { a, b };
}

const EXPECT_V4 = { ip: 4, src: '192.0.2.10', dst: '198.51.100.7', transport: 'tcp', sport: 40000, dport: 80, payload: HELLO.toString(), missing: 0, seq: 1000 };
const EXPECT_V6 = { ...EXPECT_V4, ip: 6, src: '2001:db8::10', dst: '2001:db8::7' };
const EXPECT_UDP = { ip: 4, src: '10.0.0.1', dst: '10.0.0.2', transport: 'udp', sport: 5060, dport: 5060, payload: 'hi', missing: 0, seq: null };

test('pcapng with one interface per link type: records decoded in place match decoding a copy', () => {
  const w = new PcapngBuilder().section();
  FRAMES.forEach(([lt], i) => assert.equal(w.interface({ linkType: lt }), i));
  FRAMES.forEach(([, data], i) => w.epb({ time: 1_700_000_000 + i, data, iface: i }));
  const file = w.toBuffer();
  for (const chunk of [file.length, 1 << 20, 7, 64]) {
    const { a, b } = decodeBoth(file, chunk);
    assert.deepEqual(a, b, `chunk ${chunk}`);
    assert.equal(a.length, FRAMES.length);
    const want = FRAMES.map(([, data], i) => ({ frame: i + 1, ...(data === padded ? EXPECT_UDP : data.includes(v6) ? EXPECT_V6 : EXPECT_V4) }));
    assert.deepEqual(a, want, `chunk ${chunk}`);
  }
});

test('classic pcap: back-to-back records, snap-length cut, padding: in place equals a copy', () => {
  const cut = ethernet(v4).subarray(0, 14 + 20 + 20 + 5); // headers and 5 payload bytes captured
  const file = writePcap(
    [
      { time: 1, data: ethernet(v4) },
      { time: 2, data: padded },
      { time: 3, data: cut, origLen: ethernet(v4).length },
      { time: 4, data: ethernet(v6) },
    ],
    { linkType: 1, snaplen: 65535 },
  );
  for (const chunk of [file.length, 5, 33]) {
    const { a, b } = decodeBoth(file, chunk);
    assert.deepEqual(a, b, `chunk ${chunk}`);
    assert.deepEqual(a, [
      { frame: 1, ...EXPECT_V4 },
      { frame: 2, ...EXPECT_UDP },
      { frame: 3, ...EXPECT_V4, payload: HELLO.subarray(0, 5).toString(), missing: HELLO.length - 5 },
      { frame: 4, ...EXPECT_V6 },
    ]);
  }
});
