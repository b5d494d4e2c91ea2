// The pipeline, wired: capture files -> decoder -> TCP tracker / UDP -> protocol parsers -> exchanges
// -> checks -> Report. Everything streams: packets are handled as they are read, connections are released
// when they close, and exchanges keep no bodies once the per-exchange checks have seen them.

import type {
  AnalysisOptions, CaptureProblem, DecodedPacket, Exchange, ExchangeContext, Finding, InputSummary, Limits,
  Message, Report, ReportHead, Stats, TcpConnection, UnauthorizedSummary,
} from './types.js';
import { DEFAULT_LIMITS, endpointText } from './types.js';
import { InputError, plainInputBytes, readInput } from './capture/open.js';
import { Decoder } from './decode/decoder.js';
import { TcpTracker } from './flows/tcp-tracker.js';
import { parseSipDatagram } from './protocols/sip.js';
import { detectStart } from './protocols/detect.js';
import { KeyLog } from './protocols/tls/keylog.js';
import { ExchangeBuilder, type UnpairedResponse } from './exchanges/builder.js';
import { ConnectionHandler, SummaryOnlyHandler, type ClosedConnection, type ConnectionSink } from './exchanges/connection.js';
import type { BackendItem, BackendResult, ExchangeOutput, SeqFinding } from './backend/backend.js';
import { BatchSender, RemoteBackend, workerHeapLimitMb } from './backend/remote.js';
import type { JsonHandoff } from './report/json-stream.js';
import type { MessagePort } from 'node:worker_threads';
import { createNetworkChecks } from './checks/network.js';
import { createTlsChecks } from './checks/tls.js';
import { VERSION } from './version.js';
import { isoTime } from './util/time.js';

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
  /** Streaming output in two steps, like onExchange (see BackendOptions.output): preferred over it. */
  output?: ExchangeOutput;
  /**
   * Run the checks and write the JSON report's exchanges on a worker thread (src/backend) while this
   * thread reads and parses: the result then carries `json`, the text written so far (JsonReportWriter.resume).
   * onExchange is not called.
   */
  offload?: {
    redact: boolean;
    keepExchanges?: boolean;
    /**
     * The report's head (tool, inputs, stats) and the exchanges' text, as soon as the worker has written
     * the last exchange: the report can be started while the cross-exchange checks run. The result's
     * `json` then carries the same text (with the findings' files), already taken.
     */
    onExchanges?(json: JsonHandoff, head: ReportHead): void;
    /**
     * The back-end worker is another thread's: batches go through this port (a RemoteBackend's `connect()`),
     * and the reading side stops when the input is read (analyzeReading).
     */
    port?: MessagePort;
  };
}

/**
 * Exchanges are written in request-frame order: one is held until no request still waiting for its
 * answer is older, and at least this many frames have been read after it (a request completed late,
 * e.g. across a hole, keeps its earlier frame).
 */
const REORDER_LAG = 16384;

export interface FollowedMessage {
  dir: 'client' | 'server';
  message: Message;
}

export interface AnalysisResult {
  report: Report;
  followed: FollowedMessage[];
  followEndpoints: { client: string; server: string } | null;
  /** With `offload`: the JSON text of the exchanges, written by the worker. */
  json?: JsonHandoff;
}

/** The report's order of exchanges: by request frame, then by id ("x<n>") for requests in the same frame. */
const exchangeOrder = (a: Exchange, b: Exchange) => a.request.frame - b.request.frame || Number(a.id.slice(1)) - Number(b.id.slice(1));

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
  if (o.offload?.port) throw new Error('internal: analyze() with a port: use analyzeReading()');
  return (await pipeline(files, o)) as AnalysisResult;
}

/**
 * The reading side alone, for a thread of its own: batches go to the back-end worker through `offload.port`
 * (see backend/front.ts), and what the report needs from this side is returned once the input is read.
 */
export async function analyzeReading(files: string[], o: AnalyzeOptions & { offload: { port: MessagePort } }): Promise<FrontResult> {
  return ((await pipeline(files, o)) as { front: FrontResult }).front;
}

/** The checks' options, from analyze()'s. */
export function analysisOptions(o: AnalyzeOptions): AnalysisOptions {
  const limits: Limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
  return { limits, password: o.password, user: o.user, key: o.key };
}

/** Some filter is on (the report keeps only some exchanges and findings). */
export function isFiltering(filters: Filters): boolean {
  return !!(filters.hosts?.length || filters.ports?.length || filters.stream !== undefined || filters.since || filters.until);
}

