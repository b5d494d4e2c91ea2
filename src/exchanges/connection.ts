// One TCP connection's application layer: finds out what it carries (HTTP, SIP, TLS) from the first bytes
// of either direction, drives the matching parsers, and passes their messages to the ExchangeBuilder.
// TLS is handed to TlsConnection; what it decrypts comes back through a nested ByteRouter. After an HTTP
// 101 that accepts "Upgrade: websocket", both directions are WebSocket frames (websocket.ts); SIP inside
// them (RFC 7118) goes to SIP parsers.

import type {
  Direction, Limits, Message, StreamChunk, TcpConnection, TcpConnectionSummary, TcpGap, TcpStreamHandler,
} from '../types.js';
import { detectStart } from '../protocols/detect.js';
import { HttpStreamParser, type StreamEnd } from '../protocols/http.js';
import { SipStreamParser } from '../protocols/sip.js';
import { TlsConnection, type TlsEvent } from '../protocols/tls/connection.js';
import type { KeyLog } from '../protocols/tls/keylog.js';
import { WebSocketDeframer } from '../protocols/websocket.js';
import { header, type ExchangeBuilder, type Path } from './builder.js';

/** Bytes a direction may send before we give up recognising its protocol. */
const DETECT_BYTES = 4096;

export interface ConnectionSink {
  malformed(stream: number, info: { frame: number; streamOffset: number; reason: string; dir: Direction; protocol: string }): void;
  /** The connection is released: everything the checks need about it. */
  closed(c: ClosedConnection): void;
}

export interface ClosedConnection {
  summary: TcpConnectionSummary;
  protocol: 'http' | 'sip' | 'tls' | 'other' | 'none';
  gaps: { dir: Direction; gap: TcpGap }[];
  tls: { events: TlsEvent[]; decrypted: boolean } | null;
}

interface Parser {
  push(chunk: StreamChunk): void;
  gap(g: TcpGap): void;
  end(at?: StreamEnd): void;
}

function copyChunk(c: StreamChunk): StreamChunk {
  return { ...c, data: Buffer.from(c.data), offsets: c.offsets.slice(), frames: c.frames.slice(), times: c.times.slice() };
}

/** Start lines found later in a prefix, for connections whose capture began mid-message. */
const REQUEST_LINE = /(?:^|\n)[A-Z][A-Z0-9_-]{1,31} +[^\s]+ +HTTP\/1\.[01]\r?\n/;
const STATUS_LINE = /(?:^|\n)HTTP\/1\.[01] \d{3}[ \r\n]/;

type Kind = ReturnType<typeof detectStart>;

/** Bytes of WebSocket frames held back while the 101 that accepts the upgrade has not been parsed yet. */
const WS_HOLD_BYTES = 64 << 10;

interface WsState {
  /** What the WebSocket messages carry: SIP, something else (skipped), or not known yet. */
  kind: 'sip' | 'other' | null;
  deframers: Partial<Record<Direction, WebSocketDeframer>>;
  sip: Partial<Record<Direction, SipStreamParser>>;
}

/**
 * Detects the protocol of a pair of byte streams and parses them. Used for plain TCP and for TLS plaintext.
 */
export class ByteRouter {
  protocol: 'detect' | 'http' | 'sip' | 'tls' | 'other' = 'detect';
  private pending: Record<Direction, StreamChunk[]> = { client: [], server: [] };
  private pendingBytes: Record<Direction, number> = { client: 0, server: 0 };
  private kinds: Record<Direction, Kind> = { client: null, server: null };
  private parsers: Partial<Record<Direction, Parser>> = {};
  /** Which TCP side sends the requests (may differ from the tracker's guess). */
  private requester: Direction = 'client';
  private ended: Record<Direction, StreamEnd | null> = { client: null, server: null };
  /** First frame after the latest hole in a direction's bytes, until a response after it is paired. */
  private holeAt: Record<Direction, number | null> = { client: null, server: null };
  /** The last request asked for a WebSocket upgrade; after the 101 that accepts it, `ws` reads the frames. */
  private wsAsked = false;
  private ws: WsState | null = null;
  private wsHeld: Record<Direction, StreamChunk[]> = { client: [], server: [] };
  private wsHeldBytes = 0;
  /** A hole was reported in a direction and no bytes came after it yet. */
  private hole: Record<Direction, boolean> = { client: false, server: false };
  /** A direction's bytes have reached a parser. */
  private seen: Record<Direction, boolean> = { client: false, server: false };
  tls: TlsConnection | null = null;
  tlsEvents: TlsEvent[] = [];
  private inner: ByteRouter | null = null;

