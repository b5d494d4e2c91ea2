// Push-based incremental reader for classic pcap (µs/ns, both byte orders, Kuznetzov's modified
// pcap) and pcapng (sections in both byte orders, IDB/EPB/SPB/PB/DSB; other blocks skipped).
// Records are read in place from the pushed chunk; only a record that spans chunks is assembled,
// into one buffer of its declared (bounded) size, so every byte is copied at most once. One PacketRecord
// object is handed to onPacket for every record (filled in again each time, its `data` view made only
// when asked for), so reading a record allocates nothing but its Timestamp.

import type { CaptureProblem, InputSummary, RawPacket, Timestamp } from '../types.js';
import { isoTime } from '../util/time.js';
import { chooseVariant, DETECT_BYTES, MODIFIED_VARIANTS, STANDARD_VARIANTS, type LengthOrder, type PcapVariant } from './pcap-variants.js';
import { MICRO, pcapTime, resolution, ticksToTime, type Resolution } from './ticks.js';

const EMPTY = Buffer.alloc(0);

/**
 * The RawPacket handed to onPacket. The parser reuses one per input: it is valid only during the callback
 * (keep its fields, e.g. `time`, not the object). The bytes are buf[start..end); `data`, a view of them,
 * is made on first use, so a consumer that reads buf/start/end directly (the decoder) costs no view.
 */
export class PacketRecord implements RawPacket {
  frame = 0;
  time: Timestamp = { sec: 0, nsec: 0, digits: 6 };
  linkType = 0;
  capLen = 0;
  origLen = 0;
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  private view: Buffer | null = null;

  constructor(readonly input: number) {}

  get data(): Buffer {
    return (this.view ??= this.buf.subarray(this.start, this.end));
  }

  set data(b: Buffer) {
    this.buf = b;
    this.start = 0;
    this.end = b.length;
    this.view = b;
  }

  /** Points the record at the next packet. */
  fill(frame: number, time: Timestamp, linkType: number, capLen: number, origLen: number, buf: Buffer, start: number, end: number): void {
    this.frame = frame;
    this.time = time;
    this.linkType = linkType;
    this.capLen = capLen;
    this.origLen = origLen;
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.view = null;
  }
}

export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

export interface ParserEvents {
  onPacket(p: RawPacket): void;
  onProblem(p: CaptureProblem): void;
  /** pcapng Decryption Secrets Block; `frame` is the number the next packet will get. */
  onSecrets?(type: number, data: Buffer, frame: number): void;
}

/** Largest record accepted at all; anything claiming more is a bogus length. */
export const MAX_RECORD = 16 << 20;
/** Classic pcap: Wireshark's maximum packet size for ordinary link types. */
const PCAP_MAX_PACKET = 262144;
const PCAPNG_MAX_BLOCK = MAX_RECORD + 4096;
/** Link types Wireshark allows larger packets for (USB, D-Bus, USBPcap, EBHSCR). */
const BIG_PACKET_LINKTYPES = [189, 220, 231, 249, 279];

const SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;
const DSB = 10;

type State = 'start' | 'detect' | 'pcap' | 'pcapng' | 'stopped';

interface Iface {
  linkType: number;
  snaplen: number;
  res: Resolution;
  offset: number;
}

export class CaptureParser {
  format: 'pcap' | 'pcapng' | null = null;
  nextFrame: number;

  private readonly input: number;
  private readonly ev: ParserEvents;
  /** The one record object handed to onPacket (see PacketRecord). */
  private readonly rec: PacketRecord;
  private state: State = 'start';
  /** The state, read through a method so TypeScript does not narrow it across calls that change it. */
  private st(): State {
    return this.state;
  }
  private le = true;
  // classic pcap
  private nanos = false;
  private recHdr = 16;
  private snaplen = 0;
  private linkType = 0;
  private maxPacket = PCAP_MAX_PACKET;
  /** Versions before 2.3 store the two lengths the other way round; 2.3 files may do either. */
  private lengths: LengthOrder = 'normal';
  private variants: PcapVariant[] | null = null;
  private detectBuf: Buffer | null = null;
  private detectLen = 0;
  // pcapng
  private ifaces: Iface[] = [];
  private sections = 0;
  private lastTime: Timestamp | null = null;
  // record spanning chunks
  private hold: Buffer = Buffer.alloc(0);
  private holdLen = 0;
  private holdTarget = 0;
  /** Input offset of the first byte of the current chunk. */
  private base = 0;
  // summary
  private packets = 0;
  private bytes = 0;
  private linkTypes: number[] = [];
  private firstTime: Timestamp | null = null;
  private latest: Timestamp | null = null;
  private cutCount = 0;
  private cutFirst = 0;
  private ended = false;

