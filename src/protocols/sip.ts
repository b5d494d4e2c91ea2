// SIP/2.0 messages: one per UDP datagram (parseSipDatagram), or framed by Content-Length over TCP
// (SipStreamParser, which also skips CRLF keep-alives and resynchronises on the next start line).
// Headers keep their wire names; sipHeader() looks them up case-insensitively, compact forms included.

import type { HttpHeaders, Limits, Message, StreamChunk, TcpGap, Timestamp } from '../types.js';
import { decodeBody } from './body.js';
import { StartLineScanner } from './detect.js';
import { FrameMap, parseContentLength, type HttpParserEvents, type StreamEnd } from './http.js';

/** RFC 3261 7.3.3 and later RFCs: compact header names. */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  v: 'via',
  l: 'content-length',
  f: 'from',
  t: 'to',
  m: 'contact',
  c: 'content-type',
  e: 'content-encoding',
  k: 'supported',
  s: 'subject',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  x: 'session-expires',
  y: 'identity',
  n: 'identity-info',
};

/** Lower-case full name of a header name as sent (compact forms expanded). */
export function sipHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** First value of a header, by any spelling of its name (case-insensitive; "Call-ID" also finds "i"). */
export function sipHeader(m: Message, name: string): string | undefined {
  const want = sipHeaderName(name);
  for (const [n, v] of m.headers) if (sipHeaderName(n) === want) return v;
  return undefined;
}

/** All values of a header, by any spelling of its name. */
export function sipHeaders(m: Message, name: string): string[] {
  const want = sipHeaderName(name);
  const out: string[] = [];
  for (const [n, v] of m.headers) if (sipHeaderName(n) === want) out.push(v);
  return out;
}