  constructor(
    private conn: TcpConnection,
    private builder: ExchangeBuilder,
    private sink: ConnectionSink,
    private o: { limits: Limits; keylog?: KeyLog; insideTls?: boolean; allowTls: boolean; lazyHeaders?: boolean },
  ) {}

  /** The HTTP path, made once per requester (read-only downstream: one object per connection, not per message). */
  private cachedPath: Path | null = null;
  private path(): Path {
    const cached = this.cachedPath;
    const c = this.requester === 'client' ? this.conn.client : this.conn.server;
    if (cached !== null && cached.clientIp === c.ip && cached.clientPort === c.port) return cached;
    const s = this.requester === 'client' ? this.conn.server : this.conn.client;
    return (this.cachedPath = { transport: 'tcp', stream: this.conn.stream, clientIp: c.ip, clientPort: c.port, serverIp: s.ip, serverPort: s.port, tls: this.o.insideTls });
  }

  data(dir: Direction, chunk: StreamChunk): void {
    if (this.protocol === 'other') return;
    if (this.protocol === 'detect') {
      this.pending[dir].push(copyChunk(chunk));
      this.pendingBytes[dir] += chunk.data.length;
      this.detect(dir);
      return;
    }
    this.feed(dir, chunk);
  }

  private feed(dir: Direction, chunk: StreamChunk): void {
    if (this.hole[dir]) {
      this.hole[dir] = false;
      this.holeAt[dir] = chunk.frames[0] ?? null;
    }
    if (!this.seen[dir]) {
      this.seen[dir] = true;
      // The first bytes of a direction of a connection whose start was not captured, once the other direction
      // has told the protocol: if they are no start line, the capture began inside a message (as in start()).
      if ((this.protocol === 'http' || this.protocol === 'sip') && !this.conn.sawSyn && detectStart(chunk.data) === null) {
        this.parsers[dir]?.gap({ streamOffset: chunk.streamOffset, bytes: 0, frameBefore: null, frameAfter: chunk.frames[0] ?? null });
        this.holeAt[dir] = chunk.frames[0] ?? null;
      }
    }
    if (this.protocol === 'tls') this.tls!.data(dir, chunk);
    else this.parsers[dir]?.push(chunk);
  }

  private prefix(dir: Direction): Buffer {
    const p = this.pending[dir];
    return p.length === 1 ? p[0].data : Buffer.concat(p.map((c) => c.data));
  }

  private detect(dir: Direction): void {
    const head = this.prefix(dir);
    const k = detectStart(head);
    this.kinds[dir] = k;
    if (k) {
      this.start(k, dir);
      return;
    }
    // Not recognisable at its start: maybe the capture began mid-message. Look for a start line inside.
    const other: Direction = dir === 'client' ? 'server' : 'client';
    if (!this.conn.sawSyn || this.pendingBytes[dir] >= DETECT_BYTES) {
      const text = head.toString('latin1');
      if (REQUEST_LINE.test(text)) return this.start('http-request', dir, true);
      if (STATUS_LINE.test(text)) return this.start('http-response', dir, true);
    }
    if (this.pendingBytes[dir] >= DETECT_BYTES && (this.pendingBytes[other] >= DETECT_BYTES || this.ended[other])) {
      this.giveUp();
    }
  }

  private giveUp(): void {
    this.protocol = 'other';
    this.pending = { client: [], server: [] };
  }

