// The pipeline, wired: capture files -> decoder -> TCP tracker / UDP -> protocol parsers -> exchanges
// -> checks -> Report. Everything streams: packets are handled as they are read, connections are released
// when they close, and exchanges keep no bodies once the per-exchange checks have seen them.

import type {
  AnalysisOptions, CaptureProblem, DecodedPacket, Exchange, ExchangeContext, Finding, InputSummary, Limits,
  Message, Report, Stats, TcpConnection, UnauthorizedSummary,
} from './types.js';
import { DEFAULT_LIMITS, endpointText } from './types.js';
import { InputError, readInput } from './capture/open.js';
import { Decoder } from './decode/decoder.js';
import { TcpTracker } from './flows/tcp-tracker.js';
import { parseSipDatagram } from './protocols/sip.js';
import { detectStart } from './protocols/detect.js';
import { KeyLog } from './protocols/tls/keylog.js';
import { ExchangeBuilder, type UnpairedResponse } from './exchanges/builder.js';
import { ConnectionHandler, SummaryOnlyHandler, type ClosedConnection, type ConnectionSink } from './exchanges/connection.js';
import { createChecks } from './checks/index.js';
import { createNetworkChecks } from './checks/network.js';
import { createTlsChecks } from './checks/tls.js';
import { VERSION } from './version.js';
import { isAcceptedStatus } from './util/status.js';

export interface Filters {
  /** Keep what involves one of these IP addresses. */
  hosts?: string[];
  /** Keep what involves one of these ports (either side). */
  ports?: number[];
  /** Keep exchanges whose request is at or after / before this time. */
  since?: Date;
  until?: Date;
  /** Keep one tcp.stream. */
  stream?: number;
}

export interface AnalyzeOptions extends Partial<AnalysisOptions> {
  /** Key log text (SSLKEYLOGFILE); pcapng Decryption Secrets Blocks are added to it. */
  keylog?: string;
  filters?: Filters;
  onProgress?(p: { bytes: number; packets: number; file: string }): void;
  /** Collect the messages (with bodies up to the body limit) of this tcp.stream, for `authcap follow`. */
  follow?: number;
  /**
   * Streaming output: every kept exchange is handed here once, in request-frame order, and the report's
   * `exchanges` then hold compact copies without headers (enough for the gate and the summaries).
   */
  onExchange?(x: Exchange): void;
}

/** Exchanges kept whole in the report before accepted ones are kept without their headers. */
const FULL_EXCHANGES = 5000;
/** How far out of request-frame order exchanges may complete and still be written in order. */
const REORDER_WINDOW = 16384;

/** An exchange without its headers: what the gate, the summaries and the timeline need. */
function skeleton(x: Exchange): Exchange {
  return { ...x, request: { ...x.request, headers: [] }, response: x.response ? { ...x.response, headers: [] } : null };
}

function accepted(x: Exchange): boolean {
  return isAcceptedStatus(x.response?.status);
}

const exchangeOrder = (a: Exchange, b: Exchange) => a.request.frame - b.request.frame || Number(a.id.slice(1)) - Number(b.id.slice(1));