  constructor(o: { input: number; firstFrame: number } & ParserEvents) {
    this.input = o.input;
    this.nextFrame = o.firstFrame;
    this.ev = o;
    this.rec = new PacketRecord(o.input);
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.feed(chunk);
  }

  private feed(chunk: Buffer): void {
    if (this.st() === 'detect') return this.detectFeed(chunk);
    let c = chunk;
    while (this.holdLen > 0 && c.length > 0 && this.st() !== 'stopped') {
      const take = Math.min(this.holdTarget - this.holdLen, c.length);
      c.copy(this.hold, this.holdLen, 0, take);
      this.holdLen += take;
      c = c.subarray(take);
      this.base += take;
      if (this.holdLen < this.holdTarget) break;
      const holdStart = this.base - this.holdLen;
      const r = this.recordLength(this.hold, 0, this.holdLen, holdStart);
      if (r === 0) break;
      if (r < 0) {
        this.grow(-r);
      } else if (r > this.holdLen) {
        this.grow(r);
      } else {
        this.holdLen = 0;
        this.record(this.hold, 0, r, holdStart);
        if (this.hold.length > 1 << 20) this.hold = Buffer.alloc(0); // do not keep a big record's buffer
        if (this.st() === 'detect') return this.detectFeed(c);
      }
    }
    if (c.length === 0 || this.st() === 'stopped') {
      this.base += c.length;
      return;
    }
    let pos = 0;
    const n = c.length;
    while (this.st() !== 'stopped') {
      const r = this.recordLength(c, pos, n - pos, this.base + pos);
      if (r <= 0 || r > n - pos) {
        if (r !== 0) {
          // keep the partial record: its header now, the rest as it arrives
          const have = n - pos;
          this.holdTarget = r < 0 ? -r : r;
          if (this.hold.length < this.holdTarget) this.hold = Buffer.allocUnsafe(Math.max(this.holdTarget, 64));
          c.copy(this.hold, 0, pos, n);
          this.holdLen = have;
          pos = n;
        }
        break;
      }
      this.record(c, pos, r, this.base + pos);
      pos += r;
      if (this.st() === 'detect') {
        this.base += pos;
        return this.detectFeed(c.subarray(pos));
      }
      if (pos === n) break;
    }
    this.base += n;
  }

  /** Collects the first records of a classic pcap whose record layout must be guessed. */
  private detectFeed(c: Buffer): void {
    if (!this.detectBuf) this.detectBuf = Buffer.allocUnsafe(DETECT_BYTES);
    const take = Math.min(c.length, DETECT_BYTES - this.detectLen);
    c.copy(this.detectBuf, this.detectLen, 0, take);
    this.detectLen += take;
    if (this.detectLen === DETECT_BYTES) {
      this.finishDetect();
      if (take < c.length) this.feed(c.subarray(take));
    }
  }

  private finishDetect(): void {
    const buf = this.detectBuf ? this.detectBuf.subarray(0, this.detectLen) : Buffer.alloc(0);
    const v = chooseVariant(buf, buf.length, this.le, this.lengths, this.variants ?? STANDARD_VARIANTS, this.snaplen, this.maxPacket);
    this.recHdr = v.header;
    this.state = 'pcap';
    this.detectBuf = null;
    this.detectLen = 0;
    if (buf.length > 0) this.feed(buf);
  }

