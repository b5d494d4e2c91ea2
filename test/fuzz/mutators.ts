// Seeded mutators at every layer of a capture below the application protocols: the pcap global and
// record headers, pcapng blocks/options/sections, Ethernet/VLAN, IPv4 (header, fragments), IPv6
// (header, extension chains), TCP (header, options, sequence numbers), UDP, frame cuts and order,
// timestamps, and generic byte flips, truncations, splices and gzip damage. The application layer
// (HTTP, SIP, TLS) is in scenarios.ts. Every mutator is a pure function of its Rng and its input.

import { gzipSync } from 'node:zlib';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { ipv4, ethernet, udp } from '../lib/packets.js';
import type { Rng } from './rng.js';
import { isGzip, type Container } from './bases.js';

export interface FileMutator {
  name: string;
  weight: number;
  /** Which containers it understands (it gets the uncompressed bytes; gzip is re-applied after). */
  accepts(c: Container): boolean;
  apply(r: Rng, b: Buffer, c: Container, other: () => Buffer): Buffer;
}

export interface PacketMutator {
  name: string;
  weight: number;
  /** Bases it needs (default: any). */
  bases?: string[];
  apply(r: Rng, p: WrittenPacket[]): WrittenPacket[];
}

// ---------------------------------------------------------------- helpers

const u32s = [0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 15, 16, 20, 0x7fff, 0xffff, 0x10000, 0x40000, 0x40001, 0x1000000, 0x1001000, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

function interesting(r: Rng, near?: number): number {
  const x = r.int(4);
  if (x === 0 && near !== undefined) return (near + r.pick([-1, 1, -4, 4, 2, -2, 16, -16])) >>> 0;
  if (x === 1) return r.u32();
  return r.pick(u32s);
}

function w32(b: Buffer, off: number, v: number, le: boolean): void {
  if (off + 4 > b.length) return;
  if (le) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}

function w16(b: Buffer, off: number, v: number, le: boolean): void {
  if (off + 2 > b.length) return;
  if (le) b.writeUInt16LE(v & 0xffff, off);
  else b.writeUInt16BE(v & 0xffff, off);
}

function pcapLE(b: Buffer): boolean {
  const m = b.readUInt32LE(0);
  return m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xa1b2cd34;
}

/** Offsets of the records of a well-formed classic pcap. */
export function pcapRecords(b: Buffer): number[] {
  const le = pcapLE(b);
  const out: number[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    out.push(o);
    o += 16 + (le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8));
  }
  return out;
}

export interface BlockRef {
  off: number;
  len: number;
  type: number;
  le: boolean;
}

/** Blocks of a well-formed pcapng file. */
export function pcapngBlocks(b: Buffer): BlockRef[] {
  const out: BlockRef[] = [];
  let le = true;
  for (let o = 0; o + 12 <= b.length; ) {
    if (b.readUInt32LE(o) === 0x0a0d0d0a) le = b.readUInt32LE(o + 8) === 0x1a2b3c4d;
    const type = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
    const len = le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
    if (len < 12) break;
    out.push({ off: o, len, type, le });
    o += len;
  }
  return out;
}

function block(type: number, body: Buffer, le = true, lenOverride?: number, trailerOverride?: number): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const len = 12 + body.length + pad.length;
  const h = Buffer.alloc(8);
  const t = Buffer.alloc(4);
  w32(h, 0, type, le);
  w32(h, 4, lenOverride ?? len, le);
  w32(t, 0, trailerOverride ?? lenOverride ?? len, le);
  return Buffer.concat([h, body, pad, t]);
}

function option(code: number, val: Buffer, le = true, lenOverride?: number): Buffer {
  const h = Buffer.alloc(4);
  w16(h, 0, code, le);
  w16(h, 2, lenOverride ?? val.length, le);
  return Buffer.concat([h, val, Buffer.alloc((4 - (val.length % 4)) % 4)]);
}

function clone(p: WrittenPacket[]): WrittenPacket[] {
  return p.map((x) => ({ ...x, data: Buffer.from(x.data) }));
}

export interface Loc {
  l3: number;
  v: 4 | 6;
  /** Offset of the ethertype field that announced the IP layer. */
  etherType: number;
  l4: number;
  proto: number;
  /** Start of the transport payload (TCP/UDP only; else l4). */
  payload: number;
}

