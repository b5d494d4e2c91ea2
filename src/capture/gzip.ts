// Streaming gunzip that loses nothing: parses each gzip member header itself (RFC 1952), inflates the
// deflate data with a raw inflater (which never checks a checksum), keeps a running CRC-32 and size of
// the output and compares them with the member's trailer. Node's Gunzip finds a bad CRC in the same
// native call that produces the last output and then drops that output; here every decompressed byte
// reaches the consumer first and a bad trailer is only reported. Concatenated members are supported;
// zero padding after the last member is ignored. One input chunk is in flight at a time (backpressure).

import * as zlib from 'node:zlib';

/** Something wrong with the gzip framing that does not stop decompression (already-delivered data stays valid). */
export interface GzipIssue {
  code: 'capture.truncated' | 'capture.malformed';
  message: string;
  evidence: Record<string, unknown>;
}

/** The compressed data cannot be decoded any further (bad header, corrupt deflate data). */
export class GzipCorrupt extends Error {
  override name = 'GzipCorrupt';
  constructor(message: string, readonly zlibCode: string | null, readonly member: number) {
    super(message);
  }
}

// ---------------------------------------------------------------- CRC-32

type Crc32 = (data: Buffer, value: number) => number;

let table: Uint32Array | null = null;
/** Table-driven CRC-32 (IEEE 802.3, as gzip uses) for Node versions without zlib.crc32. */
export function crc32Table(data: Buffer, value: number): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const nativeCrc = (zlib as { crc32?: Crc32 }).crc32;
export const crc32: Crc32 = typeof nativeCrc === 'function' ? (d, v) => nativeCrc(d, v) : crc32Table;

// ---------------------------------------------------------------- header (RFC 1952 2.3)

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;
/** A member header longer than this (huge FNAME/FCOMMENT/FEXTRA) is taken as corrupt. */
const HEADER_MAX = 64 << 10;

/** Length of the member header at b[0..], -1 if more bytes are needed; throws a string on a header that is not gzip. */
function headerLength(b: Buffer): number {
  if (b.length >= 1 && b[0] !== 0x1f) throw 'no gzip magic number';
  if (b.length >= 2 && b[1] !== 0x8b) throw 'no gzip magic number';
  if (b.length >= 3 && b[2] !== 8) throw `compression method ${b[2]} is not deflate`;
  if (b.length < 10) return -1;
  const flg = b[3];
  if (flg & FRESERVED) throw `reserved header flags set (0x${flg.toString(16)})`;
  let p = 10; // MAGIC(2) CM FLG MTIME(4) XFL OS
  if (flg & FEXTRA) {
    if (b.length < p + 2) return -1;
    p += 2 + b.readUInt16LE(p);
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (!(flg & f)) continue;
    if (p >= b.length) return -1;
    const z = b.indexOf(0, p);
    if (z < 0) return -1;
    p = z + 1;
  }
  if (flg & FHCRC) {
    if (b.length < p + 2) return -1;
    const want = b.readUInt16LE(p);
    const got = crc32(b.subarray(0, p), 0) & 0xffff;
    if (want !== got) throw `header CRC-16 mismatch (stored ${want.toString(16)}, computed ${got.toString(16)})`;
    p += 2;
  }
  return b.length >= p ? p : -1;
}

// ---------------------------------------------------------------- the stream

type State = 'header' | 'deflate' | 'trailer' | 'between' | 'garbage';

export interface GunzipEvents {
  /** Decompressed bytes, in order. May throw: decompression stops and write()/end() rethrow. */
  onData(chunk: Buffer): void;
  /** A framing problem (bad CRC/ISIZE, cut short, trailing garbage); decompression of what is valid continues. */
  onIssue(issue: GzipIssue): void;
}

export class Gunzip {
  /** Members whose header was read. */
  members = 0;
  /** Compressed bytes fed. */
  compressedBytes = 0;
  /** Decompressed bytes delivered. */
  outBytes = 0;

