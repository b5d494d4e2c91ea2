// Decodes a captured frame down to TCP/UDP: link layer (link.ts), IPv4/IPv6 with extension headers
// and fragment reassembly (fragments.ts), tunnels (GRE, ERSPAN, IP-in-IP), then the transport
// header. Returns null for anything that is not TCP/UDP over IP or cannot be decoded.
// The packet returned is one object reused by every decode() call, and so is its TCP header unless the
// header carries MSS or window scale options (a SYN) or is "short": both are valid until the next call, so
// per-packet decoding allocates only the payload view (none for an empty payload).

import type { CaptureProblem, DecodedPacket, Limits, RawPacket, TcpHeader } from '../types.js';
import { PacketRecord } from '../capture/parser.js';
import { ipv4Text, ipv6Text } from './addr.js';
import { FragmentTable } from './fragments.js';
import { ethernet, KIND_NIBBLE, KIND_V4, KIND_V6, linkNetwork, NON_IP, UNKNOWN_LINK } from './link.js';

export interface DecoderStats {
  decoded: number;
  nonIp: number;
  malformed: number;
  fragmentsReassembled: number;
  fragmentsDropped: number;
  unknownLinkTypes: number[];
  /** IP packets that are neither TCP nor UDP (ICMP, ESP, ...). */
  otherIp: number;
}

/** Bytes of fragments held at once, across all trains. */
const FRAGMENT_BYTES = 32 << 20;
/** Tunnels inside tunnels decoded at most this deep. */
const MAX_DEPTH = 4;

const NOT_DONE = -1;
const EMPTY = Buffer.alloc(0);

/** MSS and window scale options read from a TCP header (-1: absent). */
const opts = { mss: -1, windowScale: -1 };

export class Decoder {
  private readonly onProblem: (p: CaptureProblem) => void;
  private readonly frags: FragmentTable;
  private decodedCount = 0;
  private nonIp = 0;
  private malformed = 0;
  private otherIp = 0;
  private fragDropped = 0;
  private readonly unknown: number[] = [];

  // per-packet state, set by the IP layer for the transport layer (avoids passing many arguments)
  private raw!: RawPacket;
  private ipVersion: 4 | 6 = 4;
  private src = '';
  private dst = '';
  private fragFrames: number[] | undefined;
  /** The objects handed out (see the file comment). */
  private readonly th: TcpHeader = { seq: 0, ack: 0, flags: 0, window: 0, headerLength: 0 };
  private readonly out: DecodedPacket = {
    frame: 0, input: 0, time: { sec: 0, nsec: 0, digits: 6 }, ipVersion: 4, src: '', dst: '', transport: 'tcp',
    srcPort: 0, dstPort: 0, tcp: null, payload: EMPTY, missingBytes: 0, fragmentFrames: undefined,
  };

  constructor(o: { limits: Limits; onProblem(p: CaptureProblem): void }) {
    this.onProblem = o.onProblem;
    this.frags = new FragmentTable(Math.max(1, o.limits.fragments), FRAGMENT_BYTES);
  }

  get stats(): DecoderStats {
    return {
      decoded: this.decodedCount,
      nonIp: this.nonIp,
      malformed: this.malformed,
      fragmentsReassembled: this.frags.reassembled,
      // fragments never completed count as dropped, including those still waiting
      fragmentsDropped: this.fragDropped + this.frags.dropped + this.frags.pending,
      unknownLinkTypes: this.unknown.slice(),
      otherIp: this.otherIp,
    };
  }

  /** The packet, or null; the object returned is reused by the next call (copy what you keep). */
  decode(raw: RawPacket): DecodedPacket | null {
    let b: Buffer, s: number, end: number;
    if (raw instanceof PacketRecord) {
      // the parser's record: its bytes in place, no view object
      b = raw.buf;
      s = raw.start;
      end = raw.end;
    } else {
      b = raw.data;
      s = 0;
      end = b.length;
    }
    const r = linkNetwork(raw.linkType, b, s, end);
    if (r < 0) {
      if (r === UNKNOWN_LINK) this.unknownLink(raw);
      else if (r === NON_IP) this.nonIp++;
      else this.malformed++;
      return null;
    }
    this.raw = raw;
    this.fragFrames = undefined;
    const p = this.ip(b, Math.floor(r / 8), end, r & 7, 0);
    if (p) this.decodedCount++;
    return p;
  }

