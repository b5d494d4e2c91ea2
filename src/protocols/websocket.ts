// WebSocket framing (RFC 6455 section 5) for one direction of a connection after "101 Switching Protocols":
// reads frame headers (7-bit, 16-bit and 64-bit payload lengths, masking key), unmasks the payload of text,
// binary and continuation frames and hands it on as one ordered byte stream (fragments joined), with the
// frames that carried each byte, so a protocol parser (SIP over WebSocket, RFC 7118) can frame messages in it.
// Control frames (close, ping, pong) are skipped; a close frame ends the stream. Compressed messages
// (permessage-deflate, RSV1) cannot be read without the deflate context: they are skipped and reported.

import type { StreamChunk, TcpGap, Timestamp } from '../types.js';
import type { MalformedEvent } from './http.js';

export interface WebSocketEvents {
  /** Unmasked payload bytes of data frames, in order. The chunk is valid only during the call. */
  onData(chunk: StreamChunk): void;
  /** Payload bytes that will never be seen (a TCP hole inside a frame's payload). */
  onGap(g: TcpGap): void;
  onMalformed(e: MalformedEvent): void;
}

type Phase = 'header' | 'payload' | 'closed' | 'lost';

/** Longest frame header: 2 bytes, 8 of extended length, 4 of masking key. */
const MAX_HEADER = 14;

export class WebSocketDeframer {
  private phase: Phase = 'header';
  private readonly hdr = Buffer.alloc(MAX_HEADER);
  private hdrLen = 0;
  /** Payload bytes left in the current frame. */
  private remaining = 0;
  private mask: Buffer | null = null;
  /** Payload bytes of the current frame already read (the masking key position). */
  private maskPos = 0;
  /** The current frame's payload goes on (data frame) or is skipped (control frame, compressed message). */
  private deliver = false;
  /** The message being read is compressed (its continuation frames are skipped too). */
  private compressed = false;
  /** Offset in the unmasked payload stream handed on. */
  private out = 0;
  private reported = false;

  constructor(private readonly ev: WebSocketEvents) {}

  push(chunk: StreamChunk): void {
    const d = chunk.data;
    let pos = 0;
    while (pos < d.length && this.phase !== 'closed' && this.phase !== 'lost') {
      if (this.phase === 'header') {
        const need = this.headerNeed(d, pos);
        if (this.hdrLen + (d.length - pos) < need) {
          d.copy(this.hdr, this.hdrLen, pos);
          this.hdrLen += d.length - pos;
          return;
        }
        const take = need - this.hdrLen;
        d.copy(this.hdr, this.hdrLen, pos, pos + take);
        this.hdrLen = need;
        pos += take;
        this.startFrame(chunk, pos);
        continue;
      }
      const n = Math.min(d.length - pos, this.remaining);
      if (this.deliver && n > 0) this.emit(chunk, pos, pos + n);
      else this.maskPos += n;
      pos += n;
      this.remaining -= n;
      if (this.remaining === 0) this.phase = 'header';
    }
  }

  /** Bytes of this direction were not captured. Inside a payload the framing holds; elsewhere it is lost. */
  gap(g: TcpGap): void {
    if (this.phase === 'closed' || this.phase === 'lost') return;
    const lost = g.bytes;
    if (this.phase === 'payload' && lost > 0 && lost < this.remaining) {
      this.remaining -= lost;
      this.maskPos += lost;
      if (this.deliver) {
        this.ev.onGap({ ...g, streamOffset: this.out, bytes: lost });
        this.out += lost;
      }
      return;
    }
    // The next frame header is somewhere in the hole: nothing after it can be framed.
    if (this.deliver || this.phase === 'header') this.ev.onGap({ ...g, streamOffset: this.out });
    this.phase = 'lost';
  }

  /** Header length implied by the bytes seen so far (2 until the length byte is known). */
  private headerNeed(d: Buffer, pos: number): number {
    const b1 = this.hdrLen >= 2 ? this.hdr[1] : this.hdrLen === 1 ? d[pos] : pos + 1 < d.length ? d[pos + 1] : -1;
    if (b1 < 0) return 2;
    const len7 = b1 & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  }

  private startFrame(chunk: StreamChunk, pos: number): void {
    const h = this.hdr;
    const fin = (h[0] & 0x80) !== 0;
    const rsv1 = (h[0] & 0x40) !== 0;
    const opcode = h[0] & 0x0f;
    const masked = (h[1] & 0x80) !== 0;
    let len = h[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      len = h.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      const big = h.readBigUInt64BE(2);
      at = 10;
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.fail(chunk, pos, 'frame length beyond 2^53');
      len = Number(big);
    }
    this.mask = masked ? Buffer.from(h.subarray(at, at + 4)) : null;
    this.maskPos = 0;
    this.hdrLen = 0;
    this.remaining = len;
    if (opcode >= 8) {
      // Control frame: at most 125 bytes, never fragmented. Close ends the stream.
      if (len > 125 || !fin) return this.fail(chunk, pos, `bad control frame (opcode ${opcode})`);
      if (opcode === 8) {
        this.phase = 'closed';
        return;
      }
      this.deliver = false;
    } else if (opcode === 1 || opcode === 2) {
      this.compressed = rsv1;
      if (rsv1) this.report(chunk, pos, 'compressed WebSocket message (permessage-deflate) not decoded');
      this.deliver = !rsv1;
    } else if (opcode === 0) {
      this.deliver = !this.compressed;
    } else {
      return this.fail(chunk, pos, `reserved WebSocket opcode ${opcode}`);
    }
    this.phase = len > 0 ? 'payload' : 'header';
  }

  private emit(chunk: StreamChunk, a: number, b: number): void {
    let data = chunk.data.subarray(a, b);
    if (this.mask) {
      const m = this.mask;
      const copy = Buffer.allocUnsafe(b - a);
      let k = this.maskPos;
      for (let i = 0; i < copy.length; i++, k++) copy[i] = data[i] ^ m[k & 3];
      data = copy;
    }
    this.maskPos += b - a;
    const offsets: number[] = [];
    const frames: number[] = [];
    const times: Timestamp[] = [];
    const offs = chunk.offsets;
    let k = 0;
    while (k + 1 < offs.length && offs[k + 1] <= a) k++;
    for (; k < offs.length && offs[k] < b; k++) {
      offsets.push(Math.max(offs[k], a) - a);
      frames.push(chunk.frames[k]);
      times.push(chunk.times[k]);
    }
    this.ev.onData({ data, streamOffset: this.out, offsets, frames, times });
    this.out += b - a;
  }

  private fail(chunk: StreamChunk, pos: number, reason: string): void {
    this.report(chunk, pos, reason);
    this.phase = 'lost';
  }

  private report(chunk: StreamChunk, pos: number, reason: string): void {
    if (this.reported) return;
    this.reported = true;
    let k = 0;
    while (k + 1 < chunk.offsets.length && chunk.offsets[k + 1] <= pos) k++;
    this.ev.onMalformed({ frame: chunk.frames[k] ?? 0, streamOffset: chunk.streamOffset + pos, reason });
  }
}
