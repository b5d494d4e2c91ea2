// Exchanges: pairs each parsed request with its answer and hands the finished exchange on.
//   HTTP: in order per connection (FIFO of outstanding requests); 1xx answers are interim.
//   SIP:  by Call-ID + CSeq + top Via branch, per transport path; request retransmissions collapse.
// Ids are given when a request completes ("x1", "x2", ...), so they follow the capture's order.

import type { Exchange, ExchangeContext, Message, RequestJson, ResponseJson, Timestamp } from '../types.js';
import { endpointText } from '../types.js';
import { isoTime } from '../util/time.js';
import { MinHeap } from '../util/heap.js';
import { headersOf, rawHeaderValue } from '../protocols/http.js';

export interface Path {
  transport: 'tcp' | 'udp';
  stream: number | null;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  tls?: boolean;
}

/** A response whose request was not captured (the capture started after it). */
export interface UnpairedResponse {
  protocol: 'http' | 'sip';
  stream: number | null;
  client: string;
  server: string;
  frame: number;
  time: string;
  status: number;
  reason: string;
  /** Frame of the first byte (as in ResponseJson). */
  firstFrame?: number;
  /** The response spans a hole or the end of the capture (as in ResponseJson). */
  incomplete?: boolean;
}

export interface BuilderEvents {
  /** A finished exchange (response or none), with its raw messages; called once per exchange. */
  onExchange(ctx: ExchangeContext): void;
  onUnpaired(r: UnpairedResponse): void;
}

interface Pending {
  id: string;
  path: Path;
  req: Message;
  interim: { frame: number; status: number }[];
  /** Its entry among the requests waiting for an answer (minPendingFrame). */
  slot?: Slot;
}

interface Slot {
  frame: number;
  done: boolean;
}

/**
 * Request frames of the requests waiting for their answer, for minPendingFrame(): a binary min-heap of
 * small slots with lazy deletion (answered ones are dropped when they reach the top, and the heap is
 * rebuilt when they outnumber the live ones, so a request that is never answered does not make it grow).
 */
class PendingHeap {
  private heap = new MinHeap<Slot>((x, y) => x.frame - y.frame);
  private live = 0;
  add(frame: number): Slot {
    const s: Slot = { frame, done: false };
    this.live++;
    this.heap.push(s);
    return s;
  }
  done(s: Slot): void {
    if (s.done) return;
    s.done = true;
    this.live--;
    if (this.heap.size > 1024 && this.heap.size > 4 * this.live) this.heap.retain((x) => !x.done);
  }
  min(): number {
    const h = this.heap;
    while (h.size && h.peek()!.done) h.pop();
    return h.peek()?.frame ?? Infinity;
  }
}

export function toRequestJson(m: Message): RequestJson {
  const r: RequestJson = {
    frame: m.frame,
    time: isoTime(m.time),
    method: m.method ?? '',
    uri: m.uri ?? '',
    version: m.version,
    headers: headersOf(m),
    bodyLength: m.bodyLength,
    credentials: null,
    firstFrame: m.firstFrame,
  };
  if (m.incomplete) r.incomplete = true;
  return r;
}

export function toResponseJson(m: Message): ResponseJson {
  const r: ResponseJson = {
    frame: m.frame,
    time: isoTime(m.time),
    status: m.status ?? 0,
    reason: m.reason ?? '',
    headers: headersOf(m),
    bodyLength: m.bodyLength,
    firstFrame: m.firstFrame,
  };
  if (m.incomplete) r.incomplete = true;
  return r;
}

/** First value of a header (case-insensitive). */
export function header(m: Message, name: string): string | undefined {
  const n = name.toLowerCase();
  if (m.rawHead !== undefined) return rawHeaderValue(m.rawHead, n);
  // lower-casing never makes a string shorter: a longer name cannot match (and costs no new string)
  for (const [k, v] of m.headers) if (k.length <= n.length && k.toLowerCase() === n) return v;
  return undefined;
}

const SIP_COMPACT: Record<string, string> = { 'call-id': 'i', via: 'v', cseq: 'cseq' };

function sipHeader(m: Message, name: string): string | undefined {
  return header(m, name) ?? (SIP_COMPACT[name.toLowerCase()] ? header(m, SIP_COMPACT[name.toLowerCase()]) : undefined);
}

/** Call-ID + CSeq + top Via branch: the SIP transaction key. */
export function sipKey(m: Message): string {
  const callId = (sipHeader(m, 'Call-ID') ?? '').trim();
  const cseq = (sipHeader(m, 'CSeq') ?? '').trim().replace(/\s+/g, ' ');
  const via = sipHeader(m, 'Via') ?? '';
  const branch = /;\s*branch=([^;,\s]+)/i.exec(via)?.[1] ?? '';
  // CANCEL and ACK share the INVITE's branch but are their own transactions: the CSeq method separates them.
  return `${callId}\u0000${cseq}\u0000${branch}`;
}

