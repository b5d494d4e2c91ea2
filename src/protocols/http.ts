// HTTP/1.x messages from one direction of a TCP connection. http-parser-js parses each start line and
// header block (its headers callback returns 2, so execute() stops at the end of every header block),
// except a plain head that is whole in one chunk, which fastHead reads the same way at a fraction of the cost;
// this wrapper frames the body itself (Content-Length, chunked with trailers, close-delimited, no body for
// HEAD/1xx/204/304, CONNECT/101 tunnels), maps bytes to the frames that carried them, bounds memory,
// marks messages cut by gaps, and resynchronises on the next start line after a gap or an error.

import { HTTPParser } from 'http-parser-js';
import type { HttpHeaders, Limits, Message, StreamChunk, TcpGap, Timestamp } from '../types.js';
import { decodeBody } from './body.js';
import { StartLineScanner } from './detect.js';

// Header bytes are bytes, not ASCII: keep the high bit (the library's default 'ascii' strips it). Set once.
HTTPParser.encoding = 'latin1';

export interface MalformedEvent {
  /** Frame that carried the first byte of what could not be parsed. */
  frame: number;
  /** Offset of that byte in the direction's byte stream. */
  streamOffset: number;
  reason: string;
}

export interface HttpParserEvents {
  onMessage(m: Message): void;
  onMalformed(e: MalformedEvent): void;
  /**
   * Bytes after the direction switched protocols (101 Switching Protocols, or a CONNECT tunnel), in order.
   * The chunk is valid only during the call. Without this event they are dropped.
   */
  onTunnel?(chunk: StreamChunk): void;
  /**
   * Told of each message while it is being assembled (from its first frame until it completes or is
   * dropped): lets the exchange stage know no later message can have an earlier frame.
   */
  inProgress?: InProgressTracker;
}

/** Messages being assembled, by first frame (see HttpParserEvents.inProgress). */
export interface InProgressTracker {
  add(firstFrame: number): unknown;
  done(token: unknown): void;
}

/** How a direction ended: FIN (with the FIN frame), RST, or end of capture / connection released. */
export interface StreamEnd {
  how: 'fin' | 'rst' | 'eof';
  frame?: number;
  time?: Timestamp;
}

/** The parts of an http-parser-js instance this wrapper drives (the typings hide some of them). */
interface ParserInfo {
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  method: string | number;
  url: string;
  statusCode: number;
  statusMessage: string;
}
interface ParserInternals {
  state: string;
  offset: number;
  line: string;
  info: ParserInfo;
  headerSize: number;
  body_bytes: number | null;
  REQUEST_LINE(): void;
  consumeLine(): string | undefined;
  execute(chunk: Buffer, start?: number, length?: number): number | Error;
  initialize(type: 'REQUEST' | 'RESPONSE'): void;
  parseHeader(line: string, headers: string[]): void;
  [callback: number]: unknown;
}

const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY_RAW: string[] = [];
/** Bytes handed to http-parser-js per execute() (its header-size check counts per call). */
const SLICE = 16 << 10;
/** Longest chunk-size line (size, extensions) accepted. */
const MAX_CHUNK_LINE = 4096;
/** Request methods remembered for responses not yet seen. */
const MAX_PENDING_METHODS = 1024;
const EMPTY = Buffer.alloc(0);
const NO_TIME: Timestamp = { sec: 0, nsec: 0, digits: 6 };

type Phase =
  | 'idle' // between messages: CR/LF are skipped, the next byte starts a message
  | 'head' // http-parser-js is parsing a start line and headers
  | 'sized' // Content-Length body
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end' // CRLF after chunk data
  | 'trailers'
  | 'close' // body runs to the end of the connection
  | 'resync' // looking for the next start line
  | 'tunnel' // CONNECT 2xx / 101: no more HTTP on this direction
  | 'ended';

/** A message being assembled. */
interface Building {
  start: number;
  firstFrame: number;
  firstTime: Timestamp;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  version: string;
  /** With rawHead: only the fields that frame the body (what headComplete looks at). */
  headers: HttpHeaders;
  rawHead?: string;
  trailers?: HttpHeaders;
  contentLength?: number;
  chunked?: boolean;
  contentEncoding?: string;
  bodyLength: number;
  kept: number;
  /**
   * The kept body bytes are buf[0..kept). Preallocated for a Content-Length body within the limit; grown
   * (to the announced size of each chunk, or doubling) for chunked and close-delimited bodies.
   */
  buf: Buffer | null;
  incomplete: boolean;
  anomalies: string[];
  /** Follows a request that asked to switch protocols: if it does not parse, the connection became a tunnel. */
  afterUpgrade: boolean;
}

/** Value of a Content-Length header list: every value (comma lists too) must be the same decimal number. */
export function parseContentLength(values: string[]): number | null {
  if (values.length === 1) {
    // The usual case, one plain number: no split, trim or regular expression.
    const v = values[0];
    let digits = v.length > 0 && v.length <= 15;
    for (let i = 0; digits && i < v.length; i++) {
      const c = v.charCodeAt(i);
      digits = c >= 48 && c <= 57;
    }
    if (digits) return Number(v);
  }
  let n: number | null = null;
  for (const v of values) {
    for (const part of v.split(',')) {
      const s = part.trim();
      if (!/^\d{1,15}$/.test(s)) return null;
      const x = Number(s);
      if (n !== null && x !== n) return null;
      n = x;
    }
  }
  return n;
}