  private state: State = 'header';
  /** Bytes of a header or trailer that spans input chunks. */
  private pending: Buffer | null = null;
  private inf: zlib.InflateRaw | null = null;
  /** Input bytes written to the current inflater. */
  private infIn = 0;
  private crc = 0;
  private size = 0;
  private zerr: (Error & { code?: string }) | null = null;
  private consumerError: unknown = null;
  private wake: (() => void) | null = null;
  private memberStart = 0;

  constructor(private readonly ev: GunzipEvents, private readonly chunkSize = 256 << 10) {}

  /** Feeds compressed bytes; resolves when they are fully processed. Throws GzipCorrupt, or what onData threw. */
  async write(chunk: Buffer): Promise<void> {
    const base = this.compressedBytes;
    this.compressedBytes += chunk.length;
    let c = chunk;
    let at = base;
    while (c.length > 0) {
      let used: number;
      switch (this.state) {
        case 'header': used = this.header(c, at); break;
        case 'deflate': used = await this.deflate(c); break;
        case 'trailer': used = this.trailer(c); break;
        case 'between': used = this.between(c, at); break;
        case 'garbage': return;
      }
      c = c.subarray(used);
      at += used;
    }
  }

  /** The input ended: reports a member cut short. Throws GzipCorrupt, or what onData threw. */
  async end(): Promise<void> {
    switch (this.state) {
      case 'header': {
        const have = this.pending?.length ?? 0;
        if (this.members === 0) throw new GzipCorrupt(`cut short in its header (${have} bytes)`, null, 1);
        this.cut(`inside the header of gzip member ${this.members + 1}`, { headerBytes: have });
        break;
      }
      case 'deflate': {
        const inf = this.inf!;
        await this.inflate((done) => inf.end(done));
        this.check();
        this.dropInflater();
        this.cut(`before the end of gzip member ${this.members} (its compressed data or trailer is missing)`, {});
        break;
      }
      case 'trailer':
        this.cut(`inside the gzip trailer (${this.pending?.length ?? 0} of 8 bytes)`, { trailerBytes: this.pending?.length ?? 0 });
        break;
      default:
        break;
    }
    this.pending = null;
  }

  /** Releases the inflater (after an error from elsewhere, e.g. the input stream). */
  close(): void {
    this.dropInflater();
    this.state = 'garbage';
  }

  private cut(where: string, evidence: Record<string, unknown>): void {
    this.ev.onIssue({
      code: 'capture.truncated',
      message: `the gzip-compressed capture was cut short ${where}: packets before the cut are analysed`,
      evidence: { ...evidence, member: this.members, compressedBytes: this.compressedBytes, decompressedBytes: this.outBytes },
    });
  }

  /** Joins a partial header/trailer with the start of c (bounded), for parsing. */
  private joined(c: Buffer, max: number): Buffer {
    return this.pending ? Buffer.concat([this.pending, c.subarray(0, max)]) : c;
  }

  /** Keeps the unparsed bytes of a header/trailer for the next chunk; returns bytes of c used (all). */
  private keep(view: Buffer, c: Buffer): number {
    this.pending = Buffer.from(view); // a copy: the caller's chunk may be reused
    return c.length;
  }

