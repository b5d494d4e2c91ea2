// Helpers to build Findings: the severity table of REPORT.md for the analysis codes, Wireshark
// display filters (frames, tcp.stream, SIP Call-ID, combined) and a builder that ties a finding
// to its exchange.

import type { ExchangeContext, Finding, FindingCode, Severity } from '../types.js';
import { sipCallId } from './http-util.js';

/** Severities exactly as REPORT.md defines them (auth.challenge-mismatch is authcap's own code). */
export const SEVERITY: Partial<Record<FindingCode, Severity>> = {
  'http.unauthorized': 'error',
  'auth.missing': 'error',
  'auth.field-missing': 'error',
  'auth.challenge-unanswered': 'warning',
  'auth.rejected-after-retry': 'error',
  'auth.stale-nonce': 'warning',
  'auth.challenge-mismatch': 'warning',
  'auth.digest-mismatch': 'error',
  'auth.basic-malformed': 'error',
  'auth.token-expired': 'error',
  'method.get-not-post': 'error',
  'body.trailing-nul': 'error',
  'body.missing': 'error',
  'body.length-mismatch': 'error',
  'signature.uppercase': 'warning',
  'signature.mismatch': 'error',
  'signature.variant': 'error',
  'app.ip-not-allowed': 'error',
};

/** Sorted, de-duplicated frame numbers. */
export function uniqFrames(frames: (number | null | undefined)[]): number[] {
  if (frames.length <= 3) {
    // The common case (request, response, one more frame): no Set, no sort callback.
    const out: number[] = [];
    for (const f of frames) {
      if (typeof f !== 'number' || !(f > 0)) continue;
      let i = out.length;
      while (i > 0 && out[i - 1] > f) i--;
      if (i > 0 && out[i - 1] === f) continue;
      // Insert at i by shifting the tail (splice would allocate the array of removed items).
      for (let j = out.length; j > i; j--) out[j] = out[j - 1];
      out[i] = f;
    }
    return out;
  }
  const s = new Set<number>();
  for (const f of frames) if (typeof f === 'number' && f > 0) s.add(f);
  return [...s].sort((a, b) => a - b);
}

/** `frame.number == 31` or `frame.number in {31, 33}` (Wireshark 4 needs the commas: whitespace-separated sets are a syntax error). */
export function frameFilter(frames: number[]): string {
  const f = uniqFrames(frames);
  if (f.length === 0) return '';
  if (f.length === 1) return `frame.number == ${f[0]}`;
  return `frame.number in {${f.join(', ')}}`;
}

export function streamFilter(stream: number): string {
  return `tcp.stream eq ${stream}`;
}

/** Quotes a string for a Wireshark display filter. */
export function quoteFilterString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function sipCallIdFilter(callId: string): string {
  return `sip.Call-ID == ${quoteFilterString(callId)}`;
}

/** Filter parts joined with &&, empty parts dropped. */
export function andFilter(...parts: (string | null | undefined)[]): string {
  return parts.filter((p): p is string => !!p).join(' && ');
}

/** Where a finding points: enough to build its exchange/stream/frames/filter fields. */
export interface FindingRef {
  exchange: string | null;
  stream: number | null;
  frames: number[];
  /** SIP Call-ID: used in the filter for dialog-wide findings over UDP. */
  callId?: string;
}

/**
 * The filter for a ref: TCP `tcp.stream eq N && frame.number in {a, b}`; UDP (or no stream) the
 * frames alone; `dialog` (SIP findings spanning several exchanges) uses the Call-ID instead of frames.
 */
export function refFilter(ref: FindingRef, dialog = false): string {
  if (dialog && ref.callId) return sipCallIdFilter(ref.callId);
  const frames = frameFilter(ref.frames);
  if (ref.stream != null) return andFilter(streamFilter(ref.stream), frames);
  return frames;
}

/** The ref of one exchange: its request and response frames. */
export function exchangeRef(ctx: ExchangeContext): FindingRef {
  const ex = ctx.exchange;
  const ref: FindingRef = {
    exchange: ex.id,
    stream: ex.stream,
    frames: uniqFrames([ex.request.frame, ex.response?.frame]),
  };
  if (ex.protocol === 'sip') {
    const c = sipCallId(ctx.req);
    if (c) ref.callId = c;
  }
  return ref;
}

/** Builds a Finding with the contract's severity for `code`. */
export function makeFinding(
  code: FindingCode,
  ref: FindingRef,
  message: string,
  evidence: Record<string, unknown>,
  o: { dialog?: boolean; severity?: Severity } = {},
): Finding {
  const severity = o.severity ?? SEVERITY[code];
  if (!severity) throw new Error(`no severity for ${code}`);
  return {
    code,
    severity,
    message,
    exchange: ref.exchange,
    stream: ref.stream,
    frames: uniqFrames(ref.frames),
    filter: refFilter(ref, o.dialog),
    evidence,
  };
}

/** "frame 31" or "frames 31/33" for messages. */
export function framesText(frames: number[]): string {
  const f = uniqFrames(frames);
  return f.length === 1 ? `frame ${f[0]}` : `frames ${f.join('/')}`;
}
