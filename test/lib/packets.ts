// Packet builders for fixtures: Ethernet/VLAN/SLL/SLL2/loopback, IPv4 (with fragments), IPv6, TCP, UDP,
// and a TcpSession that writes a readable conversation as correct TCP segments.

import type { WrittenPacket } from './capture-writer.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;

export function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
}

export function ethernet(payload: Buffer, o: { type?: number; vlans?: number[]; src?: string; dst?: string; qinq?: boolean } = {}): Buffer {
  const parts: Buffer[] = [mac(o.dst ?? '02:00:00:00:00:02'), mac(o.src ?? '02:00:00:00:00:01')];
  const vlans = o.vlans ?? [];
  vlans.forEach((vid, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(o.qinq && i === 0 ? 0x88a8 : 0x8100, 0);
    t.writeUInt16BE(vid & 0x0fff, 2);
    parts.push(t);
  });
  const et = Buffer.alloc(2);
  et.writeUInt16BE(o.type ?? (payload[0] >> 4 === 6 ? ETH_IPV6 : ETH_IPV4));
  parts.push(et, payload);
  return Buffer.concat(parts);
}

/** Linux cooked capture v1 (DLT 113). */
export function sll(payload: Buffer, protocol = payload[0] >> 4 === 6 ? ETH_IPV6 : ETH_IPV4, packetType = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(packetType, 0);
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  mac('02:00:00:00:00:01').copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v2 (DLT 276). */
export function sll2(payload: Buffer, protocol = payload[0] >> 4 === 6 ? ETH_IPV6 : ETH_IPV4, ifindex = 2): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt16BE(0, 2);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h.writeUInt8(0, 10); // packet type
  h.writeUInt8(6, 11);
  mac('02:00:00:00:00:01').copy(h, 12);
  return Buffer.concat([h, payload]);
}

/** BSD loopback (DLT 0, host byte order family) or OpenBSD loop (DLT 108, network order). */
export function loopback(payload: Buffer, o: { openbsd?: boolean; bigEndian?: boolean } = {}): Buffer {
  const h = Buffer.alloc(4);
  const v6 = payload[0] >> 4 === 6;
  const fam = v6 ? (o.openbsd ? 24 : 30) : 2; // AF_INET6: 24 on OpenBSD/NetBSD, 30 on macOS (28 FreeBSD)
  if (o.openbsd || o.bigEndian) h.writeUInt32BE(fam);
  else h.writeUInt32LE(fam);
  return Buffer.concat([h, payload]);
}

export function ipv4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

export function ipv6Bytes(s: string): Buffer {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  id?: number;
  ttl?: number;
  /** More-fragments flag. */
  mf?: boolean;
  df?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  /** Override total length (for damage tests). */
  totalLength?: number;
}

export function ipv4(payload: Buffer, o: Ipv4Options): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(o.totalLength ?? 20 + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  const flags = (o.mf ? 0x2000 : 0) | (o.df ? 0x4000 : 0) | ((o.fragOffset ?? 0) >> 3);
  h.writeUInt16BE(flags, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ipv4Bytes(o.src).copy(h, 12);
  ipv4Bytes(o.dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** Split an IPv4 payload into fragments of at most `size` payload bytes (multiple of 8). */
export function ipv4Fragments(payload: Buffer, o: Ipv4Options, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    out.push(ipv4(part, { ...o, fragOffset: off, mf: off + size < payload.length }));
  }
  return out;
}

export interface Ipv6Options {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit?: number;
  /** Extension headers to put before the payload: [type, body] (body padded to 8n-2 by the caller). */
  extensions?: { type: number; body: Buffer }[];
}

export function ipv6(payload: Buffer, o: Ipv6Options): Buffer {
  const exts = o.extensions ?? [];
  // chain: fixed header next = first ext type (or nextHeader), each ext's next = following
  const extBufs: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1].type : o.nextHeader;
    const e = exts[i];
    if (e.type === 44) {
      // fragment header: 8 bytes, body is the 6 bytes after next+reserved
      extBufs.push(Buffer.concat([Buffer.from([next, 0]), e.body]));
    } else {
      const len = 2 + e.body.length; // must be a multiple of 8
      extBufs.push(Buffer.concat([Buffer.from([next, len / 8 - 1]), e.body]));
    }
  }
  const ext = Buffer.concat(extBufs);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(ext.length + payload.length, 4);
  h[6] = exts.length ? exts[0].type : o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, ext, payload]);
}

export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

export interface TcpOptions {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  /** Raw TCP options (padded here to 4 bytes). */
  options?: Buffer;
}

export function tcp(payload: Buffer, o: TcpOptions): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const optPadded = Buffer.concat([opts, Buffer.alloc((4 - (opts.length % 4)) % 4)]);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = ((20 + optPadded.length) / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  return Buffer.concat([h, optPadded, payload]);
}