  /** Packets skipped because their link type is not supported. */
  unknownLinkPackets = 0;

  private unknownLink(raw: RawPacket): void {
    this.unknownLinkPackets++;
    if (this.unknown.includes(raw.linkType)) return;
    this.unknown.push(raw.linkType);
    this.onProblem({
      code: 'capture.malformed',
      message: `link type ${raw.linkType} is not supported: its packets (first: frame ${raw.frame}) are skipped`,
      input: raw.input,
      frame: raw.frame,
      evidence: { linkType: raw.linkType },
    });
  }

  private bad(): null {
    this.malformed++;
    return null;
  }

  /** An IP packet at b[off..end) (end = bytes captured). */
  private ip(b: Buffer, off: number, end: number, kind: number, depth: number): DecodedPacket | null {
    if (end - off < 1) return this.bad();
    const v = b[off] >> 4;
    if (kind === KIND_NIBBLE) kind = v === 4 ? KIND_V4 : v === 6 ? KIND_V6 : NOT_DONE;
    if (kind === KIND_V4 && v === 4) return this.ipv4(b, off, end, depth);
    if (kind === KIND_V6 && v === 6) return this.ipv6(b, off, end, depth);
    return this.bad();
  }

  private ipv4(b: Buffer, off: number, end: number, depth: number): DecodedPacket | null {
    if (end - off < 20) return this.bad();
    const ihl = (b[off] & 15) * 4;
    if (ihl < 20 || end - off < ihl) return this.bad();
    let total = (b[off + 2] << 8) | b[off + 3];
    if (total === 0) total = end - off; // TSO: the length is left to the NIC
    if (total < ihl) return this.bad();
    const wireEnd = off + total;
    const capEnd = wireEnd < end ? wireEnd : end; // drops Ethernet padding
    const flags = (b[off + 6] << 8) | b[off + 7];
    const proto = b[off + 9];
    this.ipVersion = 4;
    this.src = ipv4Text(b, off + 12);
    this.dst = ipv4Text(b, off + 16);
    const fragOffset = (flags & 0x1fff) * 8;
    const more = (flags & 0x2000) !== 0;
    if (more || fragOffset !== 0) {
      if (capEnd < wireEnd) {
        this.fragDropped++; // a fragment cut by the snap length cannot be reassembled
        return null;
      }
      const key = `4${b.toString('latin1', off + 12, off + 20)}${proto}:${(b[off + 4] << 8) | b[off + 5]}`;
      const done = this.frags.add(key, fragOffset, b.subarray(off + ihl, capEnd), more, this.raw.frame);
      if (!done) return null;
      this.fragFrames = done.frames;
      return this.transport(done.payload, 0, done.payload.length, done.payload.length, proto, depth);
    }
    return this.transport(b, off + ihl, capEnd, wireEnd, proto, depth);
  }