/** The last transfer coding of a Transfer-Encoding list, lower case. */
function lastCoding(te: string): string {
  if (te === 'chunked') return te;
  const parts = te.split(',');
  for (let i = parts.length - 1; i >= 0; i--) {
    const s = parts[i].trim().toLowerCase();
    if (s) return s.split(';')[0].trim();
  }
  return '';
}

/** RFC 9110 tchar: what a method token may hold. */
const TCHAR = (() => {
  const t = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") t[c.charCodeAt(0)] = 1;
  return t;
})();

function isMethodByte(b: number): boolean {
  return TCHAR[b] === 1;
}

/** The library's status line pattern, used by the fast head path. */
const RESPONSE_LINE = /^HTTP\/(\d)\.(\d) (\d{3}) ?(.*)$/;

/** Request line with any token as method (the library's own accepts only [A-Z-]+, so RPC_IN_DATA failed). */
// RFC 9112 section 3: recipients may parse the request line on whitespace-delimited word boundaries, so
// "POST  /  HTTP/1.0" (runs of spaces) is read as POST, "/", HTTP/1.0.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +([^ ]+) +HTTP\/(\d)\.(\d)$/;

/** The library's flat [name, value, name, value...] list as pairs. */
function pairs(raw: string[]): HttpHeaders {
  const headers: HttpHeaders = new Array(raw.length >> 1);
  for (let i = 0, j = 0; i + 1 < raw.length; i += 2, j++) headers[j] = [raw[i], raw[i + 1]];
  return headers;
}

/**
 * Lengths of the header names headComplete looks at: Content-Length (14), Transfer-Encoding (17),
 * Content-Encoding (16), Connection (10), Upgrade (7).
 */
const FRAMING_NAME_LENGTH: readonly boolean[] = (() => {
  const t: boolean[] = new Array(18).fill(false);
  for (const n of ['content-length', 'transfer-encoding', 'content-encoding', 'connection', 'upgrade']) t[n.length] = true;
  return t;
})();

/** Message.headers of a message that carries rawHead (frozen: never filled in). */
export const LAZY_HEADERS: HttpHeaders = Object.freeze([]) as unknown as HttpHeaders;

/**
 * The header fields of a head fastHead accepted (its text: start line and header lines, each ending in
 * CRLF): the same pairs fastHead made from it, name and value as slices of the text, the value without
 * the spaces and tabs around it.
 */
export function splitHead(s: string): HttpHeaders {
  const headers: HttpHeaders = [];
  for (let ls = s.indexOf('\n') + 1, nl = 0; ls < s.length; ls = nl + 1) {
    nl = s.indexOf('\n', ls);
    const colon = s.indexOf(':', ls);
    headers.push([s.slice(ls, colon), lineValue(s, colon, nl - 1)]);
  }
  return headers;
}

/** A header line's value: the text after its colon up to its CR at `le`, without the spaces and tabs around it. */
function lineValue(s: string, colon: number, le: number): string {
  let vs = colon + 1;
  while (vs < le && (s.charCodeAt(vs) === SP || s.charCodeAt(vs) === TAB)) vs++;
  let ve = le;
  while (ve > vs && (s.charCodeAt(ve - 1) === SP || s.charCodeAt(ve - 1) === TAB)) ve--;
  return s.slice(vs, ve);
}

/** A message's header fields, made from its rawHead when it has one. */
export function headersOf(m: Message): HttpHeaders {
  return m.rawHead !== undefined ? splitHead(m.rawHead) : m.headers;
}

/**
 * The first value of header `lower` (a name in lower case) in a rawHead, as splitHead would give it,
 * without making the other fields.
 */
export function rawHeaderValue(s: string, lower: string): string | undefined {
  const n = lower.length;
  for (let ls = s.indexOf('\n') + 1, nl = 0; ls < s.length; ls = nl + 1) {
    nl = s.indexOf('\n', ls);
    const colon = s.indexOf(':', ls);
    // Latin-1 names keep their length in lower case.
    if (colon - ls !== n || s.slice(ls, colon).toLowerCase() !== lower) continue;
    return lineValue(s, colon, nl - 1);
  }
  return undefined;
}

function parseError(code: string): Error {
  const e = new Error('Parse Error') as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * Replaces the library's REQUEST_LINE state on one parser instance: same steps (consume a line, skip
 * empty ones, fill info, go to HEADER), but any method token is accepted and kept as its string.
 */
function requestLineState(this: ParserInternals): void {
  const line = this.consumeLine();
  if (!line) return;
  const m = REQUEST_LINE.exec(line);
  if (m === null) throw parseError('HPE_INVALID_CONSTANT');
  this.info.method = m[1];
  this.info.url = m[2];
  this.info.versionMajor = +m[3];
  this.info.versionMinor = +m[4];
  this.body_bytes = 0;
  this.state = 'HEADER';
}

/** Could buf[pos..end) begin a message of this kind? Undecidable (too short) counts as yes. */
function plausibleStart(buf: Buffer, pos: number, end: number, request: boolean): boolean {
  if (request) {
    for (let i = pos; i < end && i - pos <= 32; i++) {
      const b = buf[i];
      if (b === SP) return i > pos;
      if (!isMethodByte(b)) return false;
    }
    return end - pos <= 32;
  }
  const lit = 'HTTP/1.';
  for (let i = 0; i < lit.length && pos + i < end; i++) if (buf[pos + i] !== lit.charCodeAt(i)) return false;
  return true;
}

