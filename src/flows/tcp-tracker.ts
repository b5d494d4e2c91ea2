// TCP connection tracking: gives every TCP packet Wireshark 4.0's tcp.stream index, keeps one connection
// (client/server roles, two Reassemblers, a summary) per open stream, drives a TcpStreamHandler with
// in-order bytes, gaps and ends, and releases connections on close, reset, eviction or end of capture.
//
// Stream numbering replicates epan/dissectors/packet-tcp.c (Wireshark 4.0, dissect_tcp and
// tcp_analyze_sequence_number), checked against tshark 4.0.17:
//  1. A packet whose 4-tuple (either direction) has no conversation gets the next index.
//  2. A pure SYN (SYN without ACK) on an existing conversation starts a new one (next index) when the
//     conversation already has a base sequence number for the SYN's direction and the SYN's sequence
//     number differs from it. Same ISN = the same stream (a retransmitted or retried SYN), even after
//     FIN or RST: 4.0 only compares ISNs.
//  3. A SYN-ACK whose sequence number differs from its direction's base makes that the new base
//     (same stream).
//  4. Then each packet sets its direction's base if unset: seq for a SYN, seq-1 otherwise; and, when
//     it has ACK, the reverse direction's base if unset: ack-1.
// A released connection keeps this numbering state (a few numbers) so late packets (final ACK,
// retransmitted FINs) keep their index and a new SYN gets a new one. That retained state (about 200
// bytes a 4-tuple) is an LRU bounded by max(limits.streams, 65536): a packet of a 4-tuple dropped from it
// gets a fresh index, the one place where the numbering can differ from tshark (only with that many
// released connections between a connection's release and its next packet).

import {
  endpointText, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN,
  type DecodedPacket, type Direction, type Limits, type TcpConnection, type TcpConnectionSummary,
  type StreamChunk, type TcpGap, type TcpStreamHandler, type TcpStreamHandlerFactory, type Timestamp,
} from '../types.js';
import { LruList, type ListNode } from './lru-list.js';
import { Reassembler, SegmentKind, type ReassemblySink } from './reassembler.js';

/** At most this many SYNs / resets are listed in a summary (the last slot keeps the latest one). */
const MAX_LISTED = 64;
const EMPTY = Buffer.alloc(0);

type CloseReason = 'fin' | 'rst' | 'evicted' | 'superseded' | 'end';

/** Per 4-tuple numbering state (Wireshark's conversation + tcp_analysis base sequence numbers). */
interface Tuple extends ListNode {
  /** Endpoint A is the source of the tuple's first packet; direction A -> B sets bit 1 below. */
  ipA: string;
  portA: number;
  ipB: string;
  portB: number;
  /** The hash-table bucket (a symmetric hash of both endpoints) and the next tuple in it. */
  hash: number;
  chain: Tuple | null;
  stream: number;
  /** Bit 1: base of A -> B is set; bit 2: base of B -> A is set (TCP_S_BASE_SEQ_SET). */
  baseSet: number;
  baseA: number;
  baseB: number;
  conn: Conn | null;
  closedBy: CloseReason | null;
  /** Whether A was the client of the last connection (to reopen an evicted one the same way). */
  clientIsA: boolean;
}

interface Conn {
  tuple: Tuple;
  info: TcpConnection;
  clientIsA: boolean;
  handler: TcpStreamHandler;
  /** [client -> server, server -> client] */
  dirs: [Reassembler, Reassembler];
  synFrames: number[];
  synTimes: Timestamp[];
  synAckFrame: number | null;
  resets: { frame: number; from: Direction; time: Timestamp }[];
  fins: { frame: number; from: Direction; time: Timestamp }[];
  finSeen: [boolean, boolean];
  firstData: [number | null, number | null];
  lastFrame: number;
  lastTime: Timestamp;
  gaps: number;
  /** Frame of a RST not yet acted on (a refused attempt is kept open to collect SYN retries). */
  resetFrame: number | null;
  closed: boolean;
}

export interface TcpTrackerStats {
  segments: number;
  retransmissions: number;
  outOfOrder: number;
  gaps: number;
  gapBytes: number;
  evicted: number;
}

export interface TcpTrackerOptions {
  limits: Limits;
  factory: TcpStreamHandlerFactory;
  /**
   * A bound was hit, once per event: 'streams' (more open connections than limits.streams: the least
   * recently active one was released) or 'reassembly' (out-of-order data of one direction over
   * limits.reassemblyBytes: the oldest hole became a gap). Names match the CLI's --max-<what>.
   */
  onLimit?(what: string, detail: Record<string, unknown>): void;
  /**
   * Distinct addresses given an id (for the 4-tuple hash) before the ids are reassigned from the tuples
   * still held; default 2^20. A soft bound: the ids of held tuples are always kept. For tests.
   */
  addressIdLimit?: number;
}