/** Where the layers of an Ethernet frame start (the bases are all Ethernet). */
export function locate(d: Buffer): Loc | null {
  if (d.length < 14) return null;
  let et = 12;
  let type = d.readUInt16BE(et);
  while ((type === 0x8100 || type === 0x88a8) && et + 6 <= d.length) {
    et += 4;
    type = d.readUInt16BE(et);
  }
  const l3 = et + 2;
  let v: 4 | 6;
  let l4: number;
  let proto: number;
  if (type === 0x0800 && l3 + 20 <= d.length) {
    v = 4;
    l4 = l3 + (d[l3] & 15) * 4;
    proto = d[l3 + 9];
  } else if (type === 0x86dd && l3 + 40 <= d.length) {
    v = 6;
    l4 = l3 + 40;
    proto = d[l3 + 6];
  } else return null;
  let payload = l4;
  if (proto === 6 && l4 + 20 <= d.length) payload = l4 + (d[l4 + 12] >> 4) * 4;
  else if (proto === 17) payload = l4 + 8;
  return { l3, v, etherType: et, l4, proto, payload };
}

function pickWhere(r: Rng, p: WrittenPacket[], ok: (l: Loc, d: Buffer) => boolean): number[] {
  const idx: number[] = [];
  p.forEach((x, i) => {
    const l = locate(x.data);
    if (l && ok(l, x.data)) idx.push(i);
  });
  if (idx.length === 0) return [];
  const n = r.chance(0.7) ? 1 : r.range(1, Math.min(idx.length, 8));
  const out = new Set<number>();
  while (out.size < n) out.add(r.pick(idx));
  return [...out];
}

