// Reassembly of one direction of a TCP connection: orders segments by sequence number (modular 32-bit
// arithmetic), delivers each byte once (on overlap the first-seen bytes win, as Wireshark does), buffers
// out-of-order data up to a byte bound, and reports holes that will never be filled as explicit gaps
// (never filling them with zeros). It knows nothing about the protocol on top.
//
// Offsets are stream offsets (0 = first byte after the SYN, or, when the capture starts mid-stream, the
// first sequence number seen, moved back to the first data if that comes before it and nothing was delivered). They are plain numbers so streams longer than 4 GiB keep counting; a
// sequence number is turned into an offset relative to the next expected one, so wrap past 2^32 is free.

import type { StreamChunk, TcpGap, Timestamp } from '../types.js';

/** Where one direction's in-order results go (the tracker binds these to a TcpStreamHandler and a Direction). */
export interface ReassemblySink {
  data(chunk: StreamChunk): void;
  gap(gap: TcpGap): void;
  /** The FIN was reached in sequence. */
  fin(frame: number): void;
}

/** What segment() made of a segment, for statistics. */
export const enum SegmentKind {
  /** No payload, or payload delivered / buffered with nothing seen before. */
  New = 0,
  /** All or part of the payload had been seen already (retransmission). */
  Retransmission = 1,
  /** Buffered ahead of a hole. */
  OutOfOrder = 2,
  /** seq = next-1 with 0 or 1 byte (keep-alive), or payload entirely before the stream start: ignored. */
  Ignored = 3,
}

/** A buffered piece of the stream: captured bytes, or (data === null) bytes known to be missing (snaplen cut). */
interface Piece {
  start: number;
  end: number;
  data: Buffer | null;
  frame: number;
  time: Timestamp;
}

/** A copy kept for out-of-order pieces (memcpy; Buffer.from(buffer) goes byte by byte on Node 20). */
function copy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  b.copy(out, 0, 0, b.length);
  return out;
}

const TH_FIN = 0x01;
const TH_SYN = 0x02;

/** An ACK further ahead than this (1 GiB) of the next expected byte is not believed. */
export const MAX_ACK_AHEAD = 2 ** 30;

/** Most pieces kept out of order per direction, whatever their size (bounds the insertion cost). */
export const MAX_PENDING_PIECES = 4096;

export class Reassembler {
  /** False until the first segment of this direction sets the initial sequence number. */
  initialized = false;
  /** The direction ended: FIN delivered in order, or closed by the owner (RST). */
  ended = false;
  /** Next sequence number expected (unsigned 32-bit) and its stream offset. */
  private nextSeq = 0;
  nextOffset = 0;
  /** Frame that carried the last byte delivered (gap.frameBefore). */
  private lastFrame: number | null = null;
  private pending: Piece[] = [];
  /** Captured bytes held in `pending`. */
  pendingBytes = 0;
  /** Stream offset of the FIN (its sequence slot), -1 until one is seen. */
  private finOffset = -1;
  private finFrame = 0;
  /** Highest offset the peer acknowledged (exclusive), -1 if none. */
  private ackedOffset = -1;
  /** Bytes delivered (captured, each once). */
  delivered = 0;
  /** Bytes declared missing (gaps). delivered + missing = how far the stream got (nextOffset). */
  missing = 0;
  /** Set when the out-of-order bound forced a hole to be declared (the owner reports and clears it). */
  overflowed = false;
  /** The start was taken from a segment without data and without SYN: the first data may move it back. */
  private provisional = false;

  constructor(private readonly limitBytes: number, private readonly sink: ReassemblySink) {}

  /** Stream offset of a sequence number, relative to the next expected one (modular, signed 32-bit). */
  private offsetOf(seq: number): number {
    return this.nextOffset + ((seq - this.nextSeq) | 0);
  }

  private advanceTo(offset: number): void {
    this.nextSeq = (this.nextSeq + (offset - this.nextOffset)) >>> 0;
    this.nextOffset = offset;
  }