function reasonOf(e: Error): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'HPE_INVALID_CONSTANT':
      return 'invalid start line';
    case 'HPE_LF_EXPECTED':
      return 'CR without LF in a header line';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'conflicting Content-Length headers';
    default:
      return `parse error: ${e.message}`;
  }
}

/**
 * Which frame carried each byte of the chunk being parsed (StreamChunk's piece map), with a cursor so
 * lookups at increasing positions cost O(1). Remembers the frame and time of the last byte seen.
 */
export class FrameMap {
  data: Buffer = EMPTY;
  base = 0;
  lastFrame = 0;
  lastTime: Timestamp = NO_TIME;
  private offsets: number[] = [];
  private frames: number[] = [];
  private times: Timestamp[] = [];
  private piece = 0;
  private accessors: { offset: (i: number) => number; frame: (i: number) => number; time: (i: number) => Timestamp } | null = null;

  /** Accessors in the form StartLineScanner takes (made on first use: most connections never resync). */
  get at(): { offset: (i: number) => number; frame: (i: number) => number; time: (i: number) => Timestamp } {
    return (this.accessors ??= {
      offset: (i: number) => this.base + i,
      frame: (i: number) => this.frameAt(i),
      time: (i: number) => this.timeAt(i),
    });
  }

  set(chunk: StreamChunk): void {
    this.data = chunk.data;
    this.base = chunk.streamOffset;
    this.offsets = chunk.offsets;
    this.frames = chunk.frames;
    this.times = chunk.times;
    this.piece = 0;
  }

  /** The chunk is done: remember its last frame, drop the reference to its bytes. */
  release(): void {
    if (this.frames.length) {
      this.lastFrame = this.frames[this.frames.length - 1];
      this.lastTime = this.times[this.times.length - 1] ?? this.lastTime;
    }
    this.data = EMPTY;
  }

  /** Where the next piece (TCP segment) after position i begins, or `end` when none does before it. */
  nextPieceStart(i: number, end: number): number {
    const offs = this.offsets;
    for (let k = this.pieceAt(i) + 1; k < offs.length; k++) if (offs[k] > i) return offs[k] < end ? offs[k] : end;
    return end;
  }

  /** Does a TCP segment begin at position i (a piece from another frame than the byte before it)? */
  isPieceStart(i: number): boolean {
    const offs = this.offsets;
    if (offs.length === 0) return false;
    const k = this.pieceAt(i);
    if (offs[k] !== i) return false;
    return this.frames[k] !== (k > 0 ? this.frames[k - 1] : this.lastFrame);
  }

  /** data[a..b) as a chunk of its own, with the frames that carried it. */
  slice(a: number, b: number): StreamChunk {
    const offsets: number[] = [];
    const frames: number[] = [];
    const times: Timestamp[] = [];
    if (this.offsets.length === 0) {
      offsets.push(0);
      frames.push(this.lastFrame);
      times.push(this.lastTime);
    } else {
      for (let k = this.pieceAt(a); k < this.offsets.length && this.offsets[k] < b; k++) {
        offsets.push(Math.max(this.offsets[k], a) - a);
        frames.push(this.frames[k]);
        times.push(this.times[k]);
      }
    }
    return { data: this.data.subarray(a, b), streamOffset: this.base + a, offsets, frames, times };
  }

  /** Index of the piece holding data[i]. */
  private pieceAt(i: number): number {
    const offs = this.offsets;
    let k = this.piece;
    if (k >= offs.length || offs[k] > i) k = 0;
    while (k + 1 < offs.length && offs[k + 1] <= i) k++;
    this.piece = k;
    return k;
  }

  frameAt(i: number): number {
    if (this.offsets.length === 0) return this.lastFrame;
    return this.frames[this.pieceAt(i)] ?? this.lastFrame;
  }

  timeAt(i: number): Timestamp {
    if (this.offsets.length === 0) return this.lastTime;
    return this.times[this.pieceAt(i)] ?? this.lastTime;
  }
}

/** Parses one direction of an HTTP/1.x connection into Messages. */
export class HttpStreamParser {
  /**
   * The http-parser-js instance, made on first use (see `p`): a plain head whole in one chunk never needs it
   * (fastHead), so most connections never make one.
   */
  private lib: ParserInternals | null = null;
  private readonly request: boolean;
  private readonly limits: Limits;
  private readonly events: HttpParserEvents;
  private phase: Phase = 'idle';
  private m: Building | null = null;
  /** The inProgress token of `m`. */
  private token: unknown = null;
  /** Set by the headers callback: the head just parsed, and where it ended (index in `data`). */
  private head: ParserInfo | null = null;
  private headEnd = 0;
  /** Bytes left of a Content-Length body or of the current chunk. */
  private remaining = 0;
  private line = '';
  private lineBytes = 0;
  private trailerRaw: string[] = [];
  private trailerBytes = 0;
  /** Phase after the message being built completes ('idle', or 'tunnel' after CONNECT 2xx / 101). */
  private after: 'idle' | 'tunnel' = 'idle';
  /** The last request asked to switch protocols: bytes that are not a start line mean a tunnel. */
  private maybeTunnel = false;
  private methods: string[] = [];
  /** Final responses framed without a known request method, to be matched by later expectMethod calls. */
  private debt = 0;
  /** onMalformed was called since the last message: one report per burst. */
  private reported = false;
  private scannerObj: StartLineScanner | null = null;
  private callbackError: unknown = undefined;
  /** The chunk being parsed and its frame map. */
  private readonly fm = new FrameMap();
  /** The library's state before a start line: the fast head path runs only then. */
  private readonly lineState: string;
  /** Heads read by fastHead are kept as text (Message.rawHead), their header fields not made. */
  private readonly lazy: boolean;