async function pipeline(files: string[], o: AnalyzeOptions): Promise<AnalysisResult | { front: FrontResult }> {
  const options = analysisOptions(o);
  const limits = options.limits;
  const filters = o.filters ?? {};
  /** Findings made here, each with the place of the event that made it (the back end's are merged in). */
  const findings: SeqFinding[] = [];
  let seq = 0;
  const unpaired: UnpairedResponse[] = [];
  const inputs: InputSummary[] = [];
  const keylog = KeyLog.parse(o.keylog ?? '');

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
  const timeFiltered = !!(filters.since || filters.until);
  const filtering = isFiltering(filters);

  const addFindings = (fs: Finding[], kept: boolean) => {
    const at = seq++;
    if (kept) for (const f of fs) findings.push({ seq: at, finding: f });
  };

  // ---------------------------------------------------------------- limits: reported, never silent
  const limitHits = new Map<string, number>();
  const limitDetail = new Map<string, Record<string, unknown>>();
  const hitLimit = (what: string, detail: Record<string, unknown>) => {
    limitHits.set(what, (limitHits.get(what) ?? 0) + 1);
    if (!limitDetail.has(what)) limitDetail.set(what, detail);
  };

  // ---------------------------------------------------------------- exchanges: checks and output
  // Two threads: the back-end worker is this thread's (RemoteBackend), or another thread's, reached
  // through offload.port (BatchSender; see backend/front.ts). Either way exchanges go out in batches.
  const port = o.offload?.port;
  const remote = o.offload && !port
    ? new RemoteBackend({ options, filtering, redact: o.offload.redact, keepExchanges: o.offload.keepExchanges ?? true }, { heapLimitMb: workerHeapLimitMb(plainInputBytes(files)) })
    : null;
  const sender: { exchange(item: BackendItem): void; pace(): Promise<void> | undefined } | null = port ? new BatchSender(port) : remote;
  const onExchange = o.onExchange;
  const output = o.output ?? (onExchange ? { prepare: (x: Exchange) => x, write: (x: unknown) => onExchange(x as Exchange) } : undefined);
  // The checks are loaded only where they run (with two threads, on the worker: not here).
  const local = sender ? null : new (await import('./backend/backend.js')).ExchangeBackend(options, { filtering, output });
  /** The frame being read (exchanges below it minus REORDER_LAG can be written). */
  let frameNow = 0;
  const followed: FollowedMessage[] = [];
  let followEndpoints: AnalysisResult['followEndpoints'] = null;

  const builder = new ExchangeBuilder({
    onExchange(ctx: ExchangeContext) {
      const ex = ctx.exchange;
      for (const m of ctx.res ? [ctx.req, ctx.res] : [ctx.req]) {
        if (m.body.length < m.bodyLength && !m.incomplete) hitLimit('body', { frame: m.frame, bodyLength: m.bodyLength, kept: m.body.length });
        if (m.anomalies.includes('decompressed-truncated')) hitLimit('decompressed', { frame: m.frame });
      }
      const kept =
        connectionWanted({ ip: ctx.clientIp, port: ctx.clientPort }, { ip: ctx.serverIp, port: ctx.serverPort }, ex.stream) &&
        (timeFiltered ? timeWanted(isoTime(ctx.req.time)) : true);
      const watermark = Math.min(builder.minPendingFrame(), frameNow - REORDER_LAG);
      const item = { ctx, kept, seq: seq++, watermark };
      if (sender) sender.exchange(item);
      else local!.exchange(item);
      if (o.follow !== undefined && ex.stream === o.follow && ctx.transport === 'tcp') {
        followEndpoints ??= { client: ex.client, server: ex.server };
        followed.push({ dir: 'client', message: ctx.req });
        if (ctx.res) followed.push({ dir: 'server', message: ctx.res });
      }
    },
    onUnpaired(r) {
      if (unpaired.length < 10_000) unpaired.push(r);
    },
  }, { noJson: sender !== null });

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
            // With the second thread, heads travel as text and the worker makes their header fields.
            lazyHeaders: sender !== null,
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
  try {
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      const unknownBefore = decoder.unknownLinkPackets;
      const r = await readInput(file, {
        input: i,
        firstFrame: frame,
        onPacket(raw) {
          packets++;
          frameNow = raw.frame;
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
        pace: sender ? () => sender.pace() : undefined,
      });
      inputs.push(r.summary);
      frame = r.nextFrame;
      // Nothing in this file can be decoded at all: that is an unreadable input, not a damaged one.
      if (r.summary.packets > 0 && decoder.unknownLinkPackets - unknownBefore === r.summary.packets) {
        throw new InputError(`authcap: cannot read '${file}': link type ${r.summary.linkTypes.join(', ')} is not supported (authcap decodes Ethernet, 802.1Q, Linux SLL/SLL2, raw IP, loopback, ARCNET, GRE/ERSPAN)`);
      }
    }
  } catch (e) {
    remote?.dispose();
    throw e;
  }
  tracker.finish();
  builder.finish();
  addFindings(network.finish!(), true);
  addFindings([...udpMalformed.values()], true);
  const checksSeq = seq++;
  addFindings(tlsChecks.finish(), true);
  if (decoder.stats.fragmentsDropped > 0) hitLimit('fragments', { dropped: decoder.stats.fragmentsDropped });

  const bs = builder.stats;
  const ts = tracker.stats;
  // What the report needs from this side once the input is read (plain data: it may go to another thread).
  const front: FrontResult = {
    inputs,
    counts: {
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
      unansweredRequests: bs.unanswered,
      unpairedResponses: bs.unpaired,
      sipRetransmissions: bs.sipRetransmissions,
      ipFragmentsReassembled: decoder.stats.fragmentsReassembled,
    },
    findings,
    seq,
    limits: [...limitHits].map(([what, n]) => ({ what, n, detail: limitDetail.get(what) ?? {} })),
    problems,
    files,
    unpaired: unpaired.filter((u) => filters.stream === undefined || u.stream === filters.stream),
  };
  if (port) {
    // Another thread owns the worker: it gets the result and assembles the report (assembleReport).
    (sender as BatchSender).finish(checksSeq);
    return { front };
  }
  let back: BackendResult;
  let json: JsonHandoff | undefined;
  const onExchanges = o.offload?.onExchanges;
  if (remote) ({ result: back, json } = await remote.finish(checksSeq, onExchanges && ((j, delivered) => onExchanges(j, reportHead(front, delivered)))));
  else back = local!.finish(checksSeq);
  return { report: assembleReport(front, back), followed, followEndpoints, json };
}