  private ipv6(b: Buffer, off: number, end: number, depth: number): DecodedPacket | null {
    if (end - off < 40) return this.bad();
    const plen = (b[off + 4] << 8) | b[off + 5];
    const wireEnd = plen === 0 ? end : off + 40 + plen;
    let capEnd = wireEnd < end ? wireEnd : end;
    let wire = wireEnd;
    let nh = b[off + 6];
    this.ipVersion = 6;
    this.src = ipv6Text(b, off + 8);
    this.dst = ipv6Text(b, off + 24);
    let p = off + 40;
    for (;;) {
      switch (nh) {
        case 0:
        case 43:
        case 60:
        case 135:
          if (p + 8 > capEnd) return this.bad();
          nh = b[p];
          p += (b[p + 1] + 1) * 8;
          continue;
        case 51: // AH
          if (p + 8 > capEnd) return this.bad();
          nh = b[p];
          p += (b[p + 1] + 2) * 4;
          continue;
        case 44: {
          if (p + 8 > capEnd) return this.bad();
          const next = b[p];
          const fo = ((b[p + 2] << 8) | b[p + 3]) & 0xfff8;
          const more = (b[p + 3] & 1) !== 0;
          const id = b.readUInt32BE(p + 4);
          p += 8;
          nh = next;
          if (fo === 0 && !more) continue; // atomic fragment
          if (capEnd < wire) {
            this.fragDropped++;
            return null;
          }
          const key = `6${b.toString('latin1', off + 8, off + 40)}:${id}`;
          const done = this.frags.add(key, fo, b.subarray(p, capEnd), more, this.raw.frame);
          if (!done) return null;
          this.fragFrames = done.frames;
          b = done.payload;
          p = 0;
          capEnd = wire = b.length;
          continue;
        }
        case 59:
          this.otherIp++;
          return null;
      }
      break;
    }
    if (p > capEnd) return this.bad();
    return this.transport(b, p, capEnd, wire, nh, depth);
  }

  /** The transport header at b[p..capEnd); wireEnd is where the IP payload ends on the wire. */
  private transport(b: Buffer, p: number, capEnd: number, wireEnd: number, proto: number, depth: number): DecodedPacket | null {
    switch (proto) {
      case 6:
        return this.tcp(b, p, capEnd, wireEnd);
      case 17:
        return this.udp(b, p, capEnd, wireEnd);
      case 47:
        if (depth < MAX_DEPTH) return this.gre(b, p, capEnd, depth + 1);
        break;
      case 4:
        if (depth < MAX_DEPTH) return this.ip(b, p, capEnd, KIND_V4, depth + 1);
        break;
      case 41:
        if (depth < MAX_DEPTH) return this.ip(b, p, capEnd, KIND_V6, depth + 1);
        break;
    }
    this.otherIp++;
    return null;
  }

  /** GRE: IP, transparent Ethernet bridging, ERSPAN types I/II/III. */
  private gre(b: Buffer, p: number, end: number, depth: number): DecodedPacket | null {
    if (end - p < 4) return this.bad();
    const flags = (b[p] << 8) | b[p + 1];
    const proto = (b[p + 2] << 8) | b[p + 3];
    let q = p + 4;
    if (flags & 0x8000) q += 4; // checksum + reserved
    if (flags & 0x2000) q += 4; // key
    if (flags & 0x1000) q += 4; // sequence number
    if ((flags & 7) === 1 && flags & 0x0080) q += 4; // enhanced GRE acknowledgement
    if (q > end) return this.bad();
    let r: number;
    switch (proto) {
      case 0x0800:
        return this.ip(b, q, end, KIND_V4, depth);
      case 0x86dd:
        return this.ip(b, q, end, KIND_V6, depth);
      case 0x6558:
        r = ethernet(b, q, end);
        break;
      case 0x88be: // ERSPAN type II has an 8-byte header (and a sequence number); type I none
        r = ethernet(b, flags & 0x1000 ? q + 8 : q, end);
        break;
      case 0x22eb: // ERSPAN type III: 12 bytes, plus 8 with the optional subheader
        if (q + 12 > end) return this.bad();
        r = ethernet(b, b[q + 11] & 1 ? q + 20 : q + 12, end);
        break;
      default:
        this.nonIp++;
        return null;
    }
    if (r < 0) {
      if (r === NON_IP) this.nonIp++;
      else this.malformed++;
      return null;
    }
    return this.ip(b, Math.floor(r / 8), end, r & 7, depth);
  }