const ip4 = (d: Buffer, o: number) => `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;

// ---------------------------------------------------------------- file level: classic pcap

const LINK_TYPES = [0, 1, 7, 12, 14, 101, 105, 108, 113, 127, 129, 147, 189, 192, 220, 228, 229, 276, 0xffff, 0x3ffffff, 0xffffffff];
const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1, 0x0a0d0d0a, 0x1f8b0800, 0, 0xa1b2c3d5];

const isPcap = (c: Container) => c === 'pcap' || c === 'pcap-be' || c === 'pcap-ns' || c === 'pcap.gz';
const isPcapng = (c: Container) => c.startsWith('pcapng');

export const FILE_MUTATORS: FileMutator[] = [
  {
    name: 'pcap.global-header',
    weight: 3,
    accepts: isPcap,
    apply(r, b) {
      const le = pcapLE(b);
      const f = r.int(5);
      if (f === 0) b.writeUInt32BE(r.pick(PCAP_MAGICS) >>> 0, 0);
      else if (f === 1) {
        w16(b, 4, r.pick([0, 1, 2, 3, 543, 0xffff, r.int(0x10000)]), le);
        w16(b, 6, r.pick([0, 1, 2, 3, 4, 5, 0xffff, r.int(0x10000)]), le);
      } else if (f === 2) w32(b, 16, interesting(r, 262144), le);
      else if (f === 3) w32(b, 20, r.chance(0.8) ? r.pick(LINK_TYPES) : r.u32(), le);
      else {
        w32(b, 8, r.u32(), le);
        w32(b, 12, r.u32(), le);
      }
      return b;
    },
  },
  {
    name: 'pcap.record-header',
    weight: 6,
    accepts: isPcap,
    apply(r, b) {
      const le = pcapLE(b);
      const recs = pcapRecords(b);
      if (!recs.length) return b;
      const n = r.chance(0.8) ? 1 : r.range(2, 5);
      for (let k = 0; k < n; k++) {
        const o = r.chance(0.3) ? recs[recs.length - 1] : r.pick(recs);
        const cap = le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8);
        const remaining = b.length - o - 16;
        const v = r.pick([0, 1, cap - 1, cap + 1, remaining, remaining + 1, remaining - 1, 262144, 262145, 0x1000000, 0x1000001, 0x7fffffff, 0xffffffff, r.u32(), r.int(2000)]);
        switch (r.int(5)) {
          case 0: w32(b, o + 8, v, le); break; // caplen
          case 1: w32(b, o + 12, v, le); break; // origlen
          case 2: w32(b, o + 8, v, le); w32(b, o + 12, v, le); break;
          case 3: w32(b, o + 4, r.pick([999999, 1000000, 999999999, 1000000000, 0xffffffff]), le); break; // fraction
          default: w32(b, o, r.pick([0, 0x7fffffff, 0x80000000, 0xffffffff]), le); break; // seconds
        }
      }
      return b;
    },
  },
  // ---------------------------------------------------------------- pcapng
  {
    name: 'pcapng.block-length',
    weight: 5,
    accepts: isPcapng,
    apply(r, b) {
      const blocks = pcapngBlocks(b);
      if (!blocks.length) return b;
      const k = r.chance(0.2) ? blocks[0] : r.pick(blocks);
      const v = r.pick([0, 4, 8, 11, 12, 13, 16, 28, k.len - 4, k.len + 4, k.len + 1, k.len - 1, k.len * 2, 0x1001000, 0x1001004, 0xfffffff0, 0xfffffffc, r.u32()]) >>> 0;
      const which = r.int(3);
      if (which !== 1) w32(b, k.off + 4, v, k.le);
      if (which !== 0) w32(b, k.off + k.len - 4, v, k.le);
      return b;
    },
  },
  {
    name: 'pcapng.block-type',
    weight: 3,
    accepts: isPcapng,
    apply(r, b) {
      const blocks = pcapngBlocks(b);
      if (blocks.length < 2) return b;
      const k = blocks[1 + r.int(blocks.length - 1)];
      w32(b, k.off, r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x0a0d0d0a, 0x0a0d0d0b, 0x40000bad, 0x80000001, 0xffffffff, r.u32()]), k.le);
      return b;
    },
  },
  {
    name: 'pcapng.section-header',
    weight: 3,
    accepts: isPcapng,
    apply(r, b) {
      const k = pcapngBlocks(b)[0];
      if (!k) return b;
      switch (r.int(4)) {
        case 0: w16(b, k.off + 12, r.pick([0, 2, 3, 0xffff, r.int(0x10000)]), k.le); break;
        case 1: w16(b, k.off + 14, r.int(0x10000), k.le); break;
        case 2: b.writeUInt32LE(r.pick([0, 0x1a2b3c4e, 0x4d3c2b1a, r.u32()]) >>> 0, k.off + 8); break;
        default: w32(b, k.off + 16, r.u32(), k.le); w32(b, k.off + 20, r.u32(), k.le); break; // section length
      }
      return b;
    },
  },
  {
    name: 'pcapng.interface-options',
    weight: 5,
    accepts: isPcapng,
    apply(r, b) {
      // Replace the first IDB by one with hostile options, link type and snap length.
      const blocks = pcapngBlocks(b);
      const idb = blocks.find((x) => x.type === 1);
      if (!idb) return b;
      const le = idb.le;
      const opts: Buffer[] = [];
      const n = r.pick([0, 1, 2, 5, 50, 2000]);
      for (let i = 0; i < n; i++) {
        const code = r.pick([2, 3, 9, 9, 9, 14, 14, 11, 12, 0x8000, 0xffff, r.int(0x10000)]);
        let val: Buffer;
        if (code === 9) val = Buffer.from([r.pick([0, 1, 3, 6, 9, 10, 19, 20, 63, 100, 0x7f, 0x80, 0x80 | 63, 0xff])]);
        else if (code === 14) {
          val = Buffer.alloc(r.pick([8, 8, 4, 0]));
          if (val.length === 8) val.writeBigInt64LE(r.pick([0n, -1n, 1n << 62n, -(1n << 62n), 9223372036854775807n, BigInt(r.u32())]));
        } else val = r.bytes(r.pick([0, 1, 3, 8, 255, 4000]));
        opts.push(option(code, val, le, r.chance(0.1) ? r.pick([0xffff, val.length + 4, val.length + 100]) : undefined));
      }
      if (r.chance(0.7)) opts.push(option(0, Buffer.alloc(0), le));
      const head = Buffer.alloc(8);
      w16(head, 0, r.chance(0.7) ? 1 : r.pick(LINK_TYPES), le);
      w32(head, 4, r.chance(0.6) ? 262144 : interesting(r), le);
      const nb = block(1, Buffer.concat([head, ...opts]), le);
      return Buffer.concat([b.subarray(0, idb.off), nb, b.subarray(idb.off + idb.len)]);
    },
  },
  {
    name: 'pcapng.packet-fields',
    weight: 4,
    accepts: isPcapng,
    apply(r, b) {
      const epbs = pcapngBlocks(b).filter((x) => x.type === 6);
      if (!epbs.length) return b;
      for (let i = r.chance(0.7) ? 1 : 4; i > 0; i--) {
        const k = r.pick(epbs);
        const cap = k.le ? b.readUInt32LE(k.off + 20) : b.readUInt32BE(k.off + 20);
        switch (r.int(5)) {
          case 0: w32(b, k.off + 8, r.pick([1, 2, 0xffff, 0xffffffff]), k.le); break; // interface id
          case 1: w32(b, k.off + 12, r.u32(), k.le); w32(b, k.off + 16, r.u32(), k.le); break; // timestamp
          case 2: w32(b, k.off + 20, interesting(r, cap), k.le); break; // captured length
          case 3: w32(b, k.off + 24, interesting(r, cap), k.le); break; // original length
          default: w32(b, k.off + 12, 0xffffffff, k.le); w32(b, k.off + 16, 0xffffffff, k.le); break;
        }
      }
      return b;
    },
  },
  {
    name: 'pcapng.extra-blocks',
    weight: 4,
    accepts: isPcapng,
    apply(r, b) {
      const blocks = pcapngBlocks(b);
      if (blocks.length < 2) return b;
      const le = blocks[0].le;
      const extra: Buffer[] = [];
      const count = r.pick([1, 1, 3, 10, 3000]);
      for (let i = count; i > 0; i--) {
        const kind = r.int(8);
        if (kind === 0) {
          // simple packet block: original length vs block size games
          const data = r.bytes(r.pick([0, 14, 60, 200]));
          const h = Buffer.alloc(4);
          w32(h, 0, r.chance(0.5) ? data.length : interesting(r, data.length), le);
          extra.push(block(3, Buffer.concat([h, data]), le));
        } else if (kind === 1) {
          // obsolete packet block
          const body = Buffer.alloc(20);
          w16(body, 0, r.pick([0, 1, 9]), le);
          w32(body, 12, r.pick([0, 10, 0xffffffff]), le);
          w32(body, 16, r.pick([0, 10, 0xffffffff]), le);
          extra.push(block(2, Buffer.concat([body, r.bytes(r.pick([0, 10, 64]))]), le));
        } else if (kind === 2) {
          // decryption secrets block with a hostile key log
          const text = Buffer.from(
            r.pick([
              'CLIENT_RANDOM zz zz\n',
              'CLIENT_RANDOM ' + '00'.repeat(32) + ' ' + 'ab'.repeat(48) + '\n',
              '\u0000\u00ff'.repeat(100),
              ...(count < 10 ? ['SERVER_HANDSHAKE_TRAFFIC_SECRET ' + 'a'.repeat(100000) + '\n', 'CLIENT_RANDOM\n'.repeat(5000)] : []),
            ]),
            'latin1',
          );
          const h = Buffer.alloc(8);
          w32(h, 0, r.chance(0.8) ? 0x544c534b : r.u32(), le);
          w32(h, 4, r.chance(0.8) ? text.length : interesting(r, text.length), le);
          extra.push(block(10, Buffer.concat([h, text]), le));
        } else if (kind === 3) {
          // another interface (possibly of an unknown link type)
          const h = Buffer.alloc(8);
          w16(h, 0, r.pick(LINK_TYPES), le);
          w32(h, 4, interesting(r), le);
          extra.push(block(1, h, le));
        } else if (kind === 4) {
          extra.push(block(r.pick([4, 5, 7, 0x40000bad, 0x80000001, r.u32()]), r.bytes(r.int(64)), le));
        } else if (kind === 5) {
          // a block whose length fields disagree
          extra.push(block(6, r.bytes(40), le, undefined, r.u32()));
        } else if (kind === 6) {
          // EPB on an interface that does not exist, or with a length beyond its block
          const body = Buffer.alloc(20);
          w32(body, 0, r.pick([0, 1, 7, 0xffffffff]), le);
          w32(body, 12, r.pick([0, 14, 100, 0xffffffff]), le);
          w32(body, 16, r.pick([0, 14, 100, 0xffffffff]), le);
          extra.push(block(6, Buffer.concat([body, r.bytes(r.pick([0, 14, 60]))]), le));
        } else {
          extra.push(block(0, Buffer.alloc(0), le));
        }
      }
      const at = blocks[1 + r.int(blocks.length - 1)].off;
      return Buffer.concat([b.subarray(0, at), ...extra, b.subarray(at)]);
    },
  },
  {
    name: 'pcapng.sections',
    weight: 3,
    accepts: isPcapng,
    apply(r, b, _c, other) {
      // A second (or third) section, possibly of the other byte order, possibly a bad version.
      const o = other();
      const blocks = pcapngBlocks(b);
      const cut = r.chance(0.5) || blocks.length < 3 ? b.length : blocks[1 + r.int(blocks.length - 1)].off;
      const parts = [b.subarray(0, cut)];
      if (o.length >= 28 && o.readUInt32LE(0) === 0x0a0d0d0a) {
        const ob = Buffer.from(o);
        if (r.chance(0.3)) {
          const k = pcapngBlocks(ob)[0];
          if (k) w16(ob, k.off + 12, r.pick([0, 2, 0xffff]), k.le);
        }
        parts.push(ob);
      } else parts.push(o);
      parts.push(b.subarray(cut));
      return Buffer.concat(parts);
    },
  },
  // ---------------------------------------------------------------- any container
  {
    name: 'bytes.flip',
    weight: 8,
    accepts: () => true,
    apply(r, b) {
      const n = r.pick([1, 1, 2, 4, 16, 64]);
      const headerBias = r.chance(0.3);
      for (let i = 0; i < n; i++) {
        const at = headerBias ? r.int(Math.min(b.length, 120)) : r.int(b.length);
        if (r.chance(0.5)) b[at] ^= 1 << r.int(8);
        else b[at] = r.pick([0, 0xff, 0x7f, 0x80, r.int(256)]);
      }
      return b;
    },
  },
  {
    name: 'bytes.truncate',
    weight: 5,
    accepts: () => true,
    apply(r, b) {
      const at = r.chance(0.2) ? r.int(Math.min(b.length, 64)) : r.int(b.length);
      return b.subarray(0, at);
    },
  },
  {
    name: 'bytes.splice',
    weight: 5,
    accepts: () => true,
    apply(r, b, _c, other) {
      const a = r.int(b.length);
      switch (r.int(4)) {
        case 0: {
          const o = other();
          const s = r.int(o.length);
          return Buffer.concat([b.subarray(0, a), o.subarray(s, s + r.int(4000)), b.subarray(a)]);
        }
        case 1: {
          const s = r.int(b.length);
          return Buffer.concat([b.subarray(0, a), b.subarray(s, s + r.int(3000)), b.subarray(a)]);
        }
        case 2:
          return Buffer.concat([b.subarray(0, a), b.subarray(a + r.int(2000))]);
        default:
          return Buffer.concat([b, other()]);
      }
    },
  },
  {
    name: 'bytes.fill',
    weight: 3,
    accepts: () => true,
    apply(r, b) {
      const a = r.int(b.length);
      b.fill(r.pick([0, 0xff, 0x41]), a, Math.min(b.length, a + r.int(2000)));
      return b;
    },
  },
];

/** Damages the compressed stream itself (the case is always written gzip-compressed). */
export const GZIP_DAMAGE: FileMutator = {
  name: 'gzip.damage',
  weight: 4,
  accepts: () => true,
  apply(r, raw, c) {
    const z = isGzip(c) ? raw : gzipSync(raw);
    const b = Buffer.from(z);
    switch (r.int(6)) {
      case 0: return b.subarray(0, r.int(b.length)); // cut
      case 1: for (let i = r.range(1, 8); i > 0; i--) b[10 + r.int(b.length - 10)] ^= 1 << r.int(8); return b; // corrupt
      case 2: return Buffer.concat([b, r.bytes(r.int(100))]); // trailing junk
      case 3: return Buffer.concat([b, b]); // two members
      case 4: b.writeUInt32LE(r.u32() >>> 0, b.length - 8); return b; // bad CRC
      default: return gzipSync(b); // gzip of gzip
    }
  },
};

// ---------------------------------------------------------------- packet level

export const PACKET_MUTATORS: PacketMutator[] = [
  {
    name: 'eth.type',
    weight: 3,
    apply(r, p) {
      for (const i of pickWhere(r, p, () => true)) {
        const l = locate(p[i].data)!;
        p[i].data.writeUInt16BE(r.pick([0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0806, 0x8847, 0x8864, 0x05ff, 0x0600, 0, 0xffff, r.int(0x10000)]), l.etherType);
      }
      return p;
    },
  },
  {
    name: 'eth.vlan-stack',
    weight: 2,
    apply(r, p) {
      const n = r.pick([1, 2, 3, 64, 5000]);
      for (const i of pickWhere(r, p, () => true)) {
        const d = p[i].data;
        const tags = Buffer.alloc(4 * n);
        for (let k = 0; k < n; k++) tags.writeUInt32BE((((r.chance(0.5) ? 0x8100 : 0x88a8) << 16) | r.int(4096)) >>> 0, 4 * k);
        const cut = r.chance(0.2) ? r.int(tags.length) : tags.length;
        p[i] = { ...p[i], data: Buffer.concat([d.subarray(0, 12), tags.subarray(0, cut), d.subarray(12)]) };
      }
      return p;
    },
  },
  {
    name: 'ipv4.header',
    weight: 5,
    apply(r, p) {
      for (const i of pickWhere(r, p, (l) => l.v === 4)) {
        const d = p[i].data;
        const l = locate(d)!;
        const o = l.l3;
        switch (r.int(6)) {
          case 0: d[o] = (d[o] & 0xf0) | r.int(16); break; // IHL
          case 1: d[o] = (r.pick([0, 4, 5, 6, 15]) << 4) | (d[o] & 15); break; // version
          case 2: d.writeUInt16BE(r.pick([0, 1, 19, 20, 21, 39, 40, d.length - o - 1, d.length - o + 1, 65535, r.int(65536)]) & 0xffff, o + 2); break;
          case 3: d[o + 9] = r.pick([0, 1, 4, 6, 17, 41, 47, 50, 58, 132, 255]); break; // protocol
          case 4: d.writeUInt16BE(r.int(65536), o + 6); break; // flags + fragment offset
          default: d.writeUInt16BE(r.int(65536), o + 10); break; // checksum
        }
      }
      return p;
    },
  },
  {
    name: 'ipv4.fragments',
    weight: 5,
    apply(r, p) {
      const idx = pickWhere(r, p, (l, d) => l.v === 4 && d.length - l.l4 >= 24);
      // Replace each picked packet by a fragment train with overlaps, holes, duplicates or lies.
      for (const i of idx.sort((a, b) => b - a)) {
        const d = p[i].data;
        const l = locate(d)!;
        const src = ip4(d, l.l3 + 12);
        const dst = ip4(d, l.l3 + 16);
        const payload = d.subarray(l.l4);
        const id = r.int(65536);
        const step = 8 * r.range(1, Math.max(1, Math.floor(payload.length / 8)));
        const frags: { off: number; len: number; mf: boolean }[] = [];
        for (let off = 0; off < payload.length; off += step) frags.push({ off, len: Math.min(step, payload.length - off), mf: off + step < payload.length });
        const game = r.int(7);
        if (game === 0 && frags.length > 1) frags.splice(1 + r.int(frags.length - 1), 1); // a hole
        else if (game === 1) frags.push({ ...r.pick(frags) }); // duplicate
        else if (game === 2) frags.push({ off: Math.max(0, r.pick(frags).off - 8), len: 16, mf: true }); // overlap
        else if (game === 3) frags[frags.length - 1].mf = true; // never ends
        else if (game === 4) frags.push({ off: 65528, len: r.pick([8, 100, 1000]), mf: false }); // past 64 KiB
        else if (game === 5) frags.reverse();
        else frags.push({ off: 0, len: 0, mf: true }); // empty fragment
        const out: WrittenPacket[] = frags.map((f) => {
          const piece = Buffer.alloc(f.len);
          payload.subarray(f.off, f.off + f.len).copy(piece);
          if (r.chance(0.1)) piece.fill(0x5a);
          return { time: p[i].time, data: ethernet(ipv4(piece, { src, dst, proto: l.proto, id, mf: f.mf, fragOffset: f.off })) };
        });
        p.splice(i, 1, ...out);
      }
      return p;
    },
  },
  {
    name: 'ipv4.fragment-flood',
    weight: 2,
    apply(r, p) {
      // Many first fragments that never complete: the fragment-train limit must hold them.
      const n = r.pick([100, 1000, 5000]);
      const t = p.length ? p[p.length - 1].time : 0;
      for (let k = 0; k < n; k++) {
        const frag = ipv4(udp(r.bytes(8), { sport: 5060, dport: 5060 }), { src: `10.${k >> 8 & 255}.${k & 255}.1`, dst: '203.0.113.5', proto: 17, id: k & 0xffff, mf: true });
        p.push({ time: t, data: ethernet(frag) });
      }
      return p;
    },
  },
  {
    name: 'ipv6.header',
    weight: 3,
    bases: ['ipv6-basic', 'mixed'],
    apply(r, p) {
      for (const i of pickWhere(r, p, (l) => l.v === 6)) {
        const d = p[i].data;
        const l = locate(d)!;
        if (r.chance(0.5)) d.writeUInt16BE(r.pick([0, 1, 7, 8, 19, 20, d.length - l.l4 - 1, d.length - l.l4 + 1, 65535, r.int(65536)]) & 0xffff, l.l3 + 4);
        else d[l.l3 + 6] = r.pick([0, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 135, 139, 140, 253, 255]);
      }
      return p;
    },
  },
  {
    name: 'ipv6.extension-chain',
    weight: 4,
    bases: ['ipv6-basic', 'mixed'],
    apply(r, p) {
      for (const i of pickWhere(r, p, (l) => l.v === 6)) {
        const d = p[i].data;
        const l = locate(d)!;
        const n = r.pick([1, 2, 3, 10, 1000]);
        const first = d[l.l3 + 6];
        const types = Array.from({ length: n }, () => r.pick([0, 0, 43, 44, 60, 51, 135, 139, 140, 253]));
        const exts: Buffer[] = [];
        for (let k = 0; k < n; k++) {
          const next = k + 1 < n ? types[k + 1] : r.chance(0.9) ? first : r.pick([0, 44, 59, 255]);
          const e = Buffer.alloc(8);
          e[0] = next;
          if (types[k] === 44) {
            e.writeUInt16BE(r.chance(0.5) ? 0 : (r.int(8192) << 3) | r.int(2), 2); // offset, M flag
            e.writeUInt32BE(r.u32(), 4);
          } else if (types[k] === 51) e[1] = r.pick([0, 1, 255]);
          else e[1] = r.chance(0.8) ? 0 : r.pick([1, 255]); // length in 8-byte units beyond the first 8
          exts.push(e);
        }
        d[l.l3 + 6] = types[0];
        const ext = Buffer.concat(exts);
        const nd = Buffer.concat([d.subarray(0, l.l4), ext, d.subarray(l.l4)]);
        if (r.chance(0.8)) nd.writeUInt16BE(Math.min(0xffff, nd.length - l.l4), l.l3 + 4);
        p[i] = { ...p[i], data: nd };
      }
      return p;
    },
  },
  {
    name: 'tcp.header',
    weight: 5,
    apply(r, p) {
      for (const i of pickWhere(r, p, (l) => l.proto === 6)) {
        const d = p[i].data;
        const l = locate(d)!;
        const o = l.l4;
        if (o + 20 > d.length) continue;
        switch (r.int(5)) {
          case 0: d[o + 12] = (r.int(16) << 4) | (d[o + 12] & 15); break; // data offset
          case 1: d[o + 13] = r.pick([0, 0xff, 0x02 | 0x01, 0x02 | 0x04, 0x01 | 0x04, 0x02 | 0x10 | 0x01, r.int(256)]); break; // flags
          case 2: d.writeUInt16BE(r.pick([0, 1, 65535]), o + 14); break; // window
          case 3: d.writeUInt16BE(r.pick([0, 1, 80, 443, 5060, 65535]), r.chance(0.5) ? o : o + 2); break; // ports
          default: {
            // hostile options: zero-length options (a naive loop never advances), lengths past the end
            const opts = r.pick([
              Buffer.from([2, 0, 5, 0xb4]), Buffer.from([3, 0, 14, 1]), Buffer.from([2, 1, 5, 1]), Buffer.from([8, 255, 0, 0]),
              Buffer.from([3, 3, 255, 0]), Buffer.from([2, 4, 0, 0]), Buffer.from([1, 1, 1, 2]), Buffer.from([5, 2, 0, 0]),
              Buffer.from([4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 3, 3, 14, 0, 0, 0]), r.bytes(4 * r.range(1, 10)),
            ]);
            const nd = Buffer.concat([d.subarray(0, o + 20), opts, d.subarray(l.payload)]);
            nd[o + 12] = (Math.min(15, 5 + opts.length / 4) << 4) | (nd[o + 12] & 15);
            if (l.v === 4) nd.writeUInt16BE(Math.min(0xffff, nd.length - l.l3), l.l3 + 2);
            else nd.writeUInt16BE(Math.min(0xffff, nd.length - l.l4), l.l3 + 4);
            p[i] = { ...p[i], data: nd };
          }
        }
      }
      return p;
    },
  },
  {
    name: 'tcp.sequence',
    weight: 8,
    apply(r, p) {
      const tcps = p.map((x, i) => ({ i, l: locate(x.data) })).filter((x) => x.l && x.l.proto === 6 && x.l.l4 + 20 <= p[x.i].data.length);
      if (!tcps.length) return p;
      const game = r.int(7);
      if (game === 0 || game === 1) {
        // rebase one direction's sequence space: random, or just below the 2^32 wrap
        const { i, l } = r.pick(tcps);
        const port = p[i].data.readUInt16BE(l!.l4);
        const seq0 = p[i].data.readUInt32BE(l!.l4 + 4);
        const delta = game === 0 ? r.u32() : (0x100000000 - seq0 - r.int(3000)) >>> 0;
        for (const t of tcps) {
          const d = p[t.i].data;
          const o = t.l!.l4;
          if (d.readUInt16BE(o) === port) d.writeUInt32BE((d.readUInt32BE(o + 4) + delta) >>> 0, o + 4);
          if (d.readUInt16BE(o + 2) === port && d[o + 13] & 0x10) d.writeUInt32BE((d.readUInt32BE(o + 8) + delta) >>> 0, o + 8);
        }
      } else if (game === 2) {
        // a jump in one segment
        const { i, l } = r.pick(tcps);
        const d = p[i].data;
        d.writeUInt32BE((d.readUInt32BE(l!.l4 + 4) + r.pick([1, -1, 1000, -1000, 0x40000000, 0x80000000, 0x7fffffff, r.u32()])) >>> 0, l!.l4 + 4);
      } else if (game === 3) {
        // duplicates (retransmissions), some with different bytes at the same sequence numbers
        for (let k = r.range(1, 10); k > 0; k--) {
          const { i, l } = r.pick(tcps);
          const copy = Buffer.from(p[i].data);
          if (r.chance(0.5)) for (let j = l!.payload; j < copy.length; j++) copy[j] ^= 0x20;
          p.splice(i + r.range(1, 5), 0, { ...p[i], data: copy });
        }
      } else if (game === 4) {
        // reorder: reverse a window of frames
        const a = r.int(p.length);
        const len = r.range(2, 12);
        const w = p.slice(a, a + len).reverse();
        p.splice(a, w.length, ...w);
      } else if (game === 5) {
        // drop frames: holes in the byte streams
        for (let k = r.range(1, 6); k > 0 && p.length; k--) p.splice(r.int(p.length), 1);
      } else {
        // every segment gets random sequence and acknowledgement numbers
        for (const t of tcps) {
          if (!r.chance(0.5)) continue;
          p[t.i].data.writeUInt32BE(r.u32(), t.l!.l4 + 4);
          p[t.i].data.writeUInt32BE(r.u32(), t.l!.l4 + 8);
        }
      }
      return p;
    },
  },
  {
    name: 'udp.length',
    weight: 3,
    apply(r, p) {
      for (const i of pickWhere(r, p, (l) => l.proto === 17)) {
        const d = p[i].data;
        const l = locate(d)!;
        if (l.l4 + 8 > d.length) continue;
        d.writeUInt16BE(r.pick([0, 1, 7, 8, 9, d.length - l.l4 - 1, d.length - l.l4 + 1, 65535, r.int(65536)]) & 0xffff, l.l4 + 4);
      }
      return p;
    },
  },
  {
    name: 'frame.cut',
    weight: 5,
    apply(r, p) {
      // Frames cut short: by a snap length (origLen kept) or with lengths that agree on the short size.
      const idx = pickWhere(r, p, () => true);
      const snap = r.chance(0.3) ? r.pick([14, 34, 54, 60, 68, 96, 128]) : 0;
      const all = snap ? p.map((_, i) => i) : idx;
      for (const i of all) {
        const d = p[i].data;
        const l = locate(d);
        const at = snap || r.pick([0, 1, 13, 14, l ? l.l3 + 10 : 20, l ? l.l4 + 4 : 30, l ? l.payload + 1 : 40, r.int(d.length + 1)]);
        if (at >= d.length) continue;
        p[i] = { ...p[i], data: d.subarray(0, at), origLen: r.chance(0.7) ? d.length : undefined };
      }
      return p;
    },
  },
  {
    name: 'frame.time',
    weight: 3,
    apply(r, p) {
      const game = r.int(4);
      for (let i = 0; i < p.length; i++) {
        if (game === 0 && r.chance(0.3)) p[i].time = { sec: r.pick([0, 1, 0x7fffffff, 0xffffffff]), nsec: r.pick([0, 999_999_999]) };
        else if (game === 1) p[i].time = p[p.length - 1 - i].time; // backwards
        else if (game === 2) p[i].time = { sec: 0, nsec: 0 }; // all at the epoch
        else if (game === 3 && r.chance(0.2)) p[i].time = { sec: r.u32(), nsec: r.int(1e9) };
      }
      return p;
    },
  },
];

export function clonePackets(p: WrittenPacket[]): WrittenPacket[] {
  return clone(p);
}