  /** `lazyHeaders`: messages whose head fastHead read carry it as `rawHead` instead of `headers` (see Message). */
  constructor(kind: 'request' | 'response', o: { limits: Limits; lazyHeaders?: boolean } & HttpParserEvents) {
    this.request = kind === 'request';
    this.lineState = this.request ? 'REQUEST_LINE' : 'RESPONSE_LINE';
    this.limits = o.limits;
    this.lazy = o.lazyHeaders === true;
    this.events = { onMessage: o.onMessage, onMalformed: o.onMalformed, onTunnel: o.onTunnel, inProgress: o.inProgress };
  }

  /** The library parser, made (in its initial state) on first use. */
  private get p(): ParserInternals {
    if (this.lib !== null) return this.lib;
    const p = new HTTPParser(this.request ? HTTPParser.REQUEST : HTTPParser.RESPONSE) as unknown as ParserInternals;
    if (this.request) p.REQUEST_LINE = requestLineState;
    p[HTTPParser.kOnHeadersComplete] = (info: ParserInfo): number => {
      this.head = info;
      this.headEnd = p.offset;
      return 2; // skip the body and return from execute(): this wrapper frames bodies
    };
    return (this.lib = p);
  }

  /** The start line scanner used to resynchronise, made on first use. */
  private get scanner(): StartLineScanner {
    return (this.scannerObj ??= new StartLineScanner(this.request ? 'http-request' : 'http-response', Math.max(256, Math.min(this.limits.headerBytes, 64 << 10))));
  }

  /** Response parsers: the method of each request on this connection, in order. */
  expectMethod(method: string): void {
    if (this.debt > 0) {
      this.debt--;
      return;
    }
    if (this.methods.length >= MAX_PENDING_METHODS) this.methods.shift();
    this.methods.push(method);
  }

  push(chunk: StreamChunk): void {
    if (this.phase === 'ended' || chunk.data.length === 0) return;
    this.fm.set(chunk);
    try {
      this.run(0, chunk.data.length);
    } catch (e) {
      this.recover(e);
    } finally {
      this.fm.release();
    }
  }

  gap(g: TcpGap): void {
    try {
      this.onGap(g);
    } catch (e) {
      this.recover(e);
    }
  }

  /** The direction ended. `at` says how (FIN frame, RST, end of capture); without it: closed, at the last data frame. */
  end(at?: StreamEnd): void {
    try {
      this.onEnd(at);
    } catch (e) {
      this.recover(e);
    }
    this.phase = 'ended';
  }

  // ---------------------------------------------------------------- driving

  private run(pos: number, end: number): void {
    while (pos < end) {
      const phase = this.phase;
      const from = pos;
      switch (phase) {
        case 'idle':
          pos = this.idle(pos, end);
          break;
        case 'head':
          pos = this.feedHead(pos, end);
          break;
        case 'sized':
        case 'chunk-data': {
          const n = Math.min(end - pos, this.remaining);
          this.addBody(pos, n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (phase === 'sized') this.completeAt(pos);
            else this.phase = 'chunk-end';
          }
          break;
        }
        case 'chunk-size':
          pos = this.chunkSize(pos, end);
          break;
        case 'chunk-end':
          pos = this.chunkEnd(pos, end);
          break;
        case 'trailers':
          pos = this.trailers(pos, end);
          break;
        case 'close':
          this.addBody(pos, end - pos);
          pos = end;
          break;
        case 'resync':
          pos = this.resync(pos, end);
          break;
        case 'tunnel':
          this.events.onTunnel?.(this.fm.slice(pos, end));
          pos = end;
          break;
        default:
          pos = end;
      }
      if (pos === from && this.phase === phase) throw new Error(`no progress in phase ${phase}`);
    }
  }

  /** An unexpected exception inside the parser: report it and look for the next message. */
  private recover(e: unknown): void {
    if (e === this.callbackError) {
      this.callbackError = undefined;
      throw e;
    }
    this.resetParser();
    this.clearMessage();
    this.malformedAt(this.lastFrame, this.base, `internal parser error: ${(e as Error).message ?? e}`);
    this.startResync(false);
  }

  private get data(): Buffer {
    return this.fm.data;
  }
  private get base(): number {
    return this.fm.base;
  }
  private get lastFrame(): number {
    return this.fm.lastFrame;
  }
  private get lastTime(): Timestamp {
    return this.fm.lastTime;
  }
  private frameAt(i: number): number {
    return this.fm.frameAt(i);
  }
  private timeAt(i: number): Timestamp {
    return this.fm.timeAt(i);
  }

  // ---------------------------------------------------------------- message start and head

  private idle(pos: number, end: number): number {
    const d = this.data;
    while (pos < end && (d[pos] === CR || d[pos] === LF)) pos++;
    if (pos >= end) return end;
    if (!plausibleStart(d, pos, end, this.request)) {
      if (this.maybeTunnel) {
        this.phase = 'tunnel';
        return pos;
      }
      this.malformedAt(this.frameAt(pos), this.base + pos, this.request ? 'bytes that do not start a request line' : 'bytes that do not start a status line');
      this.startResync(false);
      return pos;
    }
    this.begin(this.base + pos, this.frameAt(pos), this.timeAt(pos));
    return pos;
  }

  /** The message being assembled is complete or dropped. */
  private clearMessage(): void {
    this.m = null;
    if (this.token !== null) {
      this.events.inProgress!.done(this.token);
      this.token = null;
    }
  }