/** A binary min-heap of exchanges by request frame. */
class ExchangeHeap {
  private a: Exchange[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: Exchange): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (exchangeOrder(a[p], a[i]) <= 0) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Exchange | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && exchangeOrder(a[l], a[m]) < 0) m = l;
        if (r < a.length && exchangeOrder(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

export interface FollowedMessage {
  dir: 'client' | 'server';
  message: Message;
}

export interface AnalysisResult {
  report: Report;
  followed: FollowedMessage[];
  followEndpoints: { client: string; server: string } | null;
}

const SIP_PORTS = new Set([5060, 5061, 5080]);

function problemFinding(p: CaptureProblem, files: string[]): Finding {
  return {
    code: p.code,
    severity: 'warning',
    message: `${files[p.input] ?? 'input'}: ${p.message}`,
    exchange: null,
    stream: null,
    frames: p.frame ? [p.frame] : [],
    filter: p.frame ? `frame.number == ${p.frame}` : '',
    evidence: { file: files[p.input], ...(p.offset !== undefined ? { offset: p.offset } : {}), ...(p.evidence ?? {}) },
  };
}

function timeOf(iso: string): number {
  return Date.parse(iso);
}

export async function analyze(files: string[], o: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
  const options: AnalysisOptions = { limits, password: o.password, user: o.user, key: o.key };
  const filters = o.filters ?? {};
  const findings: Finding[] = [];
  const exchanges: Exchange[] = [];
  const unpaired: UnpairedResponse[] = [];
  const inputs: InputSummary[] = [];
  const keylog = KeyLog.parse(o.keylog ?? '');

  const checks = createChecks(options);
  const network = createNetworkChecks();
  const tlsChecks = createTlsChecks();

  // ---------------------------------------------------------------- filters
  const hostSet = filters.hosts?.length ? new Set(filters.hosts) : null;
  const portSet = filters.ports?.length ? new Set(filters.ports) : null;
  const connectionWanted = (a: { ip: string; port: number }, b: { ip: string; port: number }, stream: number | null) =>
    (!hostSet || hostSet.has(a.ip) || hostSet.has(b.ip)) &&
    (!portSet || portSet.has(a.port) || portSet.has(b.port)) &&
    (filters.stream === undefined || stream === filters.stream);
  const timeWanted = (iso: string) =>
    (!filters.since || timeOf(iso) >= filters.since.getTime()) && (!filters.until || timeOf(iso) < filters.until.getTime());
  const filtering = !!(hostSet || portSet || filters.stream !== undefined || filters.since || filters.until);
  /** Ids of the exchanges the filters keep (only needed when filtering). */
  const keptExchanges = new Set<string>();
  /** Exchanges with per-exchange findings, until they are delivered. */
  const withFindings = new Set<string>();

  const addFindings = (fs: Finding[], kept: boolean) => {
    if (kept) for (const f of fs) findings.push(f);
  };

  // ---------------------------------------------------------------- limits: reported, never silent
  const limitHits = new Map<string, number>();
  const limitDetail = new Map<string, Record<string, unknown>>();
  const hitLimit = (what: string, detail: Record<string, unknown>) => {
    limitHits.set(what, (limitHits.get(what) ?? 0) + 1);
    if (!limitDetail.has(what)) limitDetail.set(what, detail);
  };

  // ---------------------------------------------------------------- exchanges
  const reorder = new ExchangeHeap();
  let delivered = 0;
  const deliver = (x: Exchange) => {
    delivered++;
    if (o.onExchange) {
      o.onExchange(x);
      // What the gate needs later: refused/unanswered exchanges and those with findings (findings made at
      // the end are about refused ones). Accepted exchanges leave nothing behind, so memory stays flat.
      if (!accepted(x) || withFindings.has(x.id)) exchanges.push(skeleton(x));
      withFindings.delete(x.id);
      return;
    }
    if (delivered === FULL_EXCHANGES + 1) {
      for (let i = 0; i < exchanges.length; i++) if (accepted(exchanges[i])) exchanges[i] = skeleton(exchanges[i]);
    }
    exchanges.push(delivered > FULL_EXCHANGES && accepted(x) ? skeleton(x) : x);
  };
  const followed: FollowedMessage[] = [];
  let followEndpoints: AnalysisResult['followEndpoints'] = null;

  const builder = new ExchangeBuilder({
    onExchange(ctx: ExchangeContext) {
      const ex = ctx.exchange;
      const fs = checks.exchange(ctx);
      for (const m of ctx.res ? [ctx.req, ctx.res] : [ctx.req]) {
        if (m.body.length < m.bodyLength && !m.incomplete) hitLimit('body', { frame: m.frame, bodyLength: m.bodyLength, kept: m.body.length });
        if (m.anomalies.includes('decompressed-truncated')) hitLimit('decompressed', { frame: m.frame });
      }
      const kept =
        connectionWanted({ ip: ctx.clientIp, port: ctx.clientPort }, { ip: ctx.serverIp, port: ctx.serverPort }, ex.stream) &&
        timeWanted(ex.request.time);
      if (kept) {
        if (filtering) keptExchanges.add(ex.id);
        for (const f of fs) if (f.exchange) withFindings.add(f.exchange);
        reorder.push(ex);
        if (reorder.size > REORDER_WINDOW) deliver(reorder.pop()!);
      }
      addFindings(fs, kept);
      if (o.follow !== undefined && ex.stream === o.follow && ctx.transport === 'tcp') {
        followEndpoints ??= { client: ex.client, server: ex.server };
        followed.push({ dir: 'client', message: ctx.req });
        if (ctx.res) followed.push({ dir: 'server', message: ctx.res });
      }
    },
    onUnpaired(r) {
      if (unpaired.length < 10_000) unpaired.push(r);
    },
  });

  const malformedByStream = new Map<string, Finding>();
  const sink: ConnectionSink = {
    malformed(stream, info) {
      const key = `${stream}|${info.dir}`;
      const f = malformedByStream.get(key);
      if (f) {
        (f.evidence as { count: number }).count++;
        return;
      }
      const nf: Finding = {
        code: 'http.malformed',
        severity: 'warning',
        message: `tcp.stream ${stream}: ${info.dir === 'client' ? 'client' : 'server'} data at frame ${info.frame} cannot be parsed as ${info.protocol.toUpperCase()}: ${info.reason}`,
        exchange: null,
        stream,
        frames: [info.frame],
        filter: `tcp.stream eq ${stream} && frame.number == ${info.frame}`,
        evidence: { protocol: info.protocol, direction: info.dir, reason: info.reason, streamOffset: info.streamOffset, count: 1 },
      };
      malformedByStream.set(key, nf);
    },
    closed(c: ClosedConnection) {
      const s = c.summary;
      const kept = connectionWanted(s.client, s.server, s.stream);
      for (const dir of ['client', 'server']) {
        const f = malformedByStream.get(`${s.stream}|${dir}`);
        if (f) {
          malformedByStream.delete(`${s.stream}|${dir}`);
          addFindings([f], kept);
        }
      }
      if (c.gaps.length) addFindings([gapFinding(c)], kept);
      const tlsHelloOnly = !!c.tls && c.tls.events.some((e) => e.type === 'client-hello') && !c.tls.events.some((e) => e.type === 'server-hello');
      const inFlight = builder.pending(s.stream)[0];
      // A reset after a FIN with nothing outstanding is an ordinary abortive close, not a problem.
      const net = network
        .connection!(s)
        .filter((f) => !(f.code === 'tcp.reset' && (tlsHelloOnly || (f.evidence.afterFin === true && !inFlight))));
      for (const f of net) {
        if (f.code !== 'tcp.reset') continue;
        if (inFlight) {
          f.exchange = inFlight.id;
          f.evidence.inFlight = { exchange: inFlight.id, method: inFlight.req.method, uri: inFlight.req.uri, frame: inFlight.req.frame };
          f.frames = [...new Set([inFlight.req.frame, ...f.frames])].sort((a, b) => a - b);
          f.message += ` while ${inFlight.req.method} ${inFlight.req.uri} (frame ${inFlight.req.frame}) was waiting for its answer`;
        }
      }
      addFindings(net, kept);
      if (c.tls) addFindings(tlsChecks.connection(s, c.tls), kept);
    },
  };

  const tracker = new TcpTracker({
    limits,
    factory: (conn: TcpConnection) =>
      // Every connection is parsed (the 401 correlation compares with other clients' requests, and ids stay
      // the same whatever is filtered); only `follow` looks at one stream and may skip the others.
      o.follow === undefined || o.follow === conn.stream
        ? new ConnectionHandler(conn, builder, sink, {
            limits,
            // Keys given on the command line or met in a pcapng Decryption Secrets Block so far.
            keylog: o.keylog !== undefined || keylog.size > 0 ? keylog : undefined,
          })
        : new SummaryOnlyHandler(sink),
    onLimit: (what, detail) => hitLimit(what, detail),
  });

  // ---------------------------------------------------------------- UDP (SIP)
  /** Unparseable SIP datagrams, one finding per path (src -> dst) with a count. */
  const udpMalformed = new Map<string, Finding>();
  const udp = (d: DecodedPacket) => {
    const p = d.payload;
    if (p.length < 12) return;
    const sipPort = SIP_PORTS.has(d.srcPort) || SIP_PORTS.has(d.dstPort);
    let kind: ReturnType<typeof detectStart> | undefined;
    const looksSip = () => {
      kind ??= detectStart(p.subarray(0, 64));
      return kind === 'sip-request' || kind === 'sip-response';
    };
    if (!sipPort && !looksSip()) return;
    const parsed = parseSipDatagram(p, d.frame, d.time, limits);
    if (!parsed) {
      // It starts like SIP but could not be parsed (e.g. a header block over --max-header): say so once per path.
      if (looksSip()) {
        const key = `${d.src}|${d.srcPort}|${d.dst}|${d.dstPort}`;
        const f = udpMalformed.get(key);
        if (f) (f.evidence as { count: number }).count++;
        else {
          const nf: Finding = {
            code: 'http.malformed',
            severity: 'warning',
            message: `SIP datagram from ${endpointText(d.src, d.srcPort)} at frame ${d.frame} cannot be parsed: malformed, or its header block is larger than the --max-header limit (${limits.headerBytes} bytes)`,
            exchange: null,
            stream: null,
            frames: [d.frame],
            filter: `frame.number == ${d.frame}`,
            evidence: { protocol: 'sip', transport: 'udp', client: endpointText(d.src, d.srcPort), server: endpointText(d.dst, d.dstPort), bytes: p.length, count: 1 },
          };
          udpMalformed.set(key, nf);
        }
      }
      return;
    }
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
      const req = m.kind === 'request';
      builder.sipMessage(
        {
          transport: 'udp',
          stream: null,
          clientIp: req ? d.src : d.dst,
          clientPort: req ? d.srcPort : d.dstPort,
          serverIp: req ? d.dst : d.src,
          serverPort: req ? d.dstPort : d.srcPort,
        },
        m,
      );
    }
  };

  // ---------------------------------------------------------------- read
  let packets = 0;
  const problems: CaptureProblem[] = [];
  const decoder = new Decoder({ limits, onProblem: (p) => problems.push(p) });
  let frame = 1;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const unknownBefore = decoder.unknownLinkPackets;
    const r = await readInput(file, {
      input: i,
      firstFrame: frame,
      onPacket(raw) {
        packets++;
        const d = decoder.decode(raw);
        if (!d) return;
        if (d.transport === 'tcp') tracker.packet(d);
        else udp(d);
      },
      onProblem: (p) => problems.push(p),
      onSecrets(type, data) {
        keylog.addDecryptionSecrets(type, data);
      },
      onProgress: o.onProgress ? (bytes) => o.onProgress!({ bytes, packets, file }) : undefined,
    });
    inputs.push(r.summary);
    frame = r.nextFrame;
    // Nothing in this file can be decoded at all: that is an unreadable input, not a damaged one.
    if (r.summary.packets > 0 && decoder.unknownLinkPackets - unknownBefore === r.summary.packets) {
      throw new InputError(`authcap: cannot read '${file}': link type ${r.summary.linkTypes.join(', ')} is not supported (authcap decodes Ethernet, 802.1Q, Linux SLL/SLL2, raw IP, loopback, ARCNET, GRE/ERSPAN)`);
    }
  }
  tracker.finish();
  builder.finish();
  while (reorder.size) deliver(reorder.pop()!);
  addFindings(network.finish!(), true);
  addFindings([...udpMalformed.values()], true);
  addFindings(checks.finish().filter((f) => !filtering || !f.exchange || keptExchanges.has(f.exchange)), true);
  addFindings(tlsChecks.finish(), true);

  if (decoder.stats.fragmentsDropped > 0) hitLimit('fragments', { dropped: decoder.stats.fragmentsDropped });
  for (const [what, n] of limitHits) {
    findings.push({
      code: 'limit.reached',
      severity: 'warning',
      message: `The ${what} limit was reached ${n} time(s); some data was not analysed (raise it with --max-${what}).`,
      exchange: null,
      stream: null,
      frames: [],
      filter: '',
      // The detail first: some carry their own `limit` (the configured number), which must not hide the name.
      evidence: { ...(limitDetail.get(what) ?? {}), limit: what, count: n },
    });
  }

  const capFindings = problems.map((p) => problemFinding(p, files));
  findings.sort((a, b) => (a.frames[0] ?? 0) - (b.frames[0] ?? 0));
  exchanges.sort(exchangeOrder);

  const bs = builder.stats;
  const ts = tracker.stats;
  const stats: Stats = {
    packets,
    tcpStreams: tracker.streams,
    httpRequests: bs.httpRequests,
    httpResponses: bs.httpResponses,
    sipRequests: bs.sipRequests,
    sipResponses: bs.sipResponses,
    decodedPackets: decoder.stats.decoded,
    tcpSegments: ts.segments,
    tcpRetransmissions: ts.retransmissions,
    tcpOutOfOrder: ts.outOfOrder,
    tcpGaps: ts.gaps,
    tcpGapBytes: ts.gapBytes,
    exchanges: delivered,
    unansweredRequests: bs.unanswered,
    unpairedResponses: bs.unpaired,
    sipRetransmissions: bs.sipRetransmissions,
    ipFragmentsReassembled: decoder.stats.fragmentsReassembled,
  };

  const unauthorized: UnauthorizedSummary = checks.unauthorized();
  const report: Report = {
    tool: { name: 'authcap', version: VERSION },
    inputs,
    stats,
    exchanges,
    findings: [...capFindings, ...findings],
    unauthorized,
    unpairedResponses: unpaired.filter((u) => filters.stream === undefined || u.stream === filters.stream),
  };
  return { report, followed, followEndpoints };
}

