// authcap's own capture writer: classic pcap (both byte orders, µs and ns) and pcapng.
// Used by the tests (byte-exact fixtures), by scripts/make-samples.ts and by the benchmark.

export interface WrittenPacket {
  /** Seconds since the epoch, as a float, or exact parts. */
  time: number | { sec: number; nsec: number };
  data: Buffer;
  /** Length on the wire; defaults to data.length. Larger than data.length = snaplen cut. */
  origLen?: number;
  /** pcapng: interface id (default 0). */
  iface?: number;
}

export function splitTime(t: WrittenPacket['time']): { sec: number; nsec: number } {
  if (typeof t === 'number') {
    const sec = Math.floor(t);
    // round to the microsecond first to avoid float noise, then to ns
    const nsec = Math.round((t - sec) * 1e6) * 1000;
    return nsec >= 1e9 ? { sec: sec + 1, nsec: nsec - 1e9 } : { sec, nsec };
  }
  return t;
}

export interface PcapOptions {
  linkType?: number;
  nanos?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
  versionMajor?: number;
  versionMinor?: number;
}

export function pcapHeader(o: PcapOptions = {}): Buffer {
  const b = Buffer.alloc(24);
  const be = !!o.bigEndian;
  const u32 = (v: number, off: number) => (be ? b.writeUInt32BE(v >>> 0, off) : b.writeUInt32LE(v >>> 0, off));
  const u16 = (v: number, off: number) => (be ? b.writeUInt16BE(v, off) : b.writeUInt16LE(v, off));
  u32(o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(o.versionMajor ?? 2, 4);
  u16(o.versionMinor ?? 4, 6);
  u32(0, 8);
  u32(0, 12);
  u32(o.snaplen ?? 262144, 16);
  u32(o.linkType ?? 1, 20);
  return b;
}

export function pcapRecord(o: PcapOptions, p: WrittenPacket): Buffer {
  const be = !!o.bigEndian;
  const { sec, nsec } = splitTime(p.time);
  const frac = o.nanos ? nsec : Math.floor(nsec / 1000);
  const h = Buffer.alloc(16);
  const u32 = (v: number, off: number) => (be ? h.writeUInt32BE(v >>> 0, off) : h.writeUInt32LE(v >>> 0, off));
  u32(sec, 0);
  u32(frac, 4);
  u32(p.data.length, 8);
  u32(p.origLen ?? p.data.length, 12);
  return Buffer.concat([h, p.data]);
}

/** A whole classic pcap file in memory. */
export function writePcap(packets: WrittenPacket[], o: PcapOptions = {}): Buffer {
  return Buffer.concat([pcapHeader(o), ...packets.map((p) => pcapRecord(o, p))]);
}

// ---------------------------------------------------------------- pcapng

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol option byte (default: absent = 6, microseconds). */
  tsresol?: number;
  /** if_tsoffset option, seconds. */
  tsoffset?: number;
  name?: string;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export class PcapngBuilder {
  private parts: Buffer[] = [];
  private be = false;
  private ifaces: PcapngInterface[] = [];

  constructor() {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  }
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  }

  /** Options as [code, value] pairs; the end-of-options is added. */
  private options(opts: [number, Buffer][]): Buffer {
    if (opts.length === 0) return Buffer.alloc(0);
    const out: Buffer[] = [];
    for (const [code, val] of opts) {
      out.push(this.u16(code), this.u16(val.length), val, Buffer.alloc(pad4(val.length)));
    }
    out.push(this.u16(0), this.u16(0));
    return Buffer.concat(out);
  }

  /** A raw block: type, body (padded here), with both length fields. */
  block(type: number, body: Buffer): this {
    const padded = Buffer.concat([body, Buffer.alloc(pad4(body.length))]);
    const len = 12 + padded.length;
    this.parts.push(this.u32(type), this.u32(len), padded, this.u32(len));
    return this;
  }

  /** Section header block; starts a new section (interfaces are reset). */
  section(o: { bigEndian?: boolean; major?: number; minor?: number } = {}): this {
    this.be = !!o.bigEndian;
    this.ifaces = [];
    const body = Buffer.concat([
      this.u32(0x1a2b3c4d),
      this.u16(o.major ?? 1),
      this.u16(o.minor ?? 0),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // section length -1
    ]);
    return this.block(0x0a0d0d0a, body);
  }

  interface(i: PcapngInterface): number {
    const opts: [number, Buffer][] = [];
    if (i.name) opts.push([2, Buffer.from(i.name)]);
    if (i.tsresol !== undefined) opts.push([9, Buffer.from([i.tsresol])]);
    if (i.tsoffset !== undefined) {
      const b = Buffer.alloc(8);
      if (this.be) b.writeBigInt64BE(BigInt(i.tsoffset));
      else b.writeBigInt64LE(BigInt(i.tsoffset));
      opts.push([14, b]);
    }
    const body = Buffer.concat([this.u16(i.linkType), this.u16(0), this.u32(i.snaplen ?? 262144), this.options(opts)]);
    this.block(0x00000001, body);
    this.ifaces.push(i);
    return this.ifaces.length - 1;
  }

  private units(iface: number): { perSec: bigint; offset: number } {
    const i = this.ifaces[iface];
    const r = i?.tsresol ?? 6;
    const perSec = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
    return { perSec, offset: i?.tsoffset ?? 0 };
  }

  /** Enhanced packet block. The time is converted to the interface's resolution (truncating). */
  epb(p: WrittenPacket): this {
    const iface = p.iface ?? 0;
    const { sec, nsec } = splitTime(p.time);
    const { perSec, offset } = this.units(iface);
    const ticks = BigInt(sec - offset) * perSec + (BigInt(nsec) * perSec) / 1_000_000_000n;
    const hi = Number(ticks >> 32n);
    const lo = Number(ticks & 0xffffffffn);
    const body = Buffer.concat([
      this.u32(iface),
      this.u32(hi),
      this.u32(lo),
      this.u32(p.data.length),
      this.u32(p.origLen ?? p.data.length),
      p.data,
    ]);
    return this.block(0x00000006, body);
  }

  /** Simple packet block (no timestamp, interface 0). */
  spb(data: Buffer, origLen?: number): this {
    return this.block(0x00000003, Buffer.concat([this.u32(origLen ?? data.length), data]));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A one-section, one-interface pcapng file. */
export function writePcapng(packets: WrittenPacket[], iface: PcapngInterface = { linkType: 1 }, bigEndian = false): Buffer {
  const b = new PcapngBuilder().section({ bigEndian });
  b.interface(iface);
  for (const p of packets) b.epb(p);
  return b.toBuffer();
}