  private begin(start: number, frame: number, time: Timestamp): void {
    if (this.token !== null) this.events.inProgress!.done(this.token);
    this.token = this.events.inProgress ? this.events.inProgress.add(frame) : null;
    this.m = {
      start,
      firstFrame: frame,
      firstTime: time,
      version: '',
      headers: [],
      bodyLength: 0,
      kept: 0,
      buf: null,
      incomplete: false,
      anomalies: [],
      afterUpgrade: this.maybeTunnel,
    };
    this.maybeTunnel = false;
    this.after = 'idle';
    this.phase = 'head';
  }

  private feedHead(pos: number, end: number): number {
    const stop = Math.min(end, pos + SLICE);
    const lib = this.lib;
    // Fast path: a whole, plain head in this chunk, and the library holds nothing of it yet.
    if (lib === null || (lib.line === '' && lib.state === this.lineState)) {
      const at = this.fastHead(pos, stop);
      if (at >= 0) return at;
    }
    const p = this.p;
    p.headerSize = 0;
    this.head = null;
    const r = p.execute(this.data, pos, stop - pos);
    if (typeof r !== 'number') {
      const errPos = Number.isFinite(p.offset) ? Math.min(Math.max(p.offset, pos + 1), stop) : stop;
      this.resetParser();
      return this.headFailed(errPos, reasonOf(r), true);
    }
    if (this.head) {
      const info: ParserInfo = this.head;
      return this.headComplete(this.headEnd, info, pairs(info.headers));
    }
    const at = pos + r;
    if (this.base + at - this.m!.start > this.limits.headerBytes) {
      this.resetParser();
      return this.headFailed(at, `header block larger than ${this.limits.headerBytes} bytes`, false);
    }
    return at;
  }

  /**
   * Parses data[pos..stop) as a head when it holds one whole, in its plain form: CRLF line ends, no other CR,
   * no folded lines, every header line "name: value" with no space in the name, at most one Content-Length.
   * That is exactly what http-parser-js would read from it, with one string decode instead of one per line
   * and no regular expression per header. Returns the index after the head, or -1 to let the library
   * parse it (anything unusual, including every error, goes that way so errors are reported as before).
   */
  private fastHead(pos: number, stop: number): number {
    const d = this.data;
    // the first CRLFCRLF from pos is the one in data[pos..stop) if that holds one (no view object per head)
    const at = d.indexOf(CRLFCRLF, pos);
    if (at < 0 || at + 4 > stop) return -1;
    const e = at - pos;
    const s = d.toString('latin1', pos, pos + e + 2); // the start line and header lines, each with its CRLF
    let nl = s.indexOf('\n');
    if (nl < 1 || s.indexOf('\r') !== nl - 1) return -1;
    const start = s.slice(0, nl - 1);
    let info: ParserInfo;
    if (this.request) {
      const m = REQUEST_LINE.exec(start);
      if (m === null) return -1;
      info = { versionMajor: +m[3], versionMinor: +m[4], headers: EMPTY_RAW, method: m[1], url: m[2], statusCode: 0, statusMessage: '' };
    } else {
      const m = RESPONSE_LINE.exec(start);
      if (m === null) return -1;
      info = { versionMajor: +m[1], versionMinor: +m[2], headers: EMPTY_RAW, method: '', url: '', statusCode: +m[3], statusMessage: m[4] };
    }
    const headers: HttpHeaders = [];
    const lazy = this.lazy;
    let lengths = 0;
    for (let ls = nl + 1; ls < s.length; ls = nl + 1) {
      nl = s.indexOf('\n', ls);
      const le = nl - 1; // index of the line's CR
      if (s.charCodeAt(le) !== CR || s.indexOf('\r', ls) !== le) return -1;
      const colon = s.indexOf(':', ls);
      if (colon <= ls || colon > le) return -1; // folded line, empty name, or no colon
      for (let i = ls; i < colon; i++) {
        const c = s.charCodeAt(i);
        if (c === SP || c === TAB) return -1;
      }
      const n = colon - ls;
      // Lazily, only the fields headComplete may look at (by their name's length) are made.
      if (lazy && !FRAMING_NAME_LENGTH[n]) continue;
      const name = s.slice(ls, colon);
      // http-parser-js rejects differing Content-Length values: leave any repeated Content-Length to it.
      if (n === 14 && name.toLowerCase() === 'content-length' && ++lengths > 1) return -1;
      headers.push([name, lineValue(s, colon, le)]);
    }
    if (lazy) this.m!.rawHead = s;
    return this.headComplete(pos + e + 4, info, headers);
  }

  /** Back to the library's initial state (nothing to do if it was never made: it is made in that state). */
  private resetParser(): void {
    this.lib?.initialize(this.request ? HTTPParser.REQUEST : HTTPParser.RESPONSE);
  }

  /** The head of the current message cannot be parsed: report, drop it, and resync from `at`. */
  private headFailed(at: number, reason: string, atLineStart: boolean): number {
    const m = this.m!;
    this.clearMessage();
    if (m.afterUpgrade) {
      // e.g. the HTTP/2 preface after "Upgrade: h2c": not HTTP/1.x any more, and not an error.
      this.phase = 'tunnel';
      return this.data.length;
    }
    this.malformedAt(m.firstFrame, m.start, reason);
    this.startResync(atLineStart);
    return at;
  }