function gapFinding(c: ClosedConnection): Finding {
  const s = c.summary;
  const total = c.gaps.reduce((n, g) => n + g.gap.bytes, 0);
  const first = c.gaps[0];
  const frames = [...new Set(c.gaps.flatMap((g) => [g.gap.frameBefore, g.gap.frameAfter]).filter((f): f is number => f !== null))]
    .sort((a, b) => a - b)
    .slice(0, 20);
  const from = (dir: string) => (dir === 'client' ? endpointText(s.client.ip, s.client.port) : endpointText(s.server.ip, s.server.port));
  return {
    code: 'tcp.gap',
    severity: 'warning',
    message:
      `tcp.stream ${s.stream}: ${total} byte(s) sent by ${from(first.dir)} were never captured` +
      (c.gaps.length > 1 ? ` (${c.gaps.length} holes)` : '') +
      `${first.gap.frameBefore !== null ? ` after frame ${first.gap.frameBefore}` : ''}; messages across the gap are incomplete.`,
    exchange: null,
    stream: s.stream,
    frames,
    filter: `tcp.stream eq ${s.stream}`,
    evidence: {
      client: endpointText(s.client.ip, s.client.port),
      server: endpointText(s.server.ip, s.server.port),
      bytes: total,
      gaps: c.gaps.slice(0, 10).map((g) => ({ direction: g.dir, ...g.gap })),
    },
  };
}

