// Recognises what a byte stream carries from its first bytes (HTTP/1.x or SIP start line, TLS record),
// and finds start lines inside a stream when a parser has to resynchronise after a gap or an error.

import type { Timestamp } from '../types.js';

export type StartKind = 'http-request' | 'http-response' | 'sip-request' | 'sip-response' | 'tls';

const CR = 13;
const LF = 10;
const SP = 32;

/** Longest method token accepted (longer is not a start line). */
const MAX_METHOD = 32;

/** Method tokens as recognised here: an upper-case letter, then upper-case letters, digits, '_', '-', '.'. */
function isMethodByte(b: number): boolean {
  return (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b === 45 || b === 95 || b === 46;
}

/** True when `buf[at..]` matches `lit` for as many bytes as are present; sets `full` when all were. */
function prefixMatch(buf: Buffer, at: number, lit: string): 'yes' | 'short' | 'no' {
  for (let i = 0; i < lit.length; i++) {
    if (at + i >= buf.length) return 'short';
    if (buf[at + i] !== lit.charCodeAt(i)) return 'no';
  }
  return 'yes';
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 48 && b <= 57;
}

/** "PROTO/M.m SP" at `at`, e.g. "HTTP/1." digit SP. */
function statusLinePrefix(buf: Buffer, at: number, proto: 'HTTP/1.' | 'SIP/2.0'): 'yes' | 'short' | 'no' {
  const m = prefixMatch(buf, at, proto);
  if (m !== 'yes') return m;
  let i = at + proto.length;
  if (proto === 'HTTP/1.') {
    if (i >= buf.length) return 'short';
    if (!isDigit(buf[i])) return 'no';
    i++;
  }
  if (i >= buf.length) return 'short';
  return buf[i] === SP ? 'yes' : 'no';
}

/**
 * What the first bytes a direction sent start with: an HTTP/1.x or SIP/2.0 request or status line, or a
 * TLS handshake record. Leading CR/LF (keep-alives) are skipped. Returns null when the bytes are not one
 * of those, or when the prefix is too short to tell.
 */
export function detectStart(first: Buffer): StartKind | null {
  let at = 0;
  while (at < first.length && (first[at] === CR || first[at] === LF)) at++;
  if (at >= first.length) return null;
  const b0 = first[at];
  if (b0 === 0x16) {
    if (at !== 0 || first.length < 3) return null;
    return first[1] === 0x03 && first[2] <= 0x04 ? 'tls' : null;
  }
  if (statusLinePrefix(first, at, 'HTTP/1.') === 'yes') return 'http-response';
  if (statusLinePrefix(first, at, 'SIP/2.0') === 'yes') return 'sip-response';
  // Request line: METHOD SP target SP version
  let i = at;
  if (b0 < 65 || b0 > 90) return null;
  while (i < first.length && i - at <= MAX_METHOD && isMethodByte(first[i])) i++;
  if (i >= first.length || i === at || i - at > MAX_METHOD || first[i] !== SP) return null;
  // Runs of spaces between the words are tolerated (RFC 9112 section 3 lets recipients split on whitespace).
  while (i < first.length && first[i] === SP) i++;
  if (i >= first.length) return null;
  const targetStart = i;
  while (i < first.length && first[i] > SP && first[i] !== 0x7f) i++;
  if (i === targetStart) return null;
  if (i >= first.length) {
    // Origin-form target ("/path"): only HTTP uses it; decide without waiting for the version.
    return first[targetStart] === 0x2f ? 'http-request' : null;
  }
  if (first[i] !== SP) return null;
  while (i < first.length && first[i] === SP) i++;
  if (prefixMatch(first, i, 'HTTP/1.') === 'yes' && (i + 7 >= first.length || isDigit(first[i + 7]))) {
    return 'http-request';
  }
  if (prefixMatch(first, i, 'SIP/2.0') === 'yes') return 'sip-request';
  if (first[targetStart] === 0x2f && prefixMatch(first, i, 'HTTP/1.') === 'short') return 'http-request';
  return null;
}

// ---------------------------------------------------------------- whole start lines

/** Start lines as a resync accepts them (stricter than the parsers: upper-case methods). Lines without CR/LF. */
const HTTP_REQUEST_LINE = /^[A-Z][A-Z0-9_.-]{0,31} +[^ ]+ +HTTP\/1\.\d$/;
const HTTP_STATUS_LINE = /^HTTP\/1\.\d \d{3}(?: .*)?$/;
const SIP_REQUEST_LINE = /^[A-Z][A-Z0-9_.-]{0,31} [^ ]+ SIP\/2\.0$/;
const SIP_STATUS_LINE = /^SIP\/2\.0 \d{3}(?: .*)?$/;

export type LineKind = 'http-request' | 'http-response' | 'sip';

/** Does a complete line (CR/LF removed) look like the start of a message of this kind? */
export function isStartLine(line: string, kind: LineKind): boolean {
  switch (kind) {
    case 'http-request':
      return HTTP_REQUEST_LINE.test(line);
    case 'http-response':
      return HTTP_STATUS_LINE.test(line);
    case 'sip':
      return SIP_STATUS_LINE.test(line) || SIP_REQUEST_LINE.test(line);
  }
}

/** Cheap first-byte filter before a line is turned into a string. */
function firstByteFits(b: number, kind: LineKind): boolean {
  if (kind === 'http-response') return b === 0x48; // 'H'
  return b >= 65 && b <= 90; // upper-case letter: method, or the 'S' of SIP/2.0
}

export interface ScanFound {
  /** Index in the scanned buffer where the start line begins, or -1 when it began in earlier bytes (`carry`). */
  index: number;
  /** Bytes of the start line that came in earlier chunks (when index is -1). */
  carry: Buffer | null;
  carryOffset: number;
  carryFrame: number;
  carryTime: Timestamp | null;
}

/**
 * Finds the next start line in a byte stream, chunk by chunk. Only positions at the start of a line (or
 * the first position after reset(true)) are candidates; a candidate line is accepted when it is whole and
 * matches isStartLine. A line longer than maxLine is not a candidate. Memory: at most maxLine bytes.
 */
export class StartLineScanner {
  private atLineStart = false;
  private carry: Buffer[] = [];
  private carryLen = 0;
  private carryOffset = 0;
  private carryFrame = 0;
  private carryTime: Timestamp | null = null;
  /** The current line is not a candidate (too long, or did not start at a line start). */
  private skipping = true;

  constructor(private kind: LineKind, private maxLine: number) {}

  reset(atLineStart: boolean): void {
    this.atLineStart = atLineStart;
    this.skipping = !atLineStart;
    this.carry = [];
    this.carryLen = 0;
    this.carryTime = null;
  }

  /**
   * The bytes that follow begin a TCP segment: a candidate position, like a line start, unless a candidate
   * line is already being read across the boundary.
   */
  segmentStart(): void {
    if (this.skipping) this.atLineStart = true;
  }

  /**
   * Scan buf[pos, end). `offsetOf(i)`/`frameOf(i)`/`timeOf(i)` describe buffer positions. Returns where a
   * start line begins, or null when the bytes were consumed without finding one.
   */
  scan(buf: Buffer, pos: number, end: number, at: { offset: (i: number) => number; frame: (i: number) => number; time: (i: number) => Timestamp }): ScanFound | null {
    while (pos < end) {
      if (this.atLineStart) {
        this.atLineStart = false;
        this.skipping = !firstByteFits(buf[pos], this.kind);
        this.carry = [];
        this.carryLen = 0;
        this.carryOffset = at.offset(pos);
        this.carryFrame = at.frame(pos);
        this.carryTime = at.time(pos);
        this.lineStart = pos;
      }
      let nl = buf.indexOf(LF, pos);
      if (nl < 0 || nl >= end) nl = -1;
      const stop = nl < 0 ? end : nl;
      if (!this.skipping) {
        const lineBytes = this.carryLen + (stop - pos);
        if (lineBytes > this.maxLine) {
          this.skipping = true;
          this.carry = [];
          this.carryLen = 0;
        } else if (nl < 0) {
          this.carry.push(Buffer.from(buf.subarray(pos, end)));
          this.carryLen += end - pos;
          return null;
        } else {
          let s = this.carryLen ? Buffer.concat([...this.carry, buf.subarray(pos, nl)]).toString('latin1') : buf.toString('latin1', pos, nl);
          if (s.endsWith('\r')) s = s.slice(0, -1);
          if (isStartLine(s, this.kind)) {
            const hadCarry = this.carryLen > 0;
            const found: ScanFound = {
              index: hadCarry ? -1 : this.lineStart,
              carry: hadCarry ? Buffer.concat(this.carry) : null,
              carryOffset: this.carryOffset,
              carryFrame: this.carryFrame,
              carryTime: this.carryTime,
            };
            this.reset(false);
            return found;
          }
          this.carry = [];
          this.carryLen = 0;
        }
      }
      if (nl < 0) return null;
      pos = nl + 1;
      this.atLineStart = true;
    }
    return null;
  }

  /** Buffer index where the current candidate line began (valid within the scan that set it). */
  private lineStart = 0;
}