/**
 * The request form of exchanges built without JSON forms (`noJson`): frozen, and obviously not a request
 * (frame -1), should anything read it.
 */
const NO_REQUEST: RequestJson = Object.freeze({ frame: -1, time: '', method: '', uri: '', version: '', headers: [], bodyLength: 0, credentials: null }) as RequestJson;

export class ExchangeBuilder {
  private nextId = 1;
  /** Outstanding HTTP requests per connection (key: stream). */
  private httpQueues = new Map<number, Pending[]>();
  /** Answers that completed before their request did, per stream (see httpRequest). */
  private early = new Map<number, { path: Path; msg: Message }[]>();
  /** Outstanding SIP transactions. Insertion-ordered, so the oldest are evicted first. */
  private sipPending = new Map<string, Pending>();
  private sipDone = new Map<string, true>();
  private waiting = new PendingHeap();
  /** For the request parsers (HttpParserEvents.inProgress): requests being assembled count as waiting. */
  readonly assembling = {
    add: (firstFrame: number): unknown => this.waiting.add(firstFrame),
    done: (slot: unknown): void => this.waiting.done(slot as Slot),
  };
  readonly stats = { httpRequests: 0, httpResponses: 0, sipRequests: 0, sipResponses: 0, sipRetransmissions: 0, unanswered: 0, unpaired: 0 };

  /**
   * `noJson`: exchanges are handed on without their request and response JSON forms (`request` is a
   * frozen placeholder, `response` null): for the two-thread front end, which only posts the messages
   * (the worker makes the forms from them, wire.ts).
   */
  constructor(private ev: BuilderEvents, private o: { maxPendingPerConnection?: number; maxSipPending?: number; noJson?: boolean } = {}) {}

  /**
   * The lowest request frame among requests still waiting for an answer, and first frame among requests
   * being assembled (Infinity when none): no exchange handed on later has an earlier request frame.
   */
  minPendingFrame(): number {
    return this.waiting.min();
  }

  private emit(p: Pending, res: Message | null): void {
    if (p.slot) this.waiting.done(p.slot);
    const noJson = this.o.noJson === true;
    const ex: Exchange = {
      id: p.id,
      protocol: p.req.protocol,
      stream: p.path.stream,
      client: endpointText(p.path.clientIp, p.path.clientPort),
      server: endpointText(p.path.serverIp, p.path.serverPort),
      request: noJson ? NO_REQUEST : toRequestJson(p.req),
      response: res && !noJson ? toResponseJson(res) : null,
      transport: p.path.transport,
    };
    if (p.path.tls) ex.tls = true;
    if (p.interim.length) ex.interim = p.interim;
    if (!res) this.stats.unanswered++;
    this.ev.onExchange({
      exchange: ex,
      req: p.req,
      res,
      clientIp: p.path.clientIp,
      clientPort: p.path.clientPort,
      serverIp: p.path.serverIp,
      serverPort: p.path.serverPort,
      transport: p.path.transport,
      time: p.req.time,
    });
  }

  private unpaired(path: Path, m: Message): void {
    this.stats.unpaired++;
    this.ev.onUnpaired({
      protocol: m.protocol,
      stream: path.stream,
      client: endpointText(path.clientIp, path.clientPort),
      server: endpointText(path.serverIp, path.serverPort),
      frame: m.frame,
      time: isoTime(m.time),
      status: m.status ?? 0,
      reason: m.reason ?? '',
      firstFrame: m.firstFrame,
      ...(m.incomplete ? { incomplete: true } : {}),
    });
  }

  // ------------------------------------------------------------ HTTP
  //
  // A response can complete before its request does: a server refuses a large upload with 401 while the
  // client is still sending, or answers 100 Continue to the headers. Such answers wait in `early` and go to
  // the next request that had STARTED before they completed; an answer that completed before any request
  // started belongs to a request the capture missed (it began mid-connection) and is reported unpaired.

  httpRequest(path: Path, m: Message): void {
    this.stats.httpRequests++;
    const key = path.stream ?? -1;
    const p: Pending = { id: `x${this.nextId++}`, path, req: m, interim: [] };
    const early = this.early.get(key);
    while (early?.length) {
      const r = early[0];
      if (r.msg.frame < m.firstFrame) {
        early.shift();
        this.unpaired(r.path, r.msg); // an interim answer too: tshark shows it, and so do we
        continue;
      }
      early.shift();
      if (isInterim(r.msg)) {
        p.interim.push({ frame: r.msg.frame, status: r.msg.status ?? 0 });
        continue;
      }
      if (!early.length) this.early.delete(key);
      this.emit(p, r.msg);
      return;
    }
    if (early && !early.length) this.early.delete(key);
    let q = this.httpQueues.get(key);
    if (!q) this.httpQueues.set(key, (q = []));
    q.push(p);
    p.slot = this.waiting.add(m.frame);
    const max = this.o.maxPendingPerConnection ?? 256;
    while (q.length > max) this.emit(q.shift()!, null);
  }