  private start(k: NonNullable<Kind>, dir: Direction, midStream = false): void {
    const other: Direction = dir === 'client' ? 'server' : 'client';
    const { limits } = this.o;
    if (k === 'tls') {
      if (!this.o.allowTls) return this.giveUp();
      this.protocol = 'tls';
      this.tls = new TlsConnection({
        keylog: this.o.keylog,
        onEvent: (e) => {
          if (this.tlsEvents.length < 64) this.tlsEvents.push(e);
        },
        onPlaintext: (d, c) => {
          if (!this.inner) {
            this.inner = new ByteRouter(this.conn, this.builder, this.sink, { ...this.o, insideTls: true, allowTls: false });
          }
          this.inner.data(d, c);
        },
      });
    } else if (k === 'sip-request' || k === 'sip-response') {
      this.protocol = 'sip';
      this.requester = k === 'sip-request' ? dir : other;
      for (const d of ['client', 'server'] as Direction[]) {
        this.parsers[d] = new SipStreamParser({
          limits,
          onMessage: (m) => this.sipMessage(d, m),
          onMalformed: (e) => this.sink.malformed(this.conn.stream, { ...e, dir: d, protocol: 'sip' }),
        });
      }
    } else {
      this.protocol = 'http';
      this.requester = k === 'http-request' ? dir : other;
      const responder: Direction = this.requester === 'client' ? 'server' : 'client';
      const lazyHeaders = this.o.lazyHeaders === true;
      const res = new HttpStreamParser('response', {
        limits,
        lazyHeaders,
        onMessage: (m) => {
          // The first response that began after a hole in the responder's bytes: pairing is not FIFO (builder).
          const hole = this.holeAt[responder];
          const afterHole = hole !== null && m.firstFrame >= hole;
          if (afterHole) this.holeAt[responder] = null;
          if (m.status === 101 && this.wsAsked && /\bwebsocket\b/i.test(header(m, 'upgrade') ?? '')) this.startWebSocket(m);
          this.builder.httpResponse(this.path(), m, afterHole);
        },
        onMalformed: (e) => this.sink.malformed(this.conn.stream, { ...e, dir: responder, protocol: 'http' }),
        onTunnel: (c) => this.tunnel(responder, c),
      });
      const req = new HttpStreamParser('request', {
        limits,
        lazyHeaders,
        onMessage: (m) => {
          if (m.method) res.expectMethod(m.method);
          this.wsAsked = /\bwebsocket\b/i.test(header(m, 'upgrade') ?? '');
          this.builder.httpRequest(this.path(), m);
        },
        onMalformed: (e) => this.sink.malformed(this.conn.stream, { ...e, dir: this.requester, protocol: 'http' }),
        onTunnel: (c) => this.tunnel(this.requester, c),
        inProgress: this.builder.assembling,
      });
      this.parsers[this.requester] = req;
      this.parsers[responder] = res;
    }
    // Replay what was held back. A direction that did not start with a start line is resynchronised by the
    // parser (as after a gap) rather than fed from its first byte.
    for (const d of [dir, other] as Direction[]) {
      const chunks = this.pending[d];
      this.pending[d] = [];
      if (!chunks.length) continue;
      this.seen[d] = true;
      const startsClean = d === dir ? !midStream : this.kinds[d] !== null || detectStart(Buffer.concat(chunks.map((c) => c.data))) !== null;
      if (!startsClean && this.protocol !== 'tls') {
        this.parsers[d]?.gap({ streamOffset: chunks[0].streamOffset, bytes: 0, frameBefore: null, frameAfter: chunks[0].frames[0] ?? null });
        this.holeAt[d] = chunks[0].frames[0] ?? null;
      }
      for (const c of chunks) this.feed(d, c);
      if (this.ended[d]) this.endDir(d, this.ended[d]!);
    }
  }

  // ------------------------------------------------------------ WebSocket (after 101 to Upgrade: websocket)

  /** The 101 accepted a WebSocket upgrade: read WebSocket frames in both directions from now on. */
  private startWebSocket(res: Message): void {
    const sub = (header(res, 'sec-websocket-protocol') ?? '').trim().toLowerCase();
    const ws: WsState = { kind: sub === 'sip' ? 'sip' : null, deframers: {}, sip: {} };
    for (const d of ['client', 'server'] as Direction[]) {
      ws.deframers[d] = new WebSocketDeframer({
        onData: (c) => this.wsData(d, c),
        onGap: (g) => ws.sip[d]?.gap(g),
        onMalformed: (e) => this.sink.malformed(this.conn.stream, { ...e, dir: d, protocol: 'websocket' }),
      });
    }
    this.ws = ws;
    for (const d of ['client', 'server'] as Direction[]) {
      const held = this.wsHeld[d];
      this.wsHeld[d] = [];
      for (const c of held) ws.deframers[d]!.push(c);
    }
  }

  /** Bytes after the switch: WebSocket frames once the 101 was seen; held (bounded) until then. */
  private tunnel(dir: Direction, c: StreamChunk): void {
    if (this.ws) return this.ws.deframers[dir]?.push(c);
    if (!this.wsAsked || this.wsHeldBytes + c.data.length > WS_HOLD_BYTES) return;
    this.wsHeld[dir].push(copyChunk(c));
    this.wsHeldBytes += c.data.length;
  }

  /** Payload of WebSocket data frames: SIP (RFC 7118) when negotiated or when it starts like SIP; else skipped. */
  private wsData(dir: Direction, c: StreamChunk): void {
    const ws = this.ws!;
    if (ws.kind === null) {
      const k = detectStart(c.data);
      ws.kind = k === 'sip-request' || k === 'sip-response' ? 'sip' : 'other';
    }
    if (ws.kind !== 'sip') return;
    let p = ws.sip[dir];
    if (!p) {
      p = ws.sip[dir] = new SipStreamParser({
        limits: this.o.limits,
        onMessage: (m) => this.sipMessage(dir, m),
        onMalformed: (e) => this.sink.malformed(this.conn.stream, { ...e, dir, protocol: 'sip' }),
      });
    }
    p.push(c);
  }

