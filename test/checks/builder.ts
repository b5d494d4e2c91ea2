// Test-local builder: turns readable request/response text into ExchangeContext objects (the JSON
// Exchange plus raw Messages), numbering frames and exchanges in order, and runs the checks.

import type { AnalysisOptions, ExchangeContext, Finding, Message, Timestamp, UnauthorizedSummary } from '../../src/types.js';
import { DEFAULT_LIMITS } from '../../src/types.js';
import { createChecks, type Checks } from '../../src/checks/index.js';
import { isoTime } from '../../src/util/time.js';

export interface ExOptions {
  client?: string; // "ip:port"
  server?: string;
  stream?: number | null;
  /** Request time, seconds since the epoch (default: previous + 1). */
  time?: number;
  /** Mark the request incomplete (TCP gap) / add anomalies. */
  incomplete?: boolean;
  anomalies?: string[];
  bodyTruncated?: boolean;
}

/** Splits "LINE\nHeader: v\n\nbody" (\n or \r\n line ends in the head) into parts; the body is kept byte-exact. */
function parseText(text: string | Buffer): { start: string; headers: [string, string][]; body: Buffer } {
  const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  let sep = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lf = buf.indexOf('\n\n');
  if (sep < 0 || (lf >= 0 && lf < sep)) {
    sep = lf;
    sepLen = 2;
  }
  const head = (sep < 0 ? buf : buf.subarray(0, sep)).toString('latin1');
  const body = sep < 0 ? Buffer.alloc(0) : Buffer.from(buf.subarray(sep + sepLen));
  const lines = head.split(/\r?\n/);
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    if (!l) continue;
    const c = l.indexOf(':');
    headers.push([l.slice(0, c), l.slice(c + 1).trim()]);
  }
  return { start: lines[0], headers, body };
}

function ts(sec: number): Timestamp {
  return { sec: Math.floor(sec), nsec: Math.round((sec - Math.floor(sec)) * 1e9), digits: 6 };
}

function split(ep: string): [string, number] {
  const i = ep.lastIndexOf(':');
  return [ep.slice(0, i).replace(/^\[|\]$/g, ''), Number(ep.slice(i + 1))];
}

export class Capture {
  readonly list: ExchangeContext[] = [];
  private frame = 0;
  private time = 1_700_000_000;
  private streams = 0;

  /** Adds one exchange; response text may be null (no answer). */
  add(reqText: string | Buffer, resText: string | Buffer | null, o: ExOptions = {}): ExchangeContext {
    const r = parseText(reqText);
    const [method, uri, version] = r.start.split(' ');
    const protocol: 'http' | 'sip' = version?.startsWith('SIP/') ? 'sip' : 'http';
    const client = o.client ?? '192.0.2.10:50000';
    const server = o.server ?? (protocol === 'sip' ? '198.51.100.7:5060' : '198.51.100.7:80');
    const stream = o.stream !== undefined ? o.stream : protocol === 'sip' ? null : this.streams++;
    this.time = o.time ?? this.time + 1;
    const reqFrame = (this.frame += 1 + (r.body.length > 0 ? 1 : 0));
    const clHeader = r.headers.find(([k]) => k.toLowerCase() === 'content-length' || (protocol === 'sip' && k === 'l'));
    const cl = clHeader && /^\d+$/.test(clHeader[1].trim()) ? Number(clHeader[1]) : undefined;
    const t = ts(this.time);
    const req: Message = {
      protocol,
      kind: 'request',
      firstFrame: reqFrame - (r.body.length > 0 ? 1 : 0),
      frame: reqFrame,
      time: t,
      firstTime: t,
      method,
      uri,
      version: version ?? 'HTTP/1.1',
      headers: r.headers,
      bodyLength: r.body.length,
      body: r.body,
      decodedBody: r.body,
      bodyTruncated: o.bodyTruncated ?? false,
      incomplete: o.incomplete ?? false,
      anomalies: o.anomalies ?? [],
    };
    if (cl !== undefined) req.contentLength = cl;
    let res: Message | null = null;
    if (resText !== null) {
      const p = parseText(resText);
      const m = /^(\S+)\s+(\d+)\s*(.*)$/.exec(p.start)!;
      const resFrame = ++this.frame;
      const rt: Timestamp = { sec: t.sec, nsec: t.nsec + 50_000_000, digits: 6 };
      const rcl = p.headers.find(([k]) => k.toLowerCase() === 'content-length');
      res = {
        protocol,
        kind: 'response',
        firstFrame: resFrame,
        frame: resFrame,
        time: rt,
        firstTime: rt,
        status: Number(m[2]),
        reason: m[3],
        version: m[1],
        headers: p.headers,
        bodyLength: p.body.length,
        body: p.body,
        decodedBody: p.body,
        bodyTruncated: false,
        incomplete: false,
        anomalies: [],
      };
      if (rcl && /^\d+$/.test(rcl[1])) res.contentLength = Number(rcl[1]);
    }
    const [cip, cport] = split(client);
    const [sip, sport] = split(server);
    const ctx: ExchangeContext = {
      exchange: {
        id: `x${this.list.length + 1}`,
        protocol,
        stream,
        client,
        server,
        request: {
          frame: req.frame,
          time: isoTime(t),
          method,
          uri,
          version: req.version,
          headers: r.headers,
          bodyLength: req.bodyLength,
          credentials: null,
        },
        response: res
          ? { frame: res.frame, time: isoTime(res.time), status: res.status!, reason: res.reason!, headers: res.headers, bodyLength: res.bodyLength }
          : null,
      },
      req,
      res,
      clientIp: cip,
      clientPort: cport,
      serverIp: sip,
      serverPort: sport,
      transport: stream === null ? 'udp' : 'tcp',
      time: t,
    };
    this.list.push(ctx);
    return ctx;
  }
}

export interface RunResult {
  findings: Finding[];
  summary: UnauthorizedSummary;
  checks: Checks;
}

export function run(cap: Capture, o: Partial<AnalysisOptions> = {}): RunResult {
  const checks = createChecks({ limits: DEFAULT_LIMITS, ...o });
  const findings: Finding[] = [];
  for (const ctx of cap.list) findings.push(...checks.exchange(ctx));
  findings.push(...checks.finish());
  return { findings, summary: checks.unauthorized(), checks };
}

export function codes(fs: Finding[]): string[] {
  return fs.map((f) => f.code).sort();
}

export function byCode(fs: Finding[], code: string): Finding[] {
  return fs.filter((f) => f.code === code);
}

/** Findings at warning or error. */
export function problems(fs: Finding[]): Finding[] {
  return fs.filter((f) => f.severity !== 'info');
}

export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}
