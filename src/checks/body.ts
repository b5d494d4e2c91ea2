// Request body problems: body.trailing-nul (the body ends in NUL bytes), body.length-mismatch
// (Content-Length vs the bytes actually sent; a message cut by a TCP gap is not a mismatch) and
// body.missing (a POST/PUT with an empty body where a signature header is sent, or where accepted
// requests to the same endpoint carry a body: the latter in finish).

import type { Finding, Message } from '../types.js';
import { NO_FINDINGS, type Analysed, type AuthFamily, type FindingSink } from './family.js';
import { exchangeRef, makeFinding, uniqFrames, type FindingRef } from './finding.js';
import { headerAll, mediaType, trailingNulCount } from './http-util.js';
import { isSignatureName } from './signature.js';
import type { ExchangeStore } from './store.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/**
 * Anomaly texts (from the protocol stage) that mean the body length disagrees with Content-Length:
 * bytes left over after the declared body, or conflicting headers. 'incomplete: connection closed'
 * (the sender closed before the declared length) is handled below; gaps and the capture's end are not
 * mismatches.
 */
const LENGTH_ANOMALY = /^(extra-bytes-after-body|conflicting-content-length)|content-length.*(mismatch|differ|exceed)/i;

/** How many Content-Length headers (and SIP 'l') a message has, without collecting them. */
function contentLengthCount(m: Message): number {
  let n = 0;
  const sip = m.protocol === 'sip';
  const headers = m.headers;
  for (let i = 0; i < headers.length; i++) {
    const k = headers[i][0];
    if (k.length === 14 ? k.toLowerCase() === 'content-length' : sip && k.length === 1 && (k === 'l' || k === 'L')) n++;
  }
  return n;
}

function lengthProblem(m: Message): { problem: string; detail: Record<string, unknown> } | null {
  if (m.chunked) return null;
  if (contentLengthCount(m) > 1) {
    const values = headerAll(m.headers, 'content-length');
    if (m.protocol === 'sip') values.push(...headerAll(m.headers, 'l'));
    const distinct = [...new Set(values.map((v) => v.trim()))];
    if (distinct.length > 1) return { problem: 'conflicting-headers', detail: { contentLengthHeaders: distinct } };
  }
  if (m.anomalies.length > 0) {
    if (m.anomalies.some((a) => /gap|capture ended/i.test(a))) return null;
    const anomaly = m.anomalies.find((a) => LENGTH_ANOMALY.test(a));
    if (anomaly) return { problem: 'anomaly', detail: { anomaly } };
  }
  if (m.contentLength === undefined) return null;
  if (m.incomplete) {
    // The sender closed the connection before sending the declared length.
    // Only when part of the body came: a message with no body byte at all is as likely the capture's end.
    if (m.anomalies.includes('incomplete: connection closed') && m.bodyLength > 0 && m.bodyLength < m.contentLength) {
      return { problem: 'closed-before-content-length', detail: {} };
    }
    return null;
  }
  if (m.bodyLength !== m.contentLength) return { problem: m.bodyLength < m.contentLength ? 'body-shorter' : 'body-longer', detail: {} };
  return null;
}