  private headComplete(at: number, info: ParserInfo, headers: HttpHeaders): number {
    this.head = null;
    const m = this.m!;
    const limits = this.limits;
    if (this.base + at - m.start > limits.headerBytes) {
      return this.headFailed(at, `header block larger than ${limits.headerBytes} bytes`, true);
    }
    if (info.versionMajor !== 1) {
      return this.headFailed(at, `unsupported version HTTP/${info.versionMajor}.${info.versionMinor}`, true);
    }
    m.version = info.versionMinor === 1 ? 'HTTP/1.1' : info.versionMinor === 0 ? 'HTTP/1.0' : `HTTP/1.${info.versionMinor}`;
    // Note the headers that frame the body.
    let cl: string[] | null = null;
    let te: string | null = null;
    let ce: string | null = null;
    let connection = '';
    let upgrade = false;
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i];
      const n = name.length;
      if (FRAMING_NAME_LENGTH[n]) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') (cl ??= []).push(value);
        else if (lower === 'transfer-encoding') te = te === null ? value : `${te}, ${value}`;
        else if (lower === 'content-encoding') ce = ce === null ? value : `${ce}, ${value}`;
        else if (lower === 'connection') connection += `${value.toLowerCase()},`;
        else if (lower === 'upgrade') upgrade = true;
      }
    }
    m.headers = headers;
    if (ce !== null) m.contentEncoding = ce;
    let length: number | null = null;
    if (cl) {
      length = parseContentLength(cl);
      if (length === null) m.anomalies.push('content-length-invalid');
      else m.contentLength = length;
    }
    const chunked = te !== null && lastCoding(te) === 'chunked';
    if (te !== null && cl) m.anomalies.push('content-length-with-transfer-encoding');

    type Framing = 'none' | 'sized' | 'chunked' | 'close' | 'bad';
    let framing: Framing;
    let bad = '';
    if (this.request) {
      m.method = String(info.method);
      m.uri = info.url;
      if (te !== null) {
        framing = chunked ? 'chunked' : 'bad';
        if (!chunked) {
          m.anomalies.push('transfer-encoding-invalid');
          bad = `request Transfer-Encoding "${te}" does not end in chunked: body length unknown`;
        }
      } else if (cl) {
        framing = length === null ? 'bad' : 'sized';
        if (length === null) bad = `invalid Content-Length "${cl.join(', ')}": body length unknown`;
      } else framing = 'none';
      if (m.method === 'CONNECT' || (upgrade && connection.includes('upgrade'))) this.maybeTunnel = true;
    } else {
      const status = info.statusCode;
      m.status = status;
      m.reason = info.statusMessage ?? '';
      let method: string | undefined;
      if (status >= 200 || status === 101) method = this.popMethod();
      if (status === 101) this.after = 'tunnel';
      if (status < 200 || status === 204 || status === 304 || method === 'HEAD') framing = 'none';
      else if (method === 'CONNECT' && status < 300) {
        framing = 'none';
        this.after = 'tunnel';
      } else if (te !== null) framing = chunked ? 'chunked' : 'close';
      else if (cl) {
        framing = length === null ? 'bad' : 'sized';
        if (length === null) bad = `invalid Content-Length "${cl.join(', ')}": body length unknown`;
      } else framing = 'close';
    }
    switch (framing) {
      case 'none':
        this.completeAt(at);
        break;
      case 'bad':
        this.completeAt(at);
        this.malformedAt(this.frameAt(Math.max(0, at - 1)), this.base + at, bad);
        this.startResync(true);
        break;
      case 'sized':
        if (length === 0) {
          this.completeAt(at);
        } else {
          this.remaining = length!;
          m.buf = Buffer.allocUnsafe(Math.min(length!, limits.bodyBytes));
          this.phase = 'sized';
        }
        break;
      case 'chunked':
        m.chunked = true;
        this.line = '';
        this.lineBytes = 0;
        this.phase = 'chunk-size';
        break;
      case 'close':
        this.phase = 'close';
        break;
    }
    return at;
  }

  private popMethod(): string | undefined {
    if (this.methods.length) return this.methods.shift();
    this.debt++;
    return undefined;
  }

  // ---------------------------------------------------------------- bodies

  private addBody(pos: number, n: number): void {
    const m = this.m!;
    m.bodyLength += n;
    const room = this.limits.bodyBytes - m.kept;
    if (room <= 0 || n <= 0) return;
    const take = n < room ? n : room;
    if (m.buf === null || m.buf.length - m.kept < take) this.reserve(m, take);
    this.data.copy(m.buf!, m.kept, pos, pos + take);
    m.kept += take;
  }

  /** Room for `n` more kept body bytes: at least doubles (no quadratic copying), never past the body limit. */
  private reserve(m: Building, n: number): void {
    const limit = this.limits.bodyBytes;
    const need = Math.min(limit, m.kept + n);
    const old = m.buf;
    if (old !== null && old.length >= need) return;
    const size = old === null ? need : Math.min(limit, Math.max(need, old.length * 2));
    const b = Buffer.allocUnsafe(size);
    if (old !== null) old.copy(b, 0, 0, m.kept);
    m.buf = b;
  }

  /** Collects one line (chunk size, trailer) across chunks; returns the index after its LF, or -1 with all consumed. */
  private collectLine(pos: number, end: number, max: number): number {
    const nl = this.data.indexOf(LF, pos);
    const stop = nl < 0 || nl >= end ? end : nl;
    this.lineBytes += stop - pos;
    if (this.lineBytes > max) return -2;
    this.line += this.data.toString('latin1', pos, stop);
    return stop === end ? -1 : nl + 1;
  }

  private takeLine(): string {
    const l = this.line;
    this.line = '';
    this.lineBytes = 0;
    return l.endsWith('\r') ? l.slice(0, -1) : l;
  }

  private chunkSize(pos: number, end: number): number {
    const next = this.collectLine(pos, end, MAX_CHUNK_LINE);
    if (next === -2) return this.bodyFailed(pos, 'chunk-size-invalid', 'chunk-size line too long', false);
    if (next === -1) return end;
    const line = this.takeLine();
    const match = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;.*)?$/.exec(line);
    if (!match) return this.bodyFailed(next, 'chunk-size-invalid', `invalid chunk size "${line.slice(0, 40)}"`);
    const size = parseInt(match[1], 16);
    if (size === 0) {
      this.trailerRaw = [];
      this.trailerBytes = 0;
      this.phase = 'trailers';
    } else {
      this.remaining = size;
      this.phase = 'chunk-data';
      const room = this.limits.bodyBytes - this.m!.kept;
      if (room > 0) this.reserve(this.m!, Math.min(size, room));
    }
    return next;
  }

  private chunkEnd(pos: number, end: number): number {
    const next = this.collectLine(pos, end, 2);
    if (next === -2) return this.bodyFailed(pos, 'chunk-data-overrun', 'chunk data longer than its size', false);
    if (next === -1) return end;
    if (this.takeLine() !== '') return this.bodyFailed(next, 'chunk-data-overrun', 'chunk data longer than its size');
    this.phase = 'chunk-size';
    return next;
  }

  private trailers(pos: number, end: number): number {
    const next = this.collectLine(pos, end, Math.max(0, this.limits.headerBytes - this.trailerBytes));
    if (next === -2) return this.bodyFailed(pos, 'trailers-too-large', `trailers larger than ${this.limits.headerBytes} bytes`, false);
    if (next === -1) return end;
    this.trailerBytes += this.lineBytes + 1;
    const line = this.takeLine();
    if (line !== '') {
      try {
        this.p.parseHeader(line, this.trailerRaw);
      } catch {
        return this.bodyFailed(next, 'trailer-invalid', 'invalid trailer line');
      }
      return next;
    }
    const m = this.m!;
    if (this.trailerRaw.length) {
      const t: HttpHeaders = [];
      for (let i = 0; i < this.trailerRaw.length; i += 2) t.push([this.trailerRaw[i], this.trailerRaw[i + 1]]);
      m.trailers = t;
    }
    this.trailerRaw = [];
    this.completeAt(next);
    return next;
  }

  /** Chunked framing broke: emit what we have as incomplete, report, resync at `at`. */
  private bodyFailed(at: number, anomaly: string, reason: string, atLineStart = true): number {
    const m = this.m!;
    m.anomalies.push(anomaly);
    m.incomplete = true;
    this.line = '';
    this.lineBytes = 0;
    const last = Math.max(0, at - 1);
    this.finish(this.frameAt(last), this.timeAt(last));
    this.malformedAt(this.frameAt(last), this.base + last, reason);
    this.startResync(atLineStart);
    return at;
  }

  // ---------------------------------------------------------------- completion

  /** The current message's last byte is data[end - 1]. */
  private completeAt(end: number): void {
    const i = Math.max(0, end - 1);
    this.finish(this.frameAt(i), this.timeAt(i));
  }

  private finish(frame: number, time: Timestamp): void {
    const m = this.m!;
    this.clearMessage();
    this.phase = this.after;
    this.after = 'idle';
    const buf = m.buf;
    // Hand over the kept bytes; a grown buffer with much slack is copied to its size (bodies may be held a while).
    const body =
      buf === null || m.kept === 0 ? EMPTY
      : buf.length === m.kept ? buf // filled exactly (a Content-Length body): no view needed
      : buf.length - m.kept > (m.kept >> 2) + 64 ? Buffer.from(buf.subarray(0, m.kept))
      : buf.subarray(0, m.kept);
    let decodedBody = body;
    let truncated = m.kept < m.bodyLength;
    if (m.contentEncoding !== undefined && body.length) {
      const r = decodeBody(body, m.contentEncoding, this.limits.decompressedBytes);
      decodedBody = r.data;
      if (r.error) m.anomalies.push(`content-encoding: ${r.error}`);
      if (r.truncated) {
        truncated = true;
        m.anomalies.push('decompressed-truncated');
      }
    }
    const msg: Message = {
      protocol: 'http',
      kind: this.request ? 'request' : 'response',
      firstFrame: m.firstFrame,
      frame,
      time,
      firstTime: m.firstTime,
      version: m.version,
      headers: m.rawHead !== undefined ? LAZY_HEADERS : m.headers,
      bodyLength: m.bodyLength,
      body,
      decodedBody,
      bodyTruncated: truncated,
      incomplete: m.incomplete,
      anomalies: m.anomalies,
    };
    if (this.request) {
      msg.method = m.method;
      msg.uri = m.uri;
    } else {
      msg.status = m.status;
      msg.reason = m.reason;
    }
    if (m.rawHead !== undefined) msg.rawHead = m.rawHead;
    if (m.trailers) msg.trailers = m.trailers;
    if (m.contentLength !== undefined) msg.contentLength = m.contentLength;
    if (m.chunked) msg.chunked = true;
    this.reported = false;
    try {
      this.events.onMessage(msg);
    } catch (e) {
      this.callbackError = e;
      throw e;
    }
  }

  private malformedAt(frame: number, streamOffset: number, reason: string): void {
    if (this.reported) return;
    this.reported = true;
    try {
      this.events.onMalformed({ frame, streamOffset, reason });
    } catch (e) {
      this.callbackError = e;
      throw e;
    }
  }

  // ---------------------------------------------------------------- resync, gaps, end

  private startResync(atLineStart: boolean): void {
    this.phase = 'resync';
    this.maybeTunnel = false;
    this.scanner.reset(atLineStart);
  }

  private resync(pos: number, end: number): number {
    // A TCP segment's first byte counts as a line start: after a hole, the next message often follows the
    // binary tail of a body with no line end before it (Wireshark, too, tries each segment for a new message).
    if (this.fm.isPieceStart(pos)) this.scanner.segmentStart();
    const stop = this.fm.nextPieceStart(pos, end);
    const f = this.scanner.scan(this.data, pos, stop, this.fm.at);
    if (!f) return stop;
    if (f.index >= 0) {
      this.phase = 'idle';
      return f.index;
    }
    // The start line began in earlier chunks: start there and replay those bytes (no line ends in them).
    this.begin(f.carryOffset, f.carryFrame, f.carryTime ?? this.lastTime);
    const carry = f.carry!;
    for (let off = 0; off < carry.length; off += SLICE) {
      this.p.headerSize = 0;
      const r = this.p.execute(carry, off, Math.min(SLICE, carry.length - off));
      if (typeof r !== 'number') {
        this.resetParser();
        this.headFailed(pos, reasonOf(r), false);
        return pos;
      }
    }
    return pos;
  }

  /** Emit the message whose head was being parsed, as far as it got, if its start line was read. */
  private emitPartialHead(anomaly: string): void {
    const m = this.m!;
    const p = this.p;
    let ok = false;
    if (p.state === 'HEADER') {
      const info = p.info;
      m.version = `HTTP/${info.versionMajor}.${info.versionMinor}`;
      const raw = info.headers;
      const headers: HttpHeaders = [];
      for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i], raw[i + 1]]);
      m.headers = headers;
      if (this.request) {
        m.method = String(info.method);
        m.uri = info.url;
      } else {
        m.status = info.statusCode;
        m.reason = info.statusMessage ?? '';
      }
      ok = true;
    } else {
      // Only part of the start line arrived.
      const line = p.line;
      const r = this.request ? /^([A-Z-]{1,32}) ([^ ]+)/.exec(line) : /^HTTP\/(1\.\d) (\d{3})(?: (.*))?/.exec(line);
      if (r) {
        if (this.request) {
          m.method = r[1];
          m.uri = r[2];
        } else {
          m.version = `HTTP/${r[1]}`;
          m.status = Number(r[2]);
          m.reason = r[3] ?? '';
        }
        m.anomalies.push('start-line-cut');
        ok = true;
      }
    }
    this.resetParser();
    if (!ok) {
      this.clearMessage();
      return;
    }
    if (!this.request && m.status !== undefined && m.status >= 200) this.popMethod();
    m.incomplete = true;
    m.anomalies.push(anomaly);
    this.finish(this.lastFrame, this.lastTime);
  }

  private markIncomplete(anomaly: string): void {
    const m = this.m!;
    m.incomplete = true;
    if (!m.anomalies.includes(anomaly)) m.anomalies.push(anomaly);
  }

  private onGap(g: TcpGap): void {
    const lost = g.bytes > 0 ? g.bytes : 0;
    switch (this.phase) {
      case 'idle':
      case 'resync':
        this.startResync(true);
        return;
      case 'head':
        this.emitPartialHead('incomplete: gap');
        this.startResync(true);
        return;
      case 'sized':
      case 'chunk-data':
        this.markIncomplete('incomplete: gap');
        if (lost > 0 && lost < this.remaining) {
          // The hole is inside the body: keep framing (bytes are not filled in, so `body` is shorter).
          this.remaining -= lost;
          this.m!.bodyLength += lost;
          return;
        }
        if (this.phase === 'sized') this.m!.bodyLength += this.remaining;
        else this.m!.bodyLength += Math.min(lost, this.remaining);
        this.finish(this.lastFrame, this.lastTime);
        this.startResync(true);
        return;
      case 'close':
        this.markIncomplete('incomplete: gap');
        this.m!.bodyLength += lost;
        return;
      case 'chunk-size':
      case 'chunk-end':
      case 'trailers':
        this.markIncomplete('incomplete: gap');
        this.line = '';
        this.lineBytes = 0;
        this.finish(this.lastFrame, this.lastTime);
        this.startResync(true);
        return;
      default:
        return; // tunnel, ended
    }
  }

  private onEnd(at?: StreamEnd): void {
    const how = at?.how ?? 'fin';
    const why = how === 'eof' ? 'incomplete: capture ended' : 'incomplete: connection closed';
    switch (this.phase) {
      case 'close':
        if (how === 'eof') this.markIncomplete(why);
        else if (how === 'rst') this.m!.anomalies.push('body-ended-by-reset');
        // Wireshark shows a close-delimited response at the FIN that ends it.
        if (how === 'fin' && at?.frame) this.finish(at.frame, at.time ?? this.lastTime);
        else this.finish(this.lastFrame, this.lastTime);
        return;
      case 'head':
        this.emitPartialHead(why);
        return;
      case 'sized':
      case 'chunk-size':
      case 'chunk-data':
      case 'chunk-end':
      case 'trailers':
        this.markIncomplete(why);
        this.finish(this.lastFrame, this.lastTime);
        return;
      default:
        return;
    }
  }
}