  private header(c: Buffer, at: number): number {
    const before = this.pending?.length ?? 0;
    const view = this.joined(c, HEADER_MAX);
    let n: number;
    try {
      n = headerLength(view);
      if (n < 0 && view.length >= HEADER_MAX) throw `header longer than ${HEADER_MAX} bytes`;
    } catch (reason) {
      if (typeof reason !== 'string') throw reason;
      throw new GzipCorrupt(`gzip member ${this.members + 1} header is invalid: ${reason}`, null, this.members + 1);
    }
    if (n < 0) return this.keep(view, c);
    this.pending = null;
    this.members++;
    this.memberStart = at - before;
    this.crc = 0;
    this.size = 0;
    this.infIn = 0;
    this.zerr = null;
    const inf = zlib.createInflateRaw({ chunkSize: this.chunkSize, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    inf.on('data', (out: Buffer) => {
      if (this.consumerError !== null) return;
      this.crc = crc32(out, this.crc);
      this.size += out.length;
      this.outBytes += out.length;
      try {
        this.ev.onData(out);
      } catch (e) {
        this.consumerError = e;
        inf.destroy();
      }
    });
    // Events of an inflater already dropped (its 'close' comes later) must not wake the next one's write.
    inf.on('error', (e) => {
      if (this.inf !== inf) return;
      this.zerr = e;
      this.wake?.();
    });
    inf.on('close', () => {
      if (this.inf === inf) this.wake?.();
    });
    this.inf = inf;
    this.state = 'deflate';
    return n - before;
  }

  /** Runs one write/end on the inflater and waits until its output has been delivered (or it failed). */
  private inflate(start: (done: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      start(() => resolve());
    }).finally(() => {
      this.wake = null;
    });
  }

  private check(): void {
    if (this.consumerError !== null) {
      const e = this.consumerError;
      this.dropInflater();
      throw e;
    }
    if (this.zerr) {
      const e = this.zerr;
      this.dropInflater();
      throw new GzipCorrupt(`gzip member ${this.members} data is corrupt (${e.message})`, e.code ?? null, this.members);
    }
  }

  private dropInflater(): void {
    const inf = this.inf;
    this.inf = null;
    if (inf) {
      inf.removeAllListeners('data');
      inf.destroy();
    }
  }

  private async deflate(c: Buffer): Promise<number> {
    const inf = this.inf!;
    await this.inflate((done) => inf.write(c, done));
    this.check();
    this.infIn += c.length;
    // A raw inflater stops at the end of the deflate data: bytes it did not take are the trailer and after.
    const left = this.infIn - inf.bytesWritten;
    if (left === 0) return c.length;
    this.dropInflater();
    this.state = 'trailer';
    return c.length - left;
  }

  private trailer(c: Buffer): number {
    const before = this.pending?.length ?? 0;
    const view = this.joined(c, 8);
    if (view.length < 8) return this.keep(view, c);
    this.pending = null;
    const crc = view.readUInt32LE(0);
    const isize = view.readUInt32LE(4);
    const size32 = this.size % 0x1_0000_0000;
    const bad: string[] = [];
    if (crc !== this.crc) bad.push(`CRC-32 ${hex(crc)} stored, ${hex(this.crc)} computed`);
    if (isize !== size32) bad.push(`size ${isize} stored, ${size32} (mod 2^32) decompressed`);
    if (bad.length > 0) {
      this.ev.onIssue({
        code: 'capture.malformed',
        message: `the gzip trailer of member ${this.members} does not match its data (${bad.join('; ')}): the file is damaged; all of its packets were analysed`,
        evidence: {
          member: this.members,
          storedCrc32: hex(crc),
          computedCrc32: hex(this.crc),
          storedSize: isize,
          decompressedSize: this.size,
          memberOffset: this.memberStart,
        },
      });
    }
    this.state = 'between';
    return 8 - before;
  }

  /** After a member: zero padding is skipped, 1f starts another member, anything else is reported and ignored. */
  private between(c: Buffer, at: number): number {
    let i = 0;
    while (i < c.length && c[i] === 0) i++;
    if (i === c.length) return i;
    if (c[i] === 0x1f) {
      this.state = 'header';
      return i;
    }
    this.state = 'garbage';
    this.ev.onIssue({
      code: 'capture.malformed',
      message: `bytes after the gzip data at compressed offset ${at + i} are not gzip: they were ignored`,
      evidence: { compressedOffset: at + i, firstByte: c[i], members: this.members },
    });
    return c.length;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