const DIRS: readonly Direction[] = ['client', 'server'];

/** Distinct addresses given a small-integer id before the ids are reassigned from the live tuples. */
const ADDRESS_IDS = 1 << 20;

/** Hash of one endpoint (address id, port): a 32-bit mix. */
function endpointHash(id: number, port: number): number {
  let h = Math.imul(id + 1, 0x9e3779b1) ^ Math.imul(port + 1, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h;
}

/** The same for both directions of a 4-tuple (a sum of the endpoints' hashes), kept a small integer. */
function tupleHash(idS: number, portS: number, idD: number, portD: number): number {
  return (endpointHash(idS, portS) + endpointHash(idD, portD)) & 0x3fffffff;
}

function push<T>(list: T[], item: T): void {
  if (list.length < MAX_LISTED) list.push(item);
  else list[MAX_LISTED - 1] = item;
}

export class TcpTracker {
  private readonly limits: Limits;
  private readonly factory: TcpStreamHandlerFactory;
  private readonly onLimit?: (what: string, detail: Record<string, unknown>) => void;
  /**
   * The 4-tuples, found without building a string key per packet: a symmetric numeric hash of the two
   * endpoints (address ids from `addressIds`, ports) picks a bucket, a short chain compares the fields.
   */
  private readonly tuples = new Map<number, Tuple>();
  /** The tuple of the last packet while it is in `tuples` (a lookup shortcut, see packet()). */
  private lastTuple: Tuple | null = null;
  /** Small-integer id of each address text (the decoder hands over the same string for the same address). */
  private addressIds = new Map<string, number>();
  private readonly addressIdLimit: number;
  /** Tuples with an open connection, least recently active first. */
  private readonly open = new LruList();
  /** Tuples whose connection was released (numbering state only), least recently active first. */
  private readonly retained = new LruList();
  private readonly retainLimit: number;
  private readonly maxOpen: number;
  private count = 0;

  readonly stats: TcpTrackerStats = { segments: 0, retransmissions: 0, outOfOrder: 0, gaps: 0, gapBytes: 0, evicted: 0 };

  constructor(o: TcpTrackerOptions) {
    this.limits = o.limits;
    this.factory = o.factory;
    this.onLimit = o.onLimit;
    this.maxOpen = Math.max(1, o.limits.streams);
    this.retainLimit = Math.max(65536, o.limits.streams);
    this.addressIdLimit = Math.max(2, o.addressIdLimit ?? ADDRESS_IDS);
  }

  /** Number of tcp.stream indexes assigned so far (tshark's count once the capture is done). */
  get streams(): number {
    return this.count;
  }

  /** Connections currently open (bounded by limits.streams). */
  get openConnections(): number {
    return this.open.size;
  }

  /**
   * One TCP packet, in capture order. Returns its tcp.stream index (-1 if it is not TCP).
   * A packet whose TCP header is longer than its segment may be passed with `tcp.short = true` (a field
   * beyond TcpHeader) and an empty payload: it is numbered, as tshark does, and otherwise ignored.
   */
  packet(p: DecodedPacket): number {
    const t = p.tcp;
    if (p.transport !== 'tcp' || !t) return -1;
    this.stats.segments++;
    const flags = t.flags;
    const seq = t.seq >>> 0;

    // ---- numbering (Wireshark's conversation lookup, see the file comment)
    const src = p.src, dst = p.dst, sp = p.srcPort, dp = p.dstPort;
    let tu: Tuple | null | undefined = this.lastTuple;
    let aIsSrc = true;
    let hash = 0;
    // Most packets belong to the same 4-tuple as the packet before: that one is checked first (the same
    // comparisons as the bucket walk below, in the same order).
    if (tu !== null && tu.portA === sp && tu.portB === dp && tu.ipA === src && tu.ipB === dst) {
      // same direction
    } else if (tu !== null && tu.portA === dp && tu.portB === sp && tu.ipA === dst && tu.ipB === src) {
      aIsSrc = false;
    } else {
      if (this.addressIds.size + 2 > this.addressIdLimit) this.renumberAddresses();
      hash = tupleHash(this.addressId(src), sp, this.addressId(dst), dp);
      tu = this.tuples.get(hash);
      while (tu) {
        if (tu.portA === sp && tu.portB === dp && tu.ipA === src && tu.ipB === dst) break;
        if (tu.portA === dp && tu.portB === sp && tu.ipA === dst && tu.ipB === src) {
          aIsSrc = false;
          break;
        }
        tu = tu.chain;
      }
    }
    const bit = aIsSrc ? 1 : 2;
    let fresh = false;
    const synAck = flags & (TCP_SYN | TCP_ACK);
    if (!tu) {
      tu = {
        ipA: src, portA: sp, ipB: dst, portB: dp, hash, chain: this.tuples.get(hash) ?? null,
        prev: null, next: null, list: null,
        stream: this.count++, baseSet: 0, baseA: 0, baseB: 0, conn: null, closedBy: null, clientIsA: true,
      };
      this.tuples.set(hash, tu);
      fresh = true;
    }
    this.lastTuple = tu;
    if (!fresh && tu.baseSet & bit && (synAck === TCP_SYN || synAck === (TCP_SYN | TCP_ACK))) {
      const base = aIsSrc ? tu.baseA : tu.baseB;
      if (seq !== base) {
        if (synAck === TCP_SYN) {
          // packet-tcp.c: SYN with th_seq != fwd->base_seq -> conversation_new (TCP_A_REUSED_PORTS)
          if (tu.conn) this.closeConn(tu.conn, 'superseded');
          tu.stream = this.count++;
          tu.baseSet = 0;
          fresh = true;
        } else if (aIsSrc) tu.baseA = seq; // SYN-ACK: fwd->base_seq = th_seq (issue 16944)
        else tu.baseB = seq;
      }
    }
    // A header longer than the segment ("Short segment"): Wireshark numbers it but does not analyse it.
    if ((t as { short?: boolean }).short === true) {
      if (!tu.conn && !tu.list) this.retain(tu);
      return tu.stream;
    }
    // tcp_analyze_sequence_number: set the bases once
    if (!(tu.baseSet & bit)) {
      const b = flags & TCP_SYN ? seq : (seq - 1) >>> 0;
      if (aIsSrc) tu.baseA = b;
      else tu.baseB = b;
      tu.baseSet |= bit;
    }
    const rbit = 3 - bit;
    if (!(tu.baseSet & rbit) && flags & TCP_ACK) {
      const b = (t.ack - 1) >>> 0;
      if (aIsSrc) tu.baseB = b;
      else tu.baseA = b;
      tu.baseSet |= rbit;
    }

    // ---- the connection
    let c = tu.conn;
    const rst = (flags & TCP_RST) !== 0;
    const payload = rst ? EMPTY : p.payload;
    const missing = rst ? 0 : p.missingBytes;
    if (!c) {
      let clientIsA: boolean;
      if (synAck === TCP_SYN) clientIsA = aIsSrc;
      else if (synAck === (TCP_SYN | TCP_ACK)) clientIsA = !aIsSrc;
      else if (tu.closedBy === 'evicted') clientIsA = tu.clientIsA; // resuming: same roles as before
      else if (p.srcPort !== p.dstPort) clientIsA = (p.srcPort > p.dstPort) === aIsSrc; // higher port = client
      else clientIsA = aIsSrc; // tie: the first sender
      if (fresh || tu.closedBy === null || synAck === TCP_SYN) {
        // a new stream (or one only numbered so far), or a SYN with the same ISN on a released
        // connection (same index, as Wireshark)
      } else if (tu.closedBy === 'evicted' && (payload.length > 0 || missing > 0 || flags & TCP_FIN)) {
        // activity on a connection evicted for the open-connection bound: resume it mid-stream
      } else {
        // late packet of a released connection (final ACK, retransmitted FIN, ...): numbered, not reassembled
        this.retained.touch(tu);
        return tu.stream;
      }
      c = this.openConn(tu, p, aIsSrc, clientIsA === aIsSrc);
    } else {
      this.open.touch(tu);
    }

    const fromClient = aIsSrc === c.clientIsA;
    const idx = fromClient ? 0 : 1;
    const from: Direction = fromClient ? 'client' : 'server';
    c.lastFrame = p.frame;
    c.lastTime = p.time;
    if (synAck === TCP_SYN && fromClient) {
      push(c.synFrames, p.frame);
      push(c.synTimes, p.time);
    } else if (synAck === (TCP_SYN | TCP_ACK) && !fromClient && c.synAckFrame === null) {
      c.synAckFrame = p.frame;
    }
    if (c.resetFrame !== null && !rst && (synAck === (TCP_SYN | TCP_ACK) || payload.length > 0)) c.resetFrame = null;

    const me = c.dirs[idx];
    // the ACK first: it may make a hole in the other direction permanent before this packet's data
    if (flags & TCP_ACK) c.dirs[1 - idx].ack(t.ack);
    if (payload.length + missing > 0 && c.firstData[idx] === null) c.firstData[idx] = p.frame;
    const kind = me.segment(seq, flags, payload, missing, p.frame, p.time);
    if (kind === SegmentKind.Retransmission) this.stats.retransmissions++;
    else if (kind === SegmentKind.OutOfOrder) this.stats.outOfOrder++;
    if (me.overflowed) {
      me.overflowed = false;
      this.onLimit?.('reassembly', { limit: this.limits.reassemblyBytes, stream: c.info.stream, frame: p.frame });
    }
    if (flags & TCP_FIN && !c.finSeen[idx]) {
      c.finSeen[idx] = true;
      c.fins.push({ frame: p.frame, from, time: p.time });
    }
    if (rst) {
      push(c.resets, { frame: p.frame, from, time: p.time });
      c.resetFrame = p.frame;
      // A reset connection attempt (no SYN-ACK, no data, no FIN) stays open so that retried SYNs with the
      // same ISN (same tcp.stream) and their resets land in one summary; released at the end or on eviction.
      const attempt = c.synAckFrame === null && c.firstData[0] === null && c.firstData[1] === null && c.fins.length === 0;
      if (!attempt) this.closeConn(c, 'rst');
    } else if (c.dirs[0].ended && c.dirs[1].ended) {
      this.closeConn(c, 'fin');
    }
    return tu.stream;
  }

  /** End of capture: flush every open connection (holes become gaps) and release it, in stream order. */
  finish(): void {
    const conns: Conn[] = [];
    for (let n = this.open.head; n; n = n.next) conns.push((n as Tuple).conn!);
    conns.sort((a, b) => a.info.stream - b.info.stream);
    for (const c of conns) this.closeConn(c, 'end');
  }

  // ------------------------------------------------------------------ internals

  private openConn(tu: Tuple, p: DecodedPacket, aIsSrc: boolean, clientIsSrc: boolean): Conn {
    const a = { ip: p.src, port: p.srcPort };
    const b = { ip: p.dst, port: p.dstPort };
    const clientIsA = clientIsSrc === aIsSrc;
    tu.clientIsA = clientIsA;
    tu.closedBy = null;
    const info: TcpConnection = {
      stream: tu.stream,
      client: clientIsSrc ? a : b,
      server: clientIsSrc ? b : a,
      firstFrame: p.frame,
      firstTime: p.time,
      sawSyn: ((p.tcp?.flags ?? 0) & TCP_SYN) !== 0,
    };
    const handler = this.factory(info);
    const c: Conn = {
      tuple: tu, info, clientIsA, handler,
      dirs: null as unknown as Conn['dirs'], // set just below: the sinks need `c`
      synFrames: [], synTimes: [], synAckFrame: null, resets: [], fins: [], finSeen: [false, false],
      firstData: [null, null], lastFrame: p.frame, lastTime: p.time, gaps: 0, resetFrame: null, closed: false,
    };
    c.dirs = [new Reassembler(this.limits.reassemblyBytes, new DirSink(this, c, 'client')), new Reassembler(this.limits.reassemblyBytes, new DirSink(this, c, 'server'))];
    tu.conn = c;
    if (tu.list) tu.list.remove(tu);
    this.open.push(tu);
    while (this.open.size > this.maxOpen) {
      const victim = (this.open.head as Tuple).conn!;
      this.stats.evicted++;
      this.onLimit?.('streams', { limit: this.limits.streams, stream: victim.info.stream, frame: p.frame });
      this.closeConn(victim, 'evicted');
    }
    return c;
  }

  private closeConn(c: Conn, reason: CloseReason): void {
    if (c.closed) return;
    c.closed = true;
    for (let i = 0; i < 2; i++) {
      const r = c.dirs[i];
      if (r.ended) continue;
      r.flush(); // may reach the FIN: end(dir, 'fin')
      if (r.ended) continue;
      r.close();
      if (c.resetFrame !== null) c.handler.end(DIRS[i], 'rst', c.resetFrame);
    }
    c.handler.close(this.summary(c));
    const tu = c.tuple;
    tu.conn = null;
    tu.closedBy = reason;
    this.open.remove(tu);
    if (reason === 'superseded') return; // the caller starts the next stream on this tuple
    this.retain(tu);
  }

  /** Keep a tuple's numbering state only, in the bounded LRU. */
  private retain(tu: Tuple): void {
    this.retained.push(tu);
    while (this.retained.size > this.retainLimit) {
      const old = this.retained.head as Tuple;
      this.retained.remove(old);
      this.unlink(old);
    }
  }

  /** Take a tuple out of its hash bucket. */
  private unlink(tu: Tuple): void {
    if (tu === this.lastTuple) this.lastTuple = null;
    const first = this.tuples.get(tu.hash);
    if (first === tu) {
      if (tu.chain) this.tuples.set(tu.hash, tu.chain);
      else this.tuples.delete(tu.hash);
    } else {
      for (let x: Tuple | null | undefined = first; x; x = x.chain) {
        if (x.chain === tu) {
          x.chain = tu.chain;
          break;
        }
      }
    }
    tu.chain = null;
  }

  /**
   * The last two addresses looked up and their ids: a packet's two addresses are mostly those of the
   * packet before (the same connection, either way, or the same server), so most lookups skip the map.
   */
  private memoIp0 = '';
  private memoId0 = -1;
  private memoIp1 = '';
  private memoId1 = -1;

  private addressId(ip: string): number {
    if (ip === this.memoIp0) return this.memoId0;
    if (ip === this.memoIp1) return this.memoId1;
    let id = this.addressIds.get(ip);
    if (id === undefined) {
      id = this.addressIds.size;
      this.addressIds.set(ip, id);
    }
    this.memoIp1 = this.memoIp0;
    this.memoId1 = this.memoId0;
    this.memoIp0 = ip;
    this.memoId0 = id;
    return id;
  }

  /**
   * Too many distinct addresses seen: keep ids only for the addresses of the tuples still held (open or
   * retained, both bounded) and re-hash those tuples, so the id table stays bounded too.
   */
  private renumberAddresses(): void {
    const live: Tuple[] = [];
    for (const list of [this.open, this.retained]) for (let n = list.head; n; n = n.next) live.push(n as Tuple);
    this.addressIds = new Map();
    this.lastTuple = null;
    this.memoIp0 = this.memoIp1 = '';
    this.memoId0 = this.memoId1 = -1;
    this.tuples.clear();
    const id = (ip: string) => {
      let v = this.addressIds.get(ip);
      if (v === undefined) this.addressIds.set(ip, (v = this.addressIds.size));
      return v;
    };
    for (const tu of live) {
      tu.hash = tupleHash(id(tu.ipA), tu.portA, id(tu.ipB), tu.portB);
      tu.chain = this.tuples.get(tu.hash) ?? null;
      this.tuples.set(tu.hash, tu);
    }
  }

  private summary(c: Conn): TcpConnectionSummary {
    const i = c.info;
    // an explicit literal (one object shape for all summaries), not a spread of c.info
    return {
      stream: i.stream,
      client: i.client,
      server: i.server,
      firstFrame: i.firstFrame,
      firstTime: i.firstTime,
      sawSyn: i.sawSyn,
      synFrames: c.synFrames,
      synTimes: c.synTimes,
      synAckFrame: c.synAckFrame,
      resets: c.resets,
      fins: c.fins,
      // the stream length each way as far as the capture tells: captured bytes plus gaps
      bytes: { client: c.dirs[0].delivered + c.dirs[0].missing, server: c.dirs[1].delivered + c.dirs[1].missing },
      firstDataFrame: { client: c.firstData[0], server: c.firstData[1] },
      lastFrame: c.lastFrame,
      lastTime: c.lastTime,
      gaps: c.gaps,
    };
  }
}

/** One direction's reassembly results, passed to the connection's handler (a class: no closures per connection). */
class DirSink implements ReassemblySink {
  constructor(private readonly tracker: TcpTracker, private readonly c: Conn, private readonly dir: Direction) {}

  data(chunk: StreamChunk): void {
    this.c.handler.data(this.dir, chunk);
  }

  gap(gap: TcpGap): void {
    this.c.gaps++;
    const st = this.tracker.stats;
    st.gaps++;
    st.gapBytes += gap.bytes;
    this.c.handler.gap(this.dir, gap);
  }

  fin(frame: number): void {
    this.c.handler.end(this.dir, 'fin', frame);
  }
}

/** "client -> server" text of a connection, for messages. */
export function connectionText(c: TcpConnection): string {
  return `${endpointText(c.client.ip, c.client.port)} -> ${endpointText(c.server.ip, c.server.port)}`;
}
