// CaptureParser on byte-exact pcap/pcapng fixtures: formats, byte orders, resolutions, pcapng
// block kinds, chunking, and each kind of damage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapngBuilder, pcapHeader, pcapRecord, writePcap, writePcapng, type WrittenPacket } from '../lib/capture-writer.js';
import { CaptureFormatError, CaptureParser } from '../../src/capture/parser.js';
import { parseBuffer } from './helpers.js';

const A = Buffer.from('aaaaaaaaaaaaaaaaaaaa', 'hex');
const B = Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'hex');
const C = Buffer.from('cccccc', 'hex');

const packets: WrittenPacket[] = [
  { time: { sec: 1_700_000_000, nsec: 123_456_789 }, data: A },
  { time: { sec: 1_700_000_001, nsec: 5_000 }, data: B, origLen: 1500 },
  { time: { sec: 1_700_000_002, nsec: 999_999_999 }, data: C },
];

for (const bigEndian of [false, true]) {
  for (const nanos of [false, true]) {
    test(`classic pcap ${bigEndian ? 'BE' : 'LE'} ${nanos ? 'ns' : 'µs'}: packets, times, lengths, summary`, () => {
      const r = parseBuffer(writePcap(packets, { bigEndian, nanos, linkType: 113 }));
      assert.equal(r.format, 'pcap');
      assert.equal(r.packets.length, 3);
      const fracs = nanos ? [123_456_789, 5_000, 999_999_999] : [123_456_000, 5_000, 999_999_000];
      r.packets.forEach((p, i) => {
        assert.equal(p.frame, i + 1);
        assert.equal(p.linkType, 113);
        assert.deepEqual(p.time, { sec: 1_700_000_000 + i, nsec: fracs[i], digits: nanos ? 9 : 6 });
        assert.deepEqual(p.data, packets[i].data);
      });
      assert.equal(r.packets[1].capLen, B.length);
      assert.equal(r.packets[1].origLen, 1500);
      assert.deepEqual(r.summary.linkTypes, [113]);
      assert.equal(r.summary.packets, 3);
      assert.equal(r.summary.firstTime, nanos ? '2023-11-14T22:13:20.123456789Z' : '2023-11-14T22:13:20.123456Z');
      assert.equal(r.summary.lastTime, nanos ? '2023-11-14T22:13:22.999999999Z' : '2023-11-14T22:13:22.999999Z');
      // one snaplen problem for the cut packet
      assert.deepEqual(r.problems.map((p) => [p.code, p.frame, p.evidence?.packets]), [['capture.snaplen', 2, 1]]);
    });
  }
}

test('classic pcap: every chunk size gives the same result (1 byte at a time included)', () => {
  const file = writePcap(packets, { nanos: true });
  const whole = parseBuffer(file);
  for (const size of [1, 2, 7, 16, 23, 100]) {
    const r = parseBuffer(file, size);
    assert.deepEqual(r.packets, whole.packets, `chunk ${size}`);
    assert.deepEqual(r.problems, whole.problems, `chunk ${size}`);
    assert.equal(r.summary.bytes, file.length);
  }
});

test('frame numbering continues from firstFrame and nextFrame says where the next file starts', () => {
  const r = parseBuffer(writePcap(packets), 1 << 20, 11);
  assert.deepEqual(r.packets.map((p) => p.frame), [11, 12, 13]);
  assert.equal(r.nextFrame, 14);
});

test('modified (Kuznetzov) pcap magic: 24-byte record headers', () => {
  const hdr = pcapHeader({});
  hdr.writeUInt32LE(0xa1b2cd34, 0);
  const rec = (p: WrittenPacket) => {
    const r = pcapRecord({}, p);
    return Buffer.concat([r.subarray(0, 16), Buffer.from([2, 0, 0, 0, 0x08, 0x00, 0, 0]), r.subarray(16)]);
  };
  const r = parseBuffer(Buffer.concat([hdr, ...packets.map(rec)]));
  assert.equal(r.packets.length, 3);
  assert.deepEqual(r.packets[2].data, C);
});