/** What the reading side hands over for the report once the input is read (structured-clone safe). */
export interface FrontResult {
  inputs: InputSummary[];
  /** The stats, but for the exchanges handed on (the back end's count), in the report's key order around it. */
  counts: Omit<Stats, 'exchanges'> & Record<string, number>;
  /** Findings made on the reading side, each with the place of the event that made it. */
  findings: SeqFinding[];
  /** The next event place (the limit findings take it). */
  seq: number;
  limits: { what: string; n: number; detail: Record<string, unknown> }[];
  problems: CaptureProblem[];
  files: string[];
  unpaired: UnpairedResponse[];
}

/** The report's first sections once the input is read and `delivered` exchanges were handed on. */
export function reportHead(front: FrontResult, delivered: number): ReportHead {
  const c = front.counts;
  const stats: Stats = {
    packets: c.packets,
    tcpStreams: c.tcpStreams,
    httpRequests: c.httpRequests,
    httpResponses: c.httpResponses,
    sipRequests: c.sipRequests,
    sipResponses: c.sipResponses,
    decodedPackets: c.decodedPackets,
    tcpSegments: c.tcpSegments,
    tcpRetransmissions: c.tcpRetransmissions,
    tcpOutOfOrder: c.tcpOutOfOrder,
    tcpGaps: c.tcpGaps,
    tcpGapBytes: c.tcpGapBytes,
    exchanges: delivered,
    unansweredRequests: c.unansweredRequests,
    unpairedResponses: c.unpairedResponses,
    sipRetransmissions: c.sipRetransmissions,
    ipFragmentsReassembled: c.ipFragmentsReassembled,
  };
  return { tool: { name: 'authcap', version: VERSION }, inputs: front.inputs, stats };
}

/** The report from the reading side's part and the back end's result. */
export function assembleReport(front: FrontResult, back: BackendResult): Report {
  const findings = front.findings.slice();
  const limitSeq = front.seq;
  for (const { what, n, detail } of front.limits) {
    findings.push({ seq: limitSeq, finding: {
      code: 'limit.reached',
      severity: 'warning',
      message: `The ${what} limit was reached ${n} time(s); some data was not analysed (raise it with --max-${what}).`,
      exchange: null,
      stream: null,
      frames: [],
      filter: '',
      // The detail first: some carry their own `limit` (the configured number), which must not hide the name.
      evidence: { ...detail, limit: what, count: n },
    } });
  }

  const capFindings = front.problems.map((p) => problemFinding(p, front.files));
  // In frame order; ties in the order of the events that made them (the sort is stable).
  const all = findings.concat(back.findings);
  all.sort((a, b) => (a.finding.frames[0] ?? 0) - (b.finding.frames[0] ?? 0) || a.seq - b.seq || (a.order ?? 0) - (b.order ?? 0));
  const exchanges = back.exchanges.sort(exchangeOrder);

  const unauthorized: UnauthorizedSummary = back.unauthorized;
  return {
    ...reportHead(front, back.delivered),
    exchanges,
    findings: [...capFindings, ...all.map((x) => x.finding)],
    unauthorized,
    unpairedResponses: front.unpaired,
  };
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