  private sipMessage(from: Direction, m: Message): void {
    // For SIP over TCP either side may send requests (e.g. BYE from the callee): the sender of a request is its client.
    const a = from === 'client' ? this.conn.client : this.conn.server;
    const b = from === 'client' ? this.conn.server : this.conn.client;
    const path: Path =
      m.kind === 'request'
        ? { transport: 'tcp', stream: this.conn.stream, clientIp: a.ip, clientPort: a.port, serverIp: b.ip, serverPort: b.port, tls: this.o.insideTls }
        : { transport: 'tcp', stream: this.conn.stream, clientIp: b.ip, clientPort: b.port, serverIp: a.ip, serverPort: a.port, tls: this.o.insideTls };
    this.builder.sipMessage(path, m);
  }

  gap(dir: Direction, g: TcpGap): void {
    if (this.protocol === 'detect') {
      // A hole before we know the protocol: what we hold cannot be trusted as a start; drop it.
      this.pending[dir] = [];
      this.pendingBytes[dir] = 0;
      return;
    }
    if (this.protocol === 'tls') this.tls!.gap(dir, g);
    else {
      this.parsers[dir]?.gap(g);
      this.ws?.deframers[dir]?.gap(g);
      this.hole[dir] = true; // the tracker may not know the frame after it yet: the next chunk tells
    }
  }

  /** The direction ended: FIN (tshark shows a close-delimited message at the FIN frame), RST, or end of capture. */
  end(dir: Direction, at: StreamEnd = { how: 'eof' }): void {
    if (this.ended[dir]) return;
    this.ended[dir] = at;
    if (this.protocol === 'detect') {
      // Decide with what we have: a short message, then FIN.
      if (this.pending[dir].length) {
        const k = detectStart(this.prefix(dir));
        if (k) return this.start(k, dir);
      }
      return;
    }
    this.endDir(dir, at);
  }

  private endDir(dir: Direction, at: StreamEnd): void {
    if (this.protocol === 'tls') {
      this.tls!.end(dir);
      this.inner?.end(dir, at);
    } else {
      this.parsers[dir]?.end(at);
      this.ws?.sip[dir]?.end(at);
    }
  }

  finish(): void {
    for (const d of ['client', 'server'] as Direction[]) if (!this.ended[d]) this.end(d, { how: 'eof' });
  }
}

/** The TcpStreamHandler the tracker drives: one per tcp.stream. */
export class ConnectionHandler implements TcpStreamHandler {
  private router: ByteRouter;
  private gaps: { dir: Direction; gap: TcpGap }[] = [];

  constructor(
    private conn: TcpConnection,
    private builder: ExchangeBuilder,
    private sink: ConnectionSink,
    o: { limits: Limits; keylog?: KeyLog; lazyHeaders?: boolean },
  ) {
    this.router = new ByteRouter(conn, builder, sink, { ...o, allowTls: true });
  }

  data(dir: Direction, chunk: StreamChunk): void {
    this.router.data(dir, chunk);
  }

  gap(dir: Direction, gap: TcpGap): void {
    if (this.gaps.length < 32) this.gaps.push({ dir, gap });
    this.router.gap(dir, gap);
  }

  end(dir: Direction, how: 'fin' | 'rst', frame: number): void {
    this.router.end(dir, { how, frame });
  }

  close(summary: TcpConnectionSummary): void {
    this.router.finish();
    const p = this.router.protocol;
    this.sink.closed({
      summary,
      protocol: p === 'detect' ? (summary.bytes.client + summary.bytes.server > 0 ? 'other' : 'none') : p,
      gaps: this.gaps,
      tls: this.router.tls ? { events: this.router.tlsEvents, decrypted: this.router.tls.handshake.decrypting } : null,
    });
    this.builder.closeStream(this.conn.stream);
  }
}

/** A handler that only lets the tracker count and summarise (for connections the filters exclude). */
export class SummaryOnlyHandler implements TcpStreamHandler {
  constructor(private sink: ConnectionSink) {}
  data(): void {}
  gap(): void {}
  end(): void {}
  close(summary: TcpConnectionSummary): void {
    this.sink.closed({ summary, protocol: 'none', gaps: [], tls: null });
  }
}