  /**
   * `afterHole`: the response began after bytes of its direction were lost (a gap, or a capture that began
   * mid-response). Answers to the outstanding requests may have been in the hole, so FIFO order no longer
   * says which request this answers: it goes to the latest request that was complete before it began (what
   * an HTTP/1.1 server answers after reading it; Wireshark pairs the same way), and the older outstanding
   * requests are reported without a response.
   */
  httpResponse(path: Path, m: Message, afterHole = false): void {
    this.stats.httpResponses++;
    const key = path.stream ?? -1;
    const q = this.httpQueues.get(key);
    if (afterHole && q && q.length > 1 && !isInterim(m)) {
      let k = 0;
      while (k + 1 < q.length && q[k + 1].req.frame <= m.firstFrame) k++;
      for (const lost of q.splice(0, k)) this.emit(lost, null);
    }
    const head = q?.[0];
    if (!head) {
      let e = this.early.get(key);
      if (!e) this.early.set(key, (e = []));
      if (e.length >= 16) {
        const old = e.shift()!;
        this.unpaired(old.path, old.msg);
      }
      e.push({ path, msg: m });
      return;
    }
    if (isInterim(m)) {
      if (head.interim.length < 16) head.interim.push({ frame: m.frame, status: m.status ?? 0 });
      return;
    }
    q!.shift();
    this.emit(head, m);
  }

  /** Requests of a stream still waiting for an answer (e.g. when a reset comes). */
  pending(stream: number): readonly { id: string; req: Message }[] {
    return this.httpQueues.get(stream) ?? [];
  }

  /** The connection is gone: requests still waiting got no answer. */
  closeStream(stream: number): void {
    const q = this.httpQueues.get(stream);
    if (q) {
      this.httpQueues.delete(stream);
      for (const p of q) this.emit(p, null);
    }
    const e = this.early.get(stream);
    if (e) {
      this.early.delete(stream);
      for (const r of e) this.unpaired(r.path, r.msg);
    }
  }

  // ------------------------------------------------------------ SIP

  sipMessage(path: Path, m: Message): void {
    // Without Call-ID or CSeq a message names no transaction: it is nobody's retransmission, and nothing
    // can answer it (damaged or fuzzed messages). It stands alone.
    const keyed = !!sipHeader(m, 'Call-ID')?.trim() && !!sipHeader(m, 'CSeq')?.trim();
    if (!keyed) {
      if (m.kind === 'request') {
        this.stats.sipRequests++;
        this.emit({ id: `x${this.nextId++}`, path, req: m, interim: [] }, null);
      } else {
        this.stats.sipResponses++;
        this.unpaired(path, m);
      }
      return;
    }
    if (m.kind === 'request') {
      this.stats.sipRequests++;
      const key = sipKey(m);
      if (this.sipPending.has(key) || this.sipDone.has(key)) {
        this.stats.sipRetransmissions++;
        return;
      }
      // ACK gets no response: it is an exchange on its own at once.
      if ((m.method ?? '').toUpperCase() === 'ACK') {
        this.emit({ id: `x${this.nextId++}`, path, req: m, interim: [] }, null);
        this.stats.unanswered--; // an ACK is not "unanswered"
        this.remember(key);
        return;
      }
      const p: Pending = { id: `x${this.nextId++}`, path, req: m, interim: [] };
      p.slot = this.waiting.add(m.frame);
      this.sipPending.set(key, p);
      const max = this.o.maxSipPending ?? 10_000;
      while (this.sipPending.size > max) {
        const [k, p] = this.sipPending.entries().next().value as [string, Pending];
        this.sipPending.delete(k);
        this.emit(p, null);
      }
      return;
    }
    this.stats.sipResponses++;
    // The transaction key alone pairs them: responses may come back to another port (Via sent-by).
    const key = sipKey(m);
    const p = this.sipPending.get(key);
    if (!p) {
      if (!this.sipDone.has(key)) this.unpaired(path, m);
      return;
    }
    const status = m.status ?? 0;
    if (status < 200) {
      if (p.interim.length < 16) p.interim.push({ frame: m.frame, status });
      return;
    }
    this.sipPending.delete(key);
    this.remember(key);
    this.emit(p, m);
  }

  private remember(key: string): void {
    this.sipDone.set(key, true);
    if (this.sipDone.size > 20_000) {
      const first = this.sipDone.keys().next().value as string;
      this.sipDone.delete(first);
    }
  }

  /** End of capture: everything still open is unanswered. */
  finish(): void {
    for (const stream of new Set([...this.httpQueues.keys(), ...this.early.keys()])) this.closeStream(stream);
    for (const p of this.sipPending.values()) this.emit(p, null);
    this.sipPending.clear();
  }
}

function isInterim(m: Message): boolean {
  const s = m.status ?? 0;
  return s >= 100 && s < 200 && s !== 101;
}

export function messageTime(m: Message): Timestamp {
  return m.time;
}