function pcapngFixture(bigEndian: boolean): Buffer {
  const b = new PcapngBuilder().section({ bigEndian });
  b.interface({ linkType: 1, tsresol: 9 });
  b.interface({ linkType: 101, tsresol: 0x80 | 20, tsoffset: 100 });
  b.epb({ time: { sec: 1_700_000_000, nsec: 123_456_789 }, data: A, iface: 0 });
  b.block(0x0bad, Buffer.from('ignored block body'));
  b.epb({ time: { sec: 1_700_000_100, nsec: 250_000_000 }, data: B, iface: 1, origLen: 99 });
  b.spb(C);
  b.block(0x0000000a, Buffer.concat([u32(bigEndian, 0x544c534b), u32(bigEndian, 5), Buffer.from('keys!'), Buffer.alloc(3)]));
  // second section, other byte order: interfaces reset, interface 0 is now link type 0 with µs
  b.section({ bigEndian: !bigEndian });
  b.interface({ linkType: 0 });
  b.epb({ time: { sec: 1_700_000_200, nsec: 7_000 }, data: A });
  return b.toBuffer();
}

function u32(be: boolean, v: number): Buffer {
  const x = Buffer.alloc(4);
  if (be) x.writeUInt32BE(v);
  else x.writeUInt32LE(v);
  return x;
}

for (const bigEndian of [false, true]) {
  test(`pcapng ${bigEndian ? 'BE' : 'LE'}: sections, interfaces, if_tsresol, if_tsoffset, EPB, SPB, unknown block, DSB`, () => {
    const file = pcapngFixture(bigEndian);
    const r = parseBuffer(file);
    assert.equal(r.format, 'pcapng');
    assert.deepEqual(r.packets.map((p) => [p.frame, p.linkType, p.capLen, p.origLen]), [
      [1, 1, A.length, A.length],
      [2, 101, B.length, 99],
      [3, 1, C.length, C.length],
      [4, 0, A.length, A.length],
    ]);
    assert.deepEqual(r.packets[0].time, { sec: 1_700_000_000, nsec: 123_456_789, digits: 9 });
    // 2^-20 resolution with a 100 s offset: 0.25 s is exact
    assert.deepEqual(r.packets[1].time, { sec: 1_700_000_100, nsec: 250_000_000, digits: 9 });
    // SPB has no time stamp: the previous packet's time is used
    assert.deepEqual(r.packets[2].time, r.packets[1].time);
    assert.deepEqual(r.packets[3].time, { sec: 1_700_000_200, nsec: 7_000, digits: 6 });
    assert.deepEqual(r.packets[2].data, C);
    assert.deepEqual(r.secrets, [{ type: 0x544c534b, data: Buffer.from('keys!'), frame: 4 }]);
    assert.deepEqual(r.summary.linkTypes, [1, 101, 0]);
    assert.equal(r.summary.firstTime, '2023-11-14T22:13:20.123456789Z');
    assert.equal(r.summary.lastTime, '2023-11-14T22:16:40.000007Z');
    assert.deepEqual(r.problems.map((p) => p.code), ['capture.snaplen']);
    for (const size of [1, 3, 64]) assert.deepEqual(parseBuffer(file, size).packets, r.packets, `chunk ${size}`);
  });
}

test('pcapng: obsolete Packet Block (type 2) is read', () => {
  const b = new PcapngBuilder().section();
  b.interface({ linkType: 1 });
  const body = Buffer.alloc(20);
  body.writeUInt16LE(0, 0); // interface
  body.writeUInt16LE(0, 2); // drops
  const ticks = 1_700_000_000n * 1_000_000n + 42n;
  body.writeUInt32LE(Number(ticks >> 32n), 4);
  body.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
  body.writeUInt32LE(A.length, 12);
  body.writeUInt32LE(A.length, 16);
  b.block(2, Buffer.concat([body, A]));
  const r = parseBuffer(b.toBuffer());
  assert.equal(r.packets.length, 1);
  assert.deepEqual(r.packets[0].time, { sec: 1_700_000_000, nsec: 42_000, digits: 6 });
  assert.deepEqual(r.packets[0].data, A);
});