  /**
   * One segment of this direction. `payload` is only read during the call (bytes kept are copied).
   * `missing` = payload bytes that were on the wire but not captured (snap length): a gap right after them.
   * RST payload (diagnostic text) must not be passed as stream data: the caller passes an empty payload.
   */
  segment(seq: number, flags: number, payload: Buffer, missing: number, frame: number, time: Timestamp): SegmentKind {
    if (!this.initialized) {
      this.initialized = true;
      this.nextSeq = flags & TH_SYN ? (seq + 1) >>> 0 : seq >>> 0;
      this.nextOffset = 0;
      this.provisional = (flags & TH_SYN) === 0;
    } else if (flags & TH_SYN && this.nextOffset === 0 && this.delivered === 0 && this.pending.length === 0 && this.finOffset < 0 && this.ackedOffset <= 0) {
      // a SYN (or SYN-ACK) seen before anything was delivered fixes the start, e.g. a new ISN on a retried SYN-ACK
      this.nextSeq = (seq + 1) >>> 0;
      this.provisional = false;
    }
    if (this.ended) return SegmentKind.Ignored;
    const dataSeq = flags & TH_SYN ? (seq + 1) >>> 0 : seq >>> 0;
    const len = payload.length + missing;
    let o = this.offsetOf(dataSeq);
    if (this.provisional && len > 0) {
      // The first data of a direction whose start came from a segment without data (no SYN seen): a
      // pure ACK's sequence number may be corrupt or ahead of retransmitted data. Like Wireshark, whose
      // reassembly position (maxnextseq) is only set by data, data before that start is not thrown
      // away while nothing has been delivered: the stream is re-based on it. A keep-alive (one byte at
      // start-1) is still ignored.
      this.provisional = false;
      if (o < 0 && !(o === -1 && len <= 1) && this.delivered === 0 && this.missing === 0 && this.pending.length === 0 && this.finOffset < 0) {
        const shift = -o;
        this.nextSeq = dataSeq;
        if (this.ackedOffset >= 0) this.ackedOffset += shift;
        o = 0;
      }
    }
    let kind = SegmentKind.New;
    if (len > 0) {
      let e = o + len;
      if (this.finOffset >= 0 && e > this.finOffset) e = this.finOffset; // nothing follows a FIN
      if (e <= this.nextOffset) {
        // already delivered: retransmission, keep-alive (seq = next-1, 0/1 byte) or pre-capture data
        kind = o === this.nextOffset - 1 && len <= 1 ? SegmentKind.Ignored : o < 0 ? SegmentKind.Ignored : SegmentKind.Retransmission;
      } else {
        kind = this.place(o, e, payload, frame, time);
        this.drain();
        this.checkOverflow();
        this.resolveAcked();
      }
    }
    if (flags & TH_FIN) {
      const f = o + len;
      if (this.finOffset < 0 && f >= this.nextOffset) {
        this.finOffset = f;
        this.finFrame = frame;
        // drop buffered pieces beyond the FIN
        while (this.pending.length && this.pending[this.pending.length - 1].end > f) {
          const p = this.pending[this.pending.length - 1];
          if (p.start >= f) {
            this.pending.pop();
            if (p.data) this.pendingBytes -= p.data.length;
          } else {
            if (p.data) {
              this.pendingBytes -= p.end - f;
              p.data = p.data.subarray(0, f - p.start);
            }
            p.end = f;
          }
        }
        this.resolveAcked();
      }
      this.checkFin();
    }
    return kind;
  }

  /**
   * The peer acknowledged everything before `ack`: bytes before it that were not captured never will be.
   * An ACK more than MAX_ACK_AHEAD past the next expected byte is taken as bogus and ignored.
   */
  ack(ack: number): void {
    if (!this.initialized || this.ended) return;
    const off = this.offsetOf(ack >>> 0);
    if (off > this.ackedOffset && off - this.nextOffset <= MAX_ACK_AHEAD) {
      this.ackedOffset = off;
      this.resolveAcked();
    }
  }

  /**
   * Make every hole permanent (RST, end of capture, release): deliver what is buffered with gaps between,
   * a gap up to what the peer acknowledged or up to the FIN, and the FIN if it was seen.
   */
  flush(): void {
    if (this.ended) return;
    while (this.pending.length) {
      const p = this.pending[0];
      if (p.start > this.nextOffset) this.declareGap(p.start, p.frame);
      this.drain();
    }
    let limit = this.ackedOffset;
    if (this.finOffset >= 0) limit = this.finOffset;
    const bytes = limit - this.nextOffset;
    // a single unseen byte that the peer acknowledged, with no FIN seen: it was the FIN, not data
    if (bytes > 1 || (bytes === 1 && this.finOffset >= 0)) this.declareGap(limit, null);
    this.checkFin();
  }