  private tcp(b: Buffer, p: number, capEnd: number, wireEnd: number): DecodedPacket | null {
    if (capEnd - p < 20) return this.bad();
    const hl = (b[p + 12] >> 4) * 4;
    if (hl < 20) return this.bad();
    if (p + hl > wireEnd) {
      // A header longer than the whole segment (tshark: "Short segment"). tshark still gives it a tcp.stream
      // number, so it goes to the tracker marked `short` (numbered, otherwise ignored) with no payload.
      this.malformed++;
      const tcp = {
        seq: b.readUInt32BE(p + 4),
        ack: b.readUInt32BE(p + 8),
        flags: b[p + 13],
        window: (b[p + 14] << 8) | b[p + 15],
        headerLength: hl,
        short: true,
      };
      return this.packet('tcp', b, p, capEnd, capEnd, capEnd, tcp);
    }
    const cut = p + hl > capEnd;
    opts.mss = opts.windowScale = -1;
    if (hl > 20) tcpOptions(b, p + 20, cut ? capEnd : p + hl);
    let tcp: TcpHeader;
    if (opts.mss < 0 && opts.windowScale < 0) {
      tcp = this.th; // the usual case: the reused object
    } else {
      tcp = { seq: 0, ack: 0, flags: 0, window: 0, headerLength: 0 };
      if (opts.mss >= 0) tcp.mss = opts.mss;
      if (opts.windowScale >= 0) tcp.windowScale = opts.windowScale;
    }
    tcp.seq = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    tcp.ack = ((b[p + 8] << 24) | (b[p + 9] << 16) | (b[p + 10] << 8) | b[p + 11]) >>> 0;
    tcp.flags = b[p + 13];
    tcp.window = (b[p + 14] << 8) | b[p + 15];
    tcp.headerLength = hl;
    // The header is whole on the wire but the snap length cut it (options or more): tshark still analyses
    // it (tcp.stream, base sequence number), so it goes on with no captured payload and the whole payload
    // counted as missing.
    if (cut) return this.packet('tcp', b, p, capEnd, capEnd, capEnd + (wireEnd - (p + hl)), tcp);
    return this.packet('tcp', b, p, p + hl, capEnd, wireEnd, tcp);
  }

  private udp(b: Buffer, p: number, capEnd: number, wireEnd: number): DecodedPacket | null {
    if (capEnd - p < 8) return this.bad();
    const len = (b[p + 4] << 8) | b[p + 5];
    if (len < 8) return this.bad();
    const udpEnd = p + len;
    const wire = udpEnd < wireEnd ? udpEnd : wireEnd;
    const end = wire < capEnd ? wire : capEnd;
    return this.packet('udp', b, p, p + 8, end, wire, null);
  }

  private packet(transport: 'tcp' | 'udp', b: Buffer, p: number, payloadStart: number, end: number, wireEnd: number, tcp: TcpHeader | null): DecodedPacket {
    const raw = this.raw;
    const d = this.out;
    d.frame = raw.frame;
    d.input = raw.input;
    d.time = raw.time;
    d.ipVersion = this.ipVersion;
    d.src = this.src;
    d.dst = this.dst;
    d.transport = transport;
    d.srcPort = (b[p] << 8) | b[p + 1];
    d.dstPort = (b[p + 2] << 8) | b[p + 3];
    d.tcp = tcp;
    d.payload = end > payloadStart ? b.subarray(payloadStart, end) : EMPTY;
    d.missingBytes = wireEnd > end ? wireEnd - end : 0;
    d.fragmentFrames = this.fragFrames;
    return d;
  }
}

/** MSS (kind 2) and window scale (kind 3) from the TCP options at b[p..end), into `opts`. */
function tcpOptions(b: Buffer, p: number, end: number): void {
  while (p < end) {
    const kind = b[p];
    if (kind === 0) return;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) return;
    const len = b[p + 1];
    if (len < 2 || p + len > end) return;
    if (kind === 2 && len === 4) opts.mss = (b[p + 2] << 8) | b[p + 3];
    else if (kind === 3 && len === 3) opts.windowScale = b[p + 2];
    p += len;
  }
}