test('damage: file ends inside a record header -> capture.truncated, earlier packets kept', () => {
  const file = writePcap(packets);
  const cut = file.subarray(0, file.length - C.length - 10); // 6 bytes of the last record header
  const r = parseBuffer(cut, 5);
  assert.equal(r.packets.length, 2);
  assert.deepEqual(r.problems.map((p) => [p.code, p.frame]), [['capture.truncated', 2], ['capture.snaplen', 2]]);
});

test('damage: file ends inside packet data -> capture.truncated', () => {
  const file = writePcapng(packets);
  const r = parseBuffer(file.subarray(0, file.length - 6));
  assert.equal(r.packets.length, 2);
  assert.equal(r.problems[0].code, 'capture.truncated');
  assert.equal(r.problems[0].frame, 2);
});

test('damage: a bogus record length stops reading at once (megabytes after it are not awaited)', () => {
  const good = writePcap(packets.slice(0, 1));
  const bogus = Buffer.alloc(16);
  bogus.writeUInt32LE(1_700_000_001, 0);
  bogus.writeUInt32LE(0x00ff0000, 8); // 16 MB caplen
  bogus.writeUInt32LE(0x00ff0000, 12);
  const file = Buffer.concat([good, bogus, Buffer.alloc(8 << 20, 0x41)]);
  const started = process.hrtime.bigint();
  const r = parseBuffer(file, 1 << 20);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(r.packets.length, 1);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].code, 'capture.malformed');
  assert.equal(r.problems[0].frame, 1);
  assert.equal(r.problems[0].offset, good.length);
  assert.ok(ms < 1000, `took ${ms} ms`);
});

test('damage: pcapng block lengths that cannot be valid -> capture.malformed', () => {
  const base = writePcapng(packets.slice(0, 1));
  const epb = new PcapngBuilder().section().epb(packets[1]).toBuffer();
  const epbOnly = epb.subarray(28); // skip its own section header (28 bytes)
  const cases: [string, (b: Buffer) => void][] = [
    ['length < 12', (b) => b.writeUInt32LE(8, 4)],
    ['not a multiple of 4', (b) => b.writeUInt32LE(b.readUInt32LE(4) + 2, 4)],
    ['trailing length mismatch', (b) => b.writeUInt32LE(b.readUInt32LE(4) + 4, b.length - 4)],
    ['EPB caplen larger than its block', (b) => b.writeUInt32LE(10_000, 20)],
    ['huge length', (b) => b.writeUInt32LE(0x7ffffff0, 4)],
  ];
  for (const [name, damage] of cases) {
    const bad = Buffer.from(epbOnly);
    damage(bad);
    const r = parseBuffer(Buffer.concat([base, bad, epbOnly]));
    assert.equal(r.packets.length, 1, name);
    assert.deepEqual(r.problems.map((p) => p.code), ['capture.malformed'], name);
  }
});

test('not a capture, and an unknown pcapng section version, throw CaptureFormatError', () => {
  const p = new CaptureParser({ input: 0, firstFrame: 1, onPacket() {}, onProblem() {} });
  assert.throws(() => p.push(Buffer.from('<html><body>')), (e: unknown) => e instanceof CaptureFormatError && /not a pcap or pcapng file \(starts with 3c 68 74 6d\)/.test(e.message));
  const v3 = new PcapngBuilder().section({ major: 3 }).toBuffer();
  const q = new CaptureParser({ input: 0, firstFrame: 1, onPacket() {}, onProblem() {} });
  assert.throws(() => q.push(v3), /unknown pcapng section version 3\.0/);
  const e = new CaptureParser({ input: 0, firstFrame: 1, onPacket() {}, onProblem() {} });
  assert.throws(() => e.end(), CaptureFormatError);
});

test('a header-only pcap has no packets and no times', () => {
  const r = parseBuffer(pcapHeader({ linkType: 1 }));
  assert.equal(r.summary.packets, 0);
  assert.equal(r.summary.firstTime, null);
  assert.deepEqual(r.summary.linkTypes, [1]);
  assert.deepEqual(r.problems, []);
});