  /** Mark the direction ended without a FIN (RST or release), after flush(). */
  close(): void {
    this.ended = true;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  // ------------------------------------------------------------------ internals

  /**
   * Place [o, e) of a segment: the parts not already delivered nor buffered (first-seen bytes win) are
   * delivered at once when they start at the next expected offset, buffered otherwise.
   */
  private place(o: number, e: number, payload: Buffer, frame: number, time: Timestamp): SegmentKind {
    const capEnd = o + payload.length; // captured bytes are [o, capEnd), the rest is missing
    let cur = o < this.nextOffset ? this.nextOffset : o;
    let kind = o < this.nextOffset ? SegmentKind.Retransmission : SegmentKind.New;
    const pend = this.pending;
    let i = this.firstPieceEndingAfter(cur);
    while (cur < e) {
      const p = i < pend.length ? pend[i] : null;
      if (p && p.start <= cur) {
        // covered by a piece seen earlier
        kind = SegmentKind.Retransmission;
        cur = p.end;
        i++;
        continue;
      }
      const stop = p && p.start < e ? p.start : e;
      // [cur, stop) is new: split into its captured and missing parts
      if (cur < capEnd) {
        const to = stop < capEnd ? stop : capEnd;
        // the usual case, a whole new segment, is handed over as it is (no view object per segment)
        const bytes = cur === o && to === capEnd ? payload : payload.subarray(cur - o, to - o);
        i = this.put(i, cur, to, bytes, frame, time);
        cur = to;
      }
      if (cur < stop) {
        i = this.put(i, cur, stop, null, frame, time);
        cur = stop;
      }
    }
    if (kind === SegmentKind.New && o > this.nextOffset) kind = SegmentKind.OutOfOrder;
    return kind;
  }

  /**
   * Deliver [start, end) now if it is next in order (as a view of the caller's payload: the handler reads it
   * during the call and copies what it keeps), else buffer a copy at index i; returns the next index.
   */
  private put(i: number, start: number, end: number, bytes: Buffer | null, frame: number, time: Timestamp): number {
    if (start === this.nextOffset && (this.pending.length === 0 || this.pending[0].start >= end)) {
      this.emit(start, end, bytes, frame, time);
      return i;
    }
    const data = bytes === null ? null : copy(bytes);
    this.pending.splice(i, 0, { start, end, data, frame, time });
    if (data) this.pendingBytes += data.length;
    return i + 1;
  }

  /** Hand over in-order bytes (or a known-missing range) at the next offset. */
  private emit(start: number, end: number, data: Buffer | null, frame: number, time: Timestamp): void {
    if (data === null) {
      this.declareGap(end, null, frame);
      return;
    }
    this.advanceTo(end);
    this.lastFrame = frame;
    this.delivered += data.length;
    this.sink.data({ data, streamOffset: start, offsets: [0], frames: [frame], times: [time] });
  }

  /** Index of the first buffered piece whose end is after `off` (binary search). */
  private firstPieceEndingAfter(off: number): number {
    const pend = this.pending;
    let lo = 0, hi = pend.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pend[mid].end <= off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Deliver buffered pieces that are now in order. */
  private drain(): void {
    const pend = this.pending;
    let n = 0;
    while (n < pend.length && pend[n].start <= this.nextOffset) {
      const p = pend[n++];
      if (p.data) this.pendingBytes -= p.data.length;
      if (p.end <= this.nextOffset) continue;
      const skip = this.nextOffset - p.start;
      this.emit(this.nextOffset, p.end, p.data && skip > 0 ? p.data.subarray(skip) : p.data, p.frame, p.time);
    }
    if (n) pend.splice(0, n);
    this.checkFin();
  }

  /** Bytes [nextOffset, to) will never be seen: report them and move on. */
  private declareGap(to: number, frameAfter: number | null, frameBefore: number | null = this.lastFrame): void {
    const bytes = to - this.nextOffset;
    if (bytes <= 0) return;
    const gap: TcpGap = { streamOffset: this.nextOffset, bytes, frameBefore, frameAfter };
    this.missing += bytes;
    this.advanceTo(to);
    this.sink.gap(gap);
  }

  /** Over the out-of-order bound: the oldest hole is declared permanent until back under it. */
  private checkOverflow(): void {
    while (this.pending.length && (this.pendingBytes > this.limitBytes || this.pending.length > MAX_PENDING_PIECES)) {
      this.overflowed = true;
      const p = this.pending[0];
      this.declareGap(p.start, p.frame);
      this.drain();
    }
  }

  /** Holes below what the peer acknowledged are permanent: the receiver got bytes the capture did not. */
  private resolveAcked(): void {
    if (this.ended) return;
    while (this.ackedOffset > this.nextOffset) {
      const p = this.pending.length ? this.pending[0] : null;
      if (p && p.start <= this.ackedOffset) {
        this.declareGap(p.start, p.frame);
        this.drain();
        continue;
      }
      let limit = this.ackedOffset;
      if (this.finOffset >= 0 && this.finOffset < limit) limit = this.finOffset;
      const bytes = limit - this.nextOffset;
      // One unseen byte acknowledged with nothing after it may be a FIN the capture missed: wait for
      // later data (which proves it was data) or the end of the direction.
      if (bytes === 1 && !p && this.finOffset < 0) break;
      this.declareGap(limit, null);
      break;
    }
    this.checkFin();
  }

  private checkFin(): void {
    if (!this.ended && this.finOffset >= 0 && this.nextOffset >= this.finOffset) {
      this.ended = true;
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.sink.fin(this.finFrame);
    }
  }
}