export function udp(payload: Buffer, o: { sport: number; dport: number }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

function parseEndpoint(s: string): { ip: string; port: number } {
  const m = /^\[(.*)\]:(\d+)$/.exec(s) ?? /^(.*):(\d+)$/.exec(s);
  if (!m) throw new Error(`bad endpoint ${s}`);
  return { ip: m[1], port: Number(m[2]) };
}

/** IP packet (v4 or v6 by address) around a transport payload. */
export function ipPacket(src: string, dst: string, proto: number, payload: Buffer, id = 1): Buffer {
  return src.includes(':') ? ipv6(payload, { src, dst, nextHeader: proto }) : ipv4(payload, { src, dst, proto, id });
}

/** A UDP datagram on Ethernet. */
export function udpFrame(from: string, to: string, payload: Buffer | string): Buffer {
  const a = parseEndpoint(from), b = parseEndpoint(to);
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  return ethernet(ipPacket(a.ip, b.ip, 17, udp(body, { sport: a.port, dport: b.port })));
}

export type Side = 'client' | 'server';

/**
 * Writes a TCP conversation as segments with correct sequence numbers, one Ethernet frame each.
 * Time advances by `step` seconds per frame unless given.
 *
 *   const s = new TcpSession('10.0.0.1:40000', '10.0.0.2:80');
 *   s.handshake(); s.send('client', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'); s.send('server', '...'); s.close();
 *   writePcap(s.packets)
 */
export class TcpSession {
  packets: WrittenPacket[] = [];
  readonly c: { ip: string; port: number };
  readonly s: { ip: string; port: number };
  /** Next sequence number each side will send. */
  nextSeq: Record<Side, number>;
  time: number;
  step: number;
  mss: number;
  ipId = 1;
  /** Wrap frames in something other than Ethernet (e.g. sll). Receives the IP packet. */
  link: (ip: Buffer) => Buffer = (ip) => ethernet(ip);

  constructor(client: string, server: string, o: { time?: number; step?: number; isn?: [number, number]; mss?: number } = {}) {
    this.c = parseEndpoint(client);
    this.s = parseEndpoint(server);
    this.time = o.time ?? 1_700_000_000;
    this.step = o.step ?? 0.001;
    this.mss = o.mss ?? 1460;
    const [ci, si] = o.isn ?? [1000, 5000];
    this.nextSeq = { client: ci >>> 0, server: si >>> 0 };
  }

  /** Build one segment without recording it (for reordering tests). */
  segment(from: Side, flags: number, payload: Buffer = Buffer.alloc(0), o: { seq?: number; ack?: number; options?: Buffer } = {}): Buffer {
    const a = from === 'client' ? this.c : this.s;
    const b = from === 'client' ? this.s : this.c;
    const other: Side = from === 'client' ? 'server' : 'client';
    const seg = tcp(payload, {
      sport: a.port,
      dport: b.port,
      seq: o.seq ?? this.nextSeq[from],
      ack: flags & ACK ? (o.ack ?? this.nextSeq[other]) : 0,
      flags,
      options: o.options,
    });
    return this.link(ipPacket(a.ip, b.ip, 6, seg, this.ipId++));
  }

  /** Record a frame at the current time (or `at`) and advance the clock. */
  push(data: Buffer, at?: number, origLen?: number): WrittenPacket {
    const p: WrittenPacket = { time: at ?? this.time, data, origLen };
    this.packets.push(p);
    this.time = (at ?? this.time) + this.step;
    return p;
  }

  handshake(): this {
    const mssOpt = Buffer.from([2, 4, this.mss >> 8, this.mss & 0xff]);
    this.push(this.segment('client', SYN, undefined, { options: mssOpt }));
    this.nextSeq.client = (this.nextSeq.client + 1) >>> 0;
    this.push(this.segment('server', SYN | ACK, undefined, { options: mssOpt }));
    this.nextSeq.server = (this.nextSeq.server + 1) >>> 0;
    this.push(this.segment('client', ACK));
    return this;
  }

  /** Send bytes from one side, split into MSS-sized segments; returns the frames' indexes (0-based). */
  send(from: Side, data: Buffer | string, o: { mss?: number; ackEach?: boolean } = {}): number[] {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const mss = o.mss ?? this.mss;
    const idx: number[] = [];
    for (let off = 0; off < buf.length; off += mss) {
      const part = buf.subarray(off, off + mss);
      idx.push(this.packets.length);
      this.push(this.segment(from, PSH | ACK, part));
      this.nextSeq[from] = (this.nextSeq[from] + part.length) >>> 0;
    }
    if (o.ackEach !== false && buf.length > 0) this.ack(from === 'client' ? 'server' : 'client');
    return idx;
  }

  ack(from: Side): this {
    this.push(this.segment(from, ACK));
    return this;
  }

  fin(from: Side): this {
    this.push(this.segment(from, FIN | ACK));
    this.nextSeq[from] = (this.nextSeq[from] + 1) >>> 0;
    return this;
  }

  rst(from: Side): this {
    this.push(this.segment(from, RST | ACK));
    return this;
  }

  /** FIN from the client, FIN from the server, last ACK. */
  close(first: Side = 'client'): this {
    const second: Side = first === 'client' ? 'server' : 'client';
    this.fin(first);
    this.fin(second);
    this.ack(first);
    return this;
  }

  /** 1-based frame numbers of this session's packets when it is the only thing in the capture. */
  frameNumbers(indexes: number[]): number[] {
    return indexes.map((i) => i + 1);
  }
}

/** Merge several sessions' packets by time (stable), as a capture of them all would look. */
export function interleave(...lists: WrittenPacket[][]): WrittenPacket[] {
  const all = lists.flatMap((l, li) => l.map((p, i) => ({ p, li, i })));
  const t = (p: WrittenPacket) => (typeof p.time === 'number' ? p.time : p.time.sec + p.time.nsec / 1e9);
  all.sort((a, b) => t(a.p) - t(b.p) || a.li - b.li || a.i - b.i);
  return all.map((x) => x.p);
}
