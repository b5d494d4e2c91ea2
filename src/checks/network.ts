// Network-level findings from TCP connection summaries alone: connections refused (SYN answered by
// RST), SYNs never answered, and connections with data that were reset. No packet or payload is read.
//
// A lone unanswered SYN is only reported when the capture went on for `lateSynSeconds` (default 3)
// after it, which the family learns from later summaries: those findings come out of finish(), to be
// called after the TCP tracker's finish(). Two or more SYNs are reported at once.
//
// tcp.reset is not emitted for a connection `isTlsHelloOnly(stream)` says ended right after a TLS
// ClientHello (tls.reset-after-hello reports that); without the callback the caller filters.

import { endpointText, type CheckFamily, type Finding, type TcpConnectionSummary, type Timestamp } from '../types.js';
import { compareTime, diffSeconds, isoTime } from '../util/time.js';

export interface NetworkCheckOptions {
  /** True when the connection carried only a ClientHello before its end (no ServerHello). */
  isTlsHelloOnly?(stream: number): boolean;
  /** How long the capture must continue after a single unanswered SYN for it to count (seconds). */
  lateSynSeconds?: number;
}

/** Single unanswered SYNs waiting for finish(), at most this many (beyond it they are reported at once). */
const MAX_PENDING = 10_000;

function secondsText(s: number): string {
  return s < 10 ? s.toFixed(1) : String(Math.round(s));
}

export function createNetworkChecks(o: NetworkCheckOptions = {}): CheckFamily {
  const late = o.lateSynSeconds ?? 3;
  let lastTime: Timestamp | null = null;
  const pending: TcpConnectionSummary[] = [];

  const ends = (s: TcpConnectionSummary) => ({
    client: endpointText(s.client.ip, s.client.port),
    server: endpointText(s.server.ip, s.server.port),
  });

  function noAnswer(s: TcpConnectionSummary): Finding {
    const { client, server } = ends(s);
    const attempts = s.synFrames.length;
    const seconds = attempts ? diffSeconds(s.synTimes[attempts - 1], s.synTimes[0]) : 0;
    const tried =
      attempts > 1
        ? `the client sent ${attempts} SYNs over ${secondsText(seconds)} s`
        : `the client sent a SYN (frame ${s.synFrames[0]})`;
    return {
      code: 'tcp.no-answer',
      severity: 'error',
      message: `No answer from ${server}: ${tried} and got no SYN-ACK or RST back; a firewall is dropping the packets or the address is wrong`,
      exchange: null,
      stream: s.stream,
      frames: [...s.synFrames],
      filter: `tcp.stream eq ${s.stream}`,
      evidence: {
        client, server, attempts, seconds: Math.round(seconds * 1e6) / 1e6,
        firstSyn: isoTime(s.synTimes[0]), lastSyn: isoTime(s.synTimes[attempts - 1]),
      },
    };
  }

  function refused(s: TcpConnectionSummary): Finding {
    const { client, server } = ends(s);
    const rsts = s.resets.filter((r) => r.from === 'server');
    const attempts = s.synFrames.length;
    const seconds = diffSeconds(s.synTimes[attempts - 1], s.synTimes[0]);
    const retries = attempts > 1 ? ` (${attempts} attempts over ${secondsText(seconds)} s)` : '';
    return {
      code: 'tcp.refused',
      severity: 'error',
      message: `Connection to ${server} refused: the server answered the SYN with RST (port closed, errno 111)${retries}`,
      exchange: null,
      stream: s.stream,
      frames: [...new Set([...s.synFrames, ...rsts.map((r) => r.frame)])].sort((a, b) => a - b),
      filter: `tcp.stream eq ${s.stream}`,
      evidence: { client, server, attempts, synFrame: s.synFrames[0], rstFrame: rsts[0].frame },
    };
  }

  function reset(s: TcpConnectionSummary): Finding | null {
    const dataFrames = [s.firstDataFrame.client, s.firstDataFrame.server].filter((f): f is number => f !== null);
    if (!dataFrames.length) return null;
    const firstData = Math.min(...dataFrames);
    const r = s.resets.find((x) => x.frame > firstData);
    if (!r) return null;
    if (o.isTlsHelloOnly?.(s.stream)) return null;
    const { client, server } = ends(s);
    const fin = s.fins.find((f) => f.frame < r.frame);
    return {
      code: 'tcp.reset',
      severity: 'warning',
      message:
        `Connection ${client} -> ${server} was reset by the ${r.from} (RST in frame ${r.frame})` +
        (fin ? ` after the ${fin.from} had closed its side (FIN in frame ${fin.frame})` : '') +
        `; ${s.bytes.client} bytes were sent by the client and ${s.bytes.server} by the server`,
      exchange: null,
      stream: s.stream,
      frames: [r.frame],
      filter: `tcp.stream eq ${s.stream}`,
      evidence: {
        client, server, from: r.from, frame: r.frame, time: isoTime(r.time),
        afterFin: !!fin, ...(fin ? { finFrom: fin.from, finFrame: fin.frame } : {}),
        bytes: { client: s.bytes.client, server: s.bytes.server },
      },
    };
  }

  return {
    name: 'network',
    connection(s: TcpConnectionSummary): Finding[] {
      if (!lastTime || compareTime(s.lastTime, lastTime) > 0) lastTime = s.lastTime;
      const out: Finding[] = [];
      const unanswered = s.synFrames.length > 0 && s.synAckFrame === null && s.firstDataFrame.server === null && s.firstDataFrame.client === null;
      if (unanswered && s.resets.some((r) => r.from === 'server')) {
        out.push(refused(s));
      } else if (unanswered && s.resets.length === 0 && s.lastFrame === s.synFrames[s.synFrames.length - 1]) {
        // nothing but SYNs: anything after them (an ACK, data) means the SYN-ACK was just not captured
        if (s.synFrames.length > 1 || pending.length >= MAX_PENDING) out.push(noAnswer(s));
        else pending.push(s);
      } else {
        const f = reset(s);
        if (f) out.push(f);
      }
      return out;
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const s of pending) {
        if (lastTime && diffSeconds(lastTime, s.synTimes[0]) >= late) out.push(noAnswer(s));
      }
      pending.length = 0;
      return out;
    },
  };
}