export function createBodyFamily(): AuthFamily {
  const flagged = new Set<string>();
  return {
    name: 'body',
    exchange({ ctx, summary: s, endpoint }: Analysed): Finding[] {
      // No closures or arrays unless there is something to report (most exchanges).
      let out = NO_FINDINGS;
      const req = ctx.req;
      let ref: FindingRef | undefined;
      if (req.bodyLength > 0 && !req.bodyTruncated && !req.incomplete && req.body.length === req.bodyLength) {
        const count = trailingNulCount(req.body);
        if (count > 0) {
          (out === NO_FINDINGS ? (out = []) : out).push(
            makeFinding(
              'body.trailing-nul',
              (ref ??= exchangeRef(ctx)),
              `the body of ${endpoint} from ${s.client} (frame ${s.reqFrame}) ends with ${count} NUL byte${count > 1 ? 's' : ''}: ` +
                'that changes any digest or signature computed over the body; some HTTP libraries append it (send the body without the terminating NUL)',
              { count, bodyLength: req.bodyLength, contentLength: req.contentLength ?? null, contentType: mediaType(req) || null, endpoint, client: s.client },
            ),
          );
        }
      }
      // Responses to HEAD, and 1xx/204/304 responses, carry no body whatever Content-Length says.
      const st = ctx.res?.status ?? 0;
      const resHasBody = ctx.res && s.method !== 'HEAD' && st >= 200 && st !== 204 && st !== 304;
      for (let which = 0; which < (resHasBody ? 2 : 1); which++) {
        const m = which === 0 ? req : ctx.res!;
        const lp = lengthProblem(m);
        if (!lp) continue;
        const side = m.kind === 'request' ? `the request ${endpoint} from ${s.client}` : `the ${m.status} response to ${endpoint}`;
        (out === NO_FINDINGS ? (out = []) : out).push(
          makeFinding(
            'body.length-mismatch',
            (ref ??= exchangeRef(ctx)),
            `${side} (frame ${m.frame}) declares Content-Length ${lp.detail['contentLengthHeaders'] ? (lp.detail['contentLengthHeaders'] as string[]).join(' and ') : (m.contentLength ?? '?')} ` +
              `but ${m.bodyLength} body byte${m.bodyLength === 1 ? ' was' : 's were'} sent: the receiver reads a different body than the sender meant`,
            {
              message: m.kind,
              problem: lp.problem,
              contentLength: m.contentLength ?? null,
              bodyLength: m.bodyLength,
              frame: m.frame,
              firstFrame: m.firstFrame,
              ...lp.detail,
              endpoint,
              client: s.client,
            },
          ),
        );
      }
      if (BODY_METHODS.has(s.method) && req.bodyLength === 0 && !req.incomplete && !s.accepted) {
        const sig = req.headers.find(([k, v]) => isSignatureName(k) && v.trim() !== '');
        if (sig) {
          flagged.add(s.id);
          (out === NO_FINDINGS ? (out = []) : out).push(
            makeFinding(
              'body.missing',
              (ref ??= exchangeRef(ctx)),
              `${endpoint} from ${s.client} (frame ${s.reqFrame}) sends a ${sig[0]} header but an empty body: the signature covers the content, so the content must be sent as the body`,
              { method: s.method, reason: 'signature-without-body', signatureHeader: sig[0], contentLength: req.contentLength ?? null, status: s.status, endpoint, client: s.client },
            ),
          );
        }
      }
      return out;
    },
    finish(store: ExchangeStore, out: FindingSink): void {
      const withBody = new Map<string, { n: number; example: { id: string; frame: number; stream: number | null } }>();
      for (const s of store.list) {
        if (!BODY_METHODS.has(s.method) || !s.hasBody || !s.accepted) continue;
        const k = store.endpointKey(s);
        const w = withBody.get(k);
        if (w) w.n++;
        else withBody.set(k, { n: 1, example: { id: s.id, frame: s.reqFrame, stream: s.stream } });
      }
      for (const s of store.list) {
        if (!BODY_METHODS.has(s.method) || s.hasBody || s.accepted || flagged.has(s.id)) continue;
        const k = store.endpointKey(s);
        const w = withBody.get(k);
        if (!w) continue;
        out.push(
          makeFinding(
            'body.missing',
            { exchange: s.id, stream: w.example.stream === s.stream ? s.stream : null, frames: uniqFrames([s.reqFrame, s.resFrame, w.example.frame]) },
            `${s.method} ${s.path} from ${s.client} (frame ${s.reqFrame}) has an empty body${s.status !== null ? ` and got ${s.status}` : ''}, ` +
              `while the ${w.n} accepted request${w.n > 1 ? 's' : ''} to ${k} carry one (e.g. frame ${w.example.frame})`,
            { method: s.method, reason: 'accepted-requests-have-body', endpoint: k, client: s.client, status: s.status, acceptedWithBody: w.n, acceptedExample: { exchange: w.example.id, frame: w.example.frame } },
          ),
        );
      }
    },
  };
}