  /** Grows the hold buffer to `target` bytes, keeping what it has. */
  private grow(target: number): void {
    if (this.hold.length < target) {
      const b = Buffer.allocUnsafe(target);
      this.hold.copy(b, 0, 0, this.holdLen);
      this.hold = b;
    }
    this.holdTarget = target;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.st() === 'detect') this.finishDetect();
    if (this.st() === 'start') {
      if (this.bytes === 0) throw new CaptureFormatError('empty file');
      if (this.format === null) throw new CaptureFormatError('not a pcap or pcapng file (too short)');
      throw new CaptureFormatError(`${this.format} file header cut short (${this.bytes} bytes)`);
    }
    if (this.holdLen > 0 && this.st() !== 'stopped') {
      const start = this.base - this.holdLen;
      const what = this.holdTarget > this.headerBytes() ? `${this.holdLen} of ${this.holdTarget} bytes` : `${this.holdLen} bytes of a record header`;
      this.problem('capture.truncated', `the capture ends inside a record (${what}): it was cut short; packets before it are analysed`, start, {
        recordBytes: this.holdTarget > this.headerBytes() ? this.holdTarget : null,
        bytesPresent: this.holdLen,
      });
      this.holdLen = 0;
    }
    if (this.cutCount > 0) {
      this.ev.onProblem({
        code: 'capture.snaplen',
        message: `${this.cutCount} packet(s) were cut by the capture's snap length (first: frame ${this.cutFirst}); their payload bytes are missing`,
        input: this.input,
        frame: this.cutFirst,
        evidence: { packets: this.cutCount, firstFrame: this.cutFirst },
      });
    }
  }

  /** firstTime/lastTime are the earliest and latest packet time stamps (capinfos' first/last packet time). */
  summary(file: string): InputSummary {
    return {
      file,
      format: this.format ?? 'pcap',
      linkTypes: this.linkTypes.slice(),
      packets: this.packets,
      bytes: this.bytes,
      firstTime: this.firstTime ? isoTime(this.firstTime) : null,
      lastTime: this.latest ? isoTime(this.latest) : null,
    };
  }

  // ------------------------------------------------------------------ framing

  private headerBytes(): number {
    return this.st() === 'pcap' ? this.recHdr : 12;
  }

  /**
   * Total length of the record at b[pos..]: > 0 the length; -n: n bytes are needed to tell;
   * 0: reading stops (a problem was reported).
   */
  private recordLength(b: Buffer, pos: number, avail: number, at: number): number {
    switch (this.state) {
      case 'pcap': {
        const h = this.recHdr;
        if (avail < h) return -h;
        const capLen = this.pcapLengths(b, pos) ? this.rdCap : 0;
        if (capLen > this.maxPacket) {
          this.stop(`record at offset ${at} claims a ${capLen}-byte packet, more than the maximum of ${this.maxPacket}: the capture is damaged, reading stopped there`, at, { capLen, maxPacket: this.maxPacket });
          return 0;
        }
        return h + capLen;
      }
      case 'pcapng':
        return this.blockLength(b, pos, avail, at);
      case 'start':
        return this.fileHeaderLength(b, pos, avail);
      default:
        return 0;
    }
  }

  private fileHeaderLength(b: Buffer, pos: number, avail: number): number {
    if (avail < 4) return -4;
    const m = b.readUInt32BE(pos);
    let le: boolean;
    switch (m) {
      case 0xa1b2c3d4: case 0xa1b23c4d: case 0xa1b2cd34: le = false; break;
      case 0xd4c3b2a1: case 0x4d3cb2a1: case 0x34cdb2a1: le = true; break;
      case SHB:
        this.format = 'pcapng';
        return this.blockLength(b, pos, avail, 0);
      default: {
        const hex = Array.from(b.subarray(pos, pos + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
        throw new CaptureFormatError(`not a pcap or pcapng file (starts with ${hex})`);
      }
    }
    this.format = 'pcap';
    this.le = le;
    return 24;
  }

  private blockLength(b: Buffer, pos: number, avail: number, at: number): number {
    if (avail < 8) return -8;
    let type = this.le ? b.readUInt32LE(pos) : b.readUInt32BE(pos);
    let le = this.le;
    if (type === SHB) {
      if (avail < 12) return -12;
      const bomLE = b.readUInt32LE(pos + 8);
      if (bomLE === BOM) le = true;
      else if (bomLE === 0x4d3c2b1a) le = false;
      else {
        if (this.st() === 'start') throw new CaptureFormatError('not a pcap or pcapng file (bad pcapng byte-order magic)');
        this.stop(`section header block at offset ${at} has a bad byte-order magic: the capture is damaged, reading stopped there`, at, {});
        return 0;
      }
      type = SHB;
    }
    const len = le ? b.readUInt32LE(pos + 4) : b.readUInt32BE(pos + 4);
    const min = type === SHB ? 28 : 12;
    if (len < min || len % 4 !== 0 || len > PCAPNG_MAX_BLOCK) {
      if (this.st() === 'start') throw new CaptureFormatError(`not a pcap or pcapng file (bad section header block length ${len})`);
      this.stop(`pcapng block at offset ${at} (type 0x${type.toString(16).padStart(8, '0')}) has an impossible length ${len}: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len });
      return 0;
    }
    return len;
  }

  // ------------------------------------------------------------------ records

  private record(b: Buffer, pos: number, len: number, at: number): void {
    if (this.st() === 'pcap') this.pcapRecord(b, pos, len);
    else if (this.st() === 'pcapng') this.block(b, pos, len, at);
    else if (this.format === 'pcap') this.pcapHeader(b, pos);
    else this.block(b, pos, len, at);
  }

  private pcapHeader(b: Buffer, pos: number): void {
    const m = b.readUInt32BE(pos);
    const le = this.le;
    const major = le ? b.readUInt16LE(pos + 4) : b.readUInt16BE(pos + 4);
    const minor = le ? b.readUInt16LE(pos + 6) : b.readUInt16BE(pos + 6);
    this.nanos = m === 0xa1b23c4d || m === 0x4d3cb2a1;
    const modified = m === 0xa1b2cd34 || m === 0x34cdb2a1;
    this.recHdr = 16;
    this.snaplen = le ? b.readUInt32LE(pos + 16) : b.readUInt32BE(pos + 16);
    const lt = le ? b.readUInt32LE(pos + 20) : b.readUInt32BE(pos + 20);
    this.linkType = lt & 0x03ffffff;
    this.maxPacket = BIG_PACKET_LINKTYPES.includes(this.linkType) ? MAX_RECORD : PCAP_MAX_PACKET;
    this.linkTypes.push(this.linkType);
    this.lengths = (major === 2 && minor < 3) || major === 543 ? 'swapped' : major === 2 && minor === 3 ? 'maybe' : 'normal';
    // As tshark does: the record layout of µs files and of modified-magic files is guessed.
    this.variants = modified ? MODIFIED_VARIANTS : !this.nanos ? STANDARD_VARIANTS : null;
    this.state = this.variants ? 'detect' : 'pcap';
  }

  private rdCap = 0;
  private rdOrig = 0;

  /** Reads a record's captured and original lengths into rdCap/rdOrig, honouring old versions' order. */
  private pcapLengths(b: Buffer, pos: number): true {
    let cap = this.le ? b.readUInt32LE(pos + 8) : b.readUInt32BE(pos + 8);
    let orig = this.le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12);
    if (this.lengths === 'swapped' || (this.lengths === 'maybe' && cap > orig)) {
      const t = cap;
      cap = orig;
      orig = t;
    }
    this.rdCap = cap;
    this.rdOrig = orig;
    return true;
  }

  private pcapRecord(b: Buffer, pos: number, len: number): void {
    const le = this.le;
    const sec = le ? b.readUInt32LE(pos) : b.readUInt32BE(pos);
    const frac = le ? b.readUInt32LE(pos + 4) : b.readUInt32BE(pos + 4);
    const origLen = this.lengths === 'normal' ? (le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12)) : (this.pcapLengths(b, pos), this.rdOrig);
    const h = this.recHdr;
    let time: Timestamp;
    if (this.nanos ? frac < 1e9 : frac < 1e6) time = { sec, nsec: this.nanos ? frac : frac * 1000, digits: this.nanos ? 9 : 6 };
    else time = pcapTime(sec, frac, this.nanos);
    this.emit(time, this.linkType, len - h, origLen, b, pos + h, pos + len);
  }

  /** One packet, whose captured bytes are b[start..end). */
  private emit(time: Timestamp, linkType: number, capLen: number, origLen: number, b: Buffer, start: number, end: number): void {
    const frame = this.nextFrame++;
    this.packets++;
    // earliest and latest time stamps, as capinfos reports them (captures are not always in time order)
    const lo = this.firstTime;
    if (lo === null || time.sec < lo.sec || (time.sec === lo.sec && time.nsec < lo.nsec)) this.firstTime = time;
    const hi = this.latest;
    if (hi === null || time.sec > hi.sec || (time.sec === hi.sec && time.nsec > hi.nsec)) this.latest = time;
    this.lastTime = time;
    if (capLen < origLen && this.cutCount++ === 0) this.cutFirst = frame;
    const rec = this.rec;
    rec.fill(frame, time, linkType, capLen, origLen, b, start, end);
    this.ev.onPacket(rec);
  }

  private block(b: Buffer, pos: number, len: number, at: number): void {
    const type = this.le ? b.readUInt32LE(pos) : b.readUInt32BE(pos);
    if (type === SHB) {
      this.section(b, pos, len, at);
      return;
    }
    const le = this.le;
    const trailer = le ? b.readUInt32LE(pos + len - 4) : b.readUInt32BE(pos + len - 4);
    if (trailer !== len) {
      this.stop(`pcapng block at offset ${at} has a trailing length ${trailer} that differs from its length ${len}: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len, trailingLength: trailer });
      return;
    }
    switch (type) {
      case EPB: {
        if (len < 32) return this.tooShort(type, len, at);
        const ifId = le ? b.readUInt32LE(pos + 8) : b.readUInt32BE(pos + 8);
        const capLen = le ? b.readUInt32LE(pos + 20) : b.readUInt32BE(pos + 20);
        const origLen = le ? b.readUInt32LE(pos + 24) : b.readUInt32BE(pos + 24);
        if (capLen > len - 32) {
          this.stop(`enhanced packet block at offset ${at} claims ${capLen} captured bytes in a ${len}-byte block: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len, capLen });
          return;
        }
        const iface = this.iface(ifId, at);
        if (!iface) return;
        const hi = le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12);
        const lo = le ? b.readUInt32LE(pos + 16) : b.readUInt32BE(pos + 16);
        const time = ticksToTime(hi, lo, iface.res, iface.offset);
        this.emit(time, iface.linkType, capLen, origLen, b, pos + 28, pos + 28 + capLen);
        return;
      }
      case SPB: {
        if (len < 16) return this.tooShort(type, len, at);
        const iface = this.iface(0, at);
        if (!iface) return;
        const origLen = le ? b.readUInt32LE(pos + 8) : b.readUInt32BE(pos + 8);
        let capLen = Math.min(origLen, len - 16);
        if (iface.snaplen > 0 && capLen > iface.snaplen) capLen = iface.snaplen;
        // No timestamp: tshark shows none; we reuse the previous packet's time (or the epoch).
        const prev = this.lastTime;
        const time: Timestamp = prev ? { sec: prev.sec, nsec: prev.nsec, digits: prev.digits } : { sec: 0, nsec: 0, digits: iface.res.digits };
        this.emit(time, iface.linkType, capLen, origLen, b, pos + 12, pos + 12 + capLen);
        return;
      }
      case PB: {
        if (len < 32) return this.tooShort(type, len, at);
        const ifId = le ? b.readUInt16LE(pos + 8) : b.readUInt16BE(pos + 8);
        const capLen = le ? b.readUInt32LE(pos + 20) : b.readUInt32BE(pos + 20);
        const origLen = le ? b.readUInt32LE(pos + 24) : b.readUInt32BE(pos + 24);
        if (capLen > len - 32) {
          this.stop(`packet block at offset ${at} claims ${capLen} captured bytes in a ${len}-byte block: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len, capLen });
          return;
        }
        const iface = this.iface(ifId, at);
        if (!iface) return;
        const hi = le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12);
        const lo = le ? b.readUInt32LE(pos + 16) : b.readUInt32BE(pos + 16);
        this.emit(ticksToTime(hi, lo, iface.res, iface.offset), iface.linkType, capLen, origLen, b, pos + 28, pos + 28 + capLen);
        return;
      }
      case IDB: {
        if (len < 20) return this.tooShort(type, len, at);
        this.interfaceBlock(b, pos, len);
        return;
      }
      case DSB: {
        if (len < 20) return this.tooShort(type, len, at);
        const secretsType = le ? b.readUInt32LE(pos + 8) : b.readUInt32BE(pos + 8);
        const secretsLen = le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12);
        if (secretsLen > len - 20) {
          this.stop(`decryption secrets block at offset ${at} claims ${secretsLen} bytes in a ${len}-byte block: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len });
          return;
        }
        // copied: the secrets outlive the chunk
        this.ev.onSecrets?.(secretsType, Buffer.from(b.subarray(pos + 16, pos + 16 + secretsLen)), this.nextFrame);
        return;
      }
      default:
        return; // NRB, ISB, custom and unknown blocks: skipped by their length
    }
  }

  private tooShort(type: number, len: number, at: number): void {
    this.stop(`pcapng block at offset ${at} (type ${type}) is too short (${len} bytes) for its type: the capture is damaged, reading stopped there`, at, { blockType: type, blockLength: len });
  }

  private section(b: Buffer, pos: number, len: number, at: number): void {
    const le = b.readUInt32LE(pos + 8) === BOM;
    const trailer = le ? b.readUInt32LE(pos + len - 4) : b.readUInt32BE(pos + len - 4);
    const major = le ? b.readUInt16LE(pos + 12) : b.readUInt16BE(pos + 12);
    const minor = le ? b.readUInt16LE(pos + 14) : b.readUInt16BE(pos + 14);
    const first = this.sections === 0;
    if (major !== 1) {
      const msg = `unknown pcapng section version ${major}.${minor}`;
      if (first) throw new CaptureFormatError(msg);
      this.stop(`${msg} at offset ${at}: reading stopped there`, at, { major, minor });
      return;
    }
    if (trailer !== len) {
      if (first) throw new CaptureFormatError(`not a pcap or pcapng file (section header trailing length ${trailer} differs from ${len})`);
      this.stop(`pcapng section header at offset ${at} has a trailing length ${trailer} that differs from its length ${len}: the capture is damaged, reading stopped there`, at, { blockLength: len, trailingLength: trailer });
      return;
    }
    this.sections++;
    this.le = le;
    this.ifaces = [];
    this.state = 'pcapng';
  }

  private interfaceBlock(b: Buffer, pos: number, len: number): void {
    const le = this.le;
    const linkType = le ? b.readUInt16LE(pos + 8) : b.readUInt16BE(pos + 8);
    const snaplen = le ? b.readUInt32LE(pos + 12) : b.readUInt32BE(pos + 12);
    let res = MICRO;
    let offset = 0;
    let o = pos + 16;
    const endOpts = pos + len - 4;
    while (o + 4 <= endOpts) {
      const code = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
      const olen = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
      if (code === 0 || o + 4 + olen > endOpts) break;
      if (code === 9 && olen >= 1) res = resolution(b[o + 4]);
      else if (code === 14 && olen >= 8) offset = Number(le ? b.readBigInt64LE(o + 4) : b.readBigInt64BE(o + 4));
      o += 4 + olen + ((4 - (olen % 4)) % 4);
    }
    this.ifaces.push({ linkType, snaplen, res, offset });
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
  }

  private iface(id: number, at: number): Iface | null {
    const i = this.ifaces[id];
    if (i) return i;
    this.stop(`packet block at offset ${at} names interface ${id}, but the section has ${this.ifaces.length} interface(s): the capture is damaged, reading stopped there`, at, { interfaceId: id, interfaces: this.ifaces.length });
    return null;
  }

  // ------------------------------------------------------------------ problems

  private stop(message: string, at: number, evidence: Record<string, unknown>): void {
    this.problem('capture.malformed', message, at, evidence);
    this.state = 'stopped';
    this.holdLen = 0;
  }

  private problem(code: CaptureProblem['code'], message: string, at: number, evidence: Record<string, unknown>): void {
    const last = this.packets > 0 ? this.nextFrame - 1 : null;
    this.ev.onProblem({ code, message, input: this.input, frame: last, offset: at, evidence: { ...evidence, lastGoodFrame: last } });
  }
}