const REQUEST_LINE = /^([A-Za-z][A-Za-z0-9.!%*_+`'~-]*) ([^ ]+) SIP\/2\.0$/i;
const STATUS_LINE = /^SIP\/2\.0 (\d{3})(?: (.*))?$/i;

export interface SipHead {
  kind: 'request' | 'response';
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  headers: HttpHeaders;
  anomalies: string[];
}

/**
 * Parse a SIP head (start line and header lines, latin1 text; a final blank line is optional). Folded
 * lines (starting with SP/HT) continue the previous header. Null when the start line is not SIP/2.0.
 */
export function parseSipHead(text: string): SipHead | null {
  // The start line ends at CR, LF or CRLF (as Wireshark finds line ends): a lone CR does not glue the
  // first header onto it.
  let firstEnd = text.search(/[\r\n]/);
  if (firstEnd < 0) firstEnd = text.length;
  const first = text.slice(0, firstEnd);
  const restAt = text.startsWith('\r\n', firstEnd) ? firstEnd + 2 : firstEnd + 1;
  const lines = ['', ...(restAt < text.length ? text.slice(restAt).split('\n') : [])];
  const head: SipHead = { kind: 'request', headers: [], anomalies: [] };
  const s = STATUS_LINE.exec(first);
  if (s) {
    head.kind = 'response';
    head.status = Number(s[1]);
    head.reason = s[2] ?? '';
  } else {
    const r = REQUEST_LINE.exec(first);
    if (!r) return null;
    head.method = r[1];
    head.uri = r[2];
  }
  const headers = head.headers;
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') break;
    const c = line.charCodeAt(0);
    if ((c === 32 || c === 9) && headers.length) {
      const prev = headers[headers.length - 1];
      const more = line.trim();
      if (more) prev[1] = prev[1] ? `${prev[1]} ${more}` : more;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || /[\s]/.test(name)) {
      if (!head.anomalies.includes('header-line-invalid')) head.anomalies.push('header-line-invalid');
      continue;
    }
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return head;
}

function headerValue(headers: HttpHeaders, want: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (sipHeaderName(n) === want) out.push(v);
  return out;
}

interface BodyInfo {
  contentLength?: number;
  contentEncoding?: string;
}

function bodyInfo(head: SipHead): BodyInfo & { clPresent: boolean } {
  const cl = headerValue(head.headers, 'content-length');
  const ce = headerValue(head.headers, 'content-encoding');
  const out: BodyInfo & { clPresent: boolean } = { clPresent: cl.length > 0 };
  if (cl.length) {
    const n = parseContentLength(cl);
    if (n === null) head.anomalies.push('content-length-invalid');
    else out.contentLength = n;
  }
  if (ce.length) out.contentEncoding = ce.join(', ');
  return out;
}

function makeMessage(
  head: SipHead,
  info: BodyInfo,
  body: Buffer,
  bodyLength: number,
  at: { firstFrame: number; firstTime: Timestamp; frame: number; time: Timestamp },
  limits: Limits,
  incomplete: boolean,
): Message {
  const anomalies = head.anomalies;
  let decodedBody = body;
  let truncated = body.length < bodyLength;
  if (info.contentEncoding !== undefined && body.length) {
    const r = decodeBody(body, info.contentEncoding, limits.decompressedBytes);
    decodedBody = r.data;
    if (r.error) anomalies.push(`content-encoding: ${r.error}`);
    if (r.truncated) truncated = true;
  }
  const m: Message = {
    protocol: 'sip',
    kind: head.kind,
    firstFrame: at.firstFrame,
    frame: at.frame,
    time: at.time,
    firstTime: at.firstTime,
    version: 'SIP/2.0',
    headers: head.headers,
    bodyLength,
    body,
    decodedBody,
    bodyTruncated: truncated,
    incomplete,
    anomalies,
  };
  if (head.kind === 'request') {
    m.method = head.method;
    m.uri = head.uri;
  } else {
    m.status = head.status;
    m.reason = head.reason;
  }
  if (info.contentLength !== undefined) m.contentLength = info.contentLength;
  return m;
}

/** End of the head: index after the blank line ("\r\n\r\n" or "\n\n"), or -1. */
function headEnd(b: Buffer, from: number): number {
  for (let i = b.indexOf(10, from); i >= 0; i = b.indexOf(10, i + 1)) {
    if (b[i + 1] === 10) return i + 2;
    if (b[i + 1] === 13 && b[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * One SIP message from a UDP datagram, or null when the datagram is not SIP (keep-alives included). The
 * body is Content-Length bytes (the rest of the datagram when the header is absent).
 */
export function parseSipDatagram(payload: Buffer, frame: number, time: Timestamp, limits: Limits): Message | Message[] | null {
  let start = 0;
  while (start < payload.length && (payload[start] === 13 || payload[start] === 10)) start++;
  if (start >= payload.length) return null;
  let end = headEnd(payload, start);
  const noBlank = end < 0;
  if (noBlank) end = payload.length;
  if (end - start > limits.headerBytes) return null;
  const head = parseSipHead(payload.toString('latin1', start, end));
  if (!head) return null;
  if (noBlank) head.anomalies.push('no-blank-line-after-headers');
  const info = bodyInfo(head);
  const available = payload.length - end;
  let length = available;
  let incomplete = false;
  if (info.contentLength !== undefined) {
    if (info.contentLength > available) {
      head.anomalies.push('content-length-exceeds-datagram');
      incomplete = true;
    } else {
      if (info.contentLength < available) head.anomalies.push('bytes-after-body');
      length = info.contentLength;
    }
  }
  const kept = Math.min(length, limits.bodyBytes);
  const body = Buffer.from(payload.subarray(end, end + kept));
  return makeMessage(head, info, body, length, { firstFrame: frame, firstTime: time, frame, time }, limits, incomplete);
}

type Phase = 'idle' | 'head' | 'body' | 'resync' | 'ended';

/** SIP over TCP (or decrypted TLS): messages framed by Content-Length. */
export class SipStreamParser {
  private readonly limits: Limits;
  private readonly events: HttpParserEvents;
  private phase: Phase = 'idle';
  private readonly fm = new FrameMap();
  private readonly scanner: StartLineScanner;
  private reported = false;
  // Message being assembled.
  private start = 0;
  private firstFrame = 0;
  private firstTime: Timestamp = { sec: 0, nsec: 0, digits: 6 };
  private headParts: Buffer[] = [];
  private headLen = 0;
  /** Blank-line search across chunks: 0 = in a line, 1 = after LF, 2 = after LF CR. */
  private nl = 0;
  private head: SipHead | null = null;
  private info: BodyInfo = {};
  private remaining = 0;
  private bodyLength = 0;
  private bodyParts: Buffer[] = [];
  private kept = 0;
  private incomplete = false;

  constructor(o: { limits: Limits } & HttpParserEvents) {
    this.limits = o.limits;
    this.events = { onMessage: o.onMessage, onMalformed: o.onMalformed };
    this.scanner = new StartLineScanner('sip', Math.max(256, Math.min(o.limits.headerBytes, 64 << 10)));
  }

  push(chunk: StreamChunk): void {
    if (this.phase === 'ended' || chunk.data.length === 0) return;
    this.fm.set(chunk);
    try {
      this.run(0, chunk.data.length);
    } finally {
      this.fm.release();
    }
  }

  gap(g: TcpGap): void {
    const lost = g.bytes > 0 ? g.bytes : 0;
    if (this.phase === 'body' && lost > 0 && lost < this.remaining) {
      this.incomplete = true;
      this.remaining -= lost;
      this.bodyLength += lost;
      this.addAnomaly('incomplete: gap');
      return;
    }
    if (this.phase === 'body') this.bodyLength += this.remaining;
    this.abandon('incomplete: gap');
    if (this.phase !== 'ended') this.toResync(true);
  }

  /** The direction ended; a message cut short is emitted incomplete (SIP has no close-delimited bodies). */
  end(at?: StreamEnd): void {
    this.abandon(at?.how === 'eof' ? 'incomplete: capture ended' : 'incomplete: connection closed');
    this.phase = 'ended';
  }

  private run(pos: number, end: number): void {
    const d = this.fm.data;
    while (pos < end) {
      switch (this.phase) {
        case 'idle': {
          while (pos < end && (d[pos] === 13 || d[pos] === 10)) pos++;
          if (pos < end) this.begin(this.fm.base + pos, this.fm.frameAt(pos), this.fm.timeAt(pos));
          break;
        }
        case 'head':
          pos = this.readHead(pos, end);
          break;
        case 'body': {
          const n = Math.min(end - pos, this.remaining);
          this.addBody(d, pos, n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.complete(this.fm.frameAt(pos - 1), this.fm.timeAt(pos - 1));
          break;
        }
        case 'resync': {
          const f = this.scanner.scan(d, pos, end, this.fm.at);
          if (!f) {
            pos = end;
          } else if (f.index >= 0) {
            pos = f.index;
            this.phase = 'idle';
          } else {
            this.begin(f.carryOffset, f.carryFrame, f.carryTime ?? this.fm.lastTime);
            this.headParts.push(f.carry!);
            this.headLen = f.carry!.length;
          }
          break;
        }
        default:
          pos = end;
      }
    }
  }

  private begin(start: number, frame: number, time: Timestamp): void {
    this.start = start;
    this.firstFrame = frame;
    this.firstTime = time;
    this.headParts = [];
    this.headLen = 0;
    this.nl = 0;
    this.head = null;
    this.info = {};
    this.bodyLength = 0;
    this.bodyParts = [];
    this.kept = 0;
    this.incomplete = false;
    this.phase = 'head';
  }

  private readHead(pos: number, end: number): number {
    const d = this.fm.data;
    let i = pos;
    let done = -1;
    while (i < end) {
      if (this.nl === 0) {
        const nl = d.indexOf(10, i);
        if (nl < 0 || nl >= end) {
          i = end;
          break;
        }
        i = nl + 1;
        this.nl = 1;
        continue;
      }
      const c = d[i++];
      if (c === 10) {
        done = i;
        break;
      }
      this.nl = c === 13 && this.nl === 1 ? 2 : 0;
    }
    const stop = done < 0 ? end : done;
    this.headLen += stop - pos;
    if (this.headLen > this.limits.headerBytes) {
      this.malformed(this.firstFrame, this.start, `header block larger than ${this.limits.headerBytes} bytes`);
      this.toResync(false);
      return stop;
    }
    this.headParts.push(Buffer.from(d.subarray(pos, stop)));
    if (done < 0) return end;
    const bytes = this.headParts.length === 1 ? this.headParts[0] : Buffer.concat(this.headParts);
    this.headParts = [];
    const head = parseSipHead(bytes.toString('latin1'));
    if (!head) {
      this.malformed(this.firstFrame, this.start, 'invalid SIP start line');
      this.toResync(true);
      return done;
    }
    this.head = head;
    this.info = bodyInfo(head);
    if (this.info.contentLength === undefined) {
      // Content-Length is mandatory over TCP: without a valid one the body length is unknown.
      if (!head.anomalies.includes('content-length-invalid')) head.anomalies.push('content-length-missing');
    }
    this.remaining = this.info.contentLength ?? 0;
    if (this.remaining === 0) this.complete(this.fm.frameAt(done - 1), this.fm.timeAt(done - 1));
    else this.phase = 'body';
    return done;
  }

  private addBody(d: Buffer, pos: number, n: number): void {
    this.bodyLength += n;
    const take = Math.min(n, this.limits.bodyBytes - this.kept);
    if (take > 0) {
      this.bodyParts.push(Buffer.from(d.subarray(pos, pos + take)));
      this.kept += take;
    }
  }

  private addAnomaly(a: string): void {
    if (this.head && !this.head.anomalies.includes(a)) this.head.anomalies.push(a);
  }

  private complete(frame: number, time: Timestamp): void {
    const head = this.head!;
    const body = this.bodyParts.length === 1 ? this.bodyParts[0] : Buffer.concat(this.bodyParts, this.kept);
    const m = makeMessage(head, this.info, body, this.bodyLength, { firstFrame: this.firstFrame, firstTime: this.firstTime, frame, time }, this.limits, this.incomplete);
    this.head = null;
    this.bodyParts = [];
    this.phase = 'idle';
    this.reported = false;
    this.events.onMessage(m);
  }

  /** A message in progress is cut (gap or end): emit it as incomplete if its head was read or its start line can be. */
  private abandon(anomaly: string): void {
    if (this.phase === 'head') {
      const text = Buffer.concat(this.headParts).toString('latin1');
      const lastNl = text.lastIndexOf('\n');
      const head = lastNl >= 0 ? parseSipHead(text.slice(0, lastNl + 1)) : null;
      this.headParts = [];
      if (!head) {
        this.phase = 'idle';
        return;
      }
      this.head = head;
      this.info = bodyInfo(head);
    } else if (this.phase !== 'body') {
      return;
    }
    this.incomplete = true;
    this.addAnomaly(anomaly);
    this.complete(this.fm.lastFrame, this.fm.lastTime);
  }

  private toResync(atLineStart: boolean): void {
    this.phase = 'resync';
    this.headParts = [];
    this.scanner.reset(atLineStart);
  }

  private malformed(frame: number, streamOffset: number, reason: string): void {
    if (this.reported) return;
    this.reported = true;
    this.events.onMalformed({ frame, streamOffset, reason });
  }
}
