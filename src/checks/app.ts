// app.ip-not-allowed: the server's answer says the client's address is not allowed: OpenSRS OPS
// XML replies (response_code 555, "invalid ip address [x]") and JSON/text bodies saying the IP is
// not allowed / whitelisted. Evidence gives the address seen on the wire and the one the server
// quoted; when they differ the client is behind NAT and the allow-list needs the public address.

import { isIP } from 'node:net';
import type { Finding, Message } from '../types.js';
import { NO_FINDINGS, type Analysed, type AuthFamily } from './family.js';
import { exchangeRef, makeFinding } from './finding.js';
import { bodyText, mediaType, normIp } from './http-util.js';

const SCAN_LIMIT = 65536;
const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const IPV6 = String.raw`[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?`;
const IP_RE = new RegExp(`(${IPV4}|${IPV6})`, 'g');

/** First real IP address (checked with net.isIP) in a text. */
function firstIp(text: string): string | null {
  IP_RE.lastIndex = 0;
  for (let m = IP_RE.exec(text); m; m = IP_RE.exec(text)) {
    if (isIP(m[1])) return m[1];
    if (m[0].length === 0) IP_RE.lastIndex++;
  }
  return null;
}
/** "invalid ip address [x]" (OpenSRS) and its relatives: always a refusal. */
const INVALID_IP = /invalid\s+(?:client\s+|source\s+)?ip(?:\s+address)?/i;
/** Generic wording: only trusted on error statuses or short non-HTML bodies. */
const GENERIC = [
  /\b(?:ip|ip address|client ip|source ip|remote address|address)\b[^.\n<]{0,80}?\bnot\s+(?:allowed|whitelisted|authori[sz]ed|permitted|in\s+(?:the\s+)?(?:allow|white)[- ]?list)/i,
  /\bnot\s+(?:in\s+(?:the\s+)?)?(?:whitelisted|allow[- ]?listed)\b/i,
  /\b(?:ip|ip address)\s+(?:address\s+)?(?:is\s+)?(?:blocked|denied|forbidden|restricted|blacklisted)\b/i,
  /\b(?:ip|address)\s+(?:whitelist|allow[- ]?list)\s+(?:check\s+)?(?:failed|violation|mismatch)/i,
];

export interface IpRefusal {
  text: string;
  quotedAddress: string | null;
  responseCode: string | null;
}

/**
 * Text every refusal pattern above needs (as a necessary condition, same flags and word boundaries):
 * INVALID_IP "invalid", the OPS items "response_code" / "OPS_envelope", GENERIC "not " (1, 2) and
 * "ip " / "address " (3, 4). Bodies without any of them (most of them) skip the other regexes.
 */
const MAYBE_REFUSAL = /invalid|response_code|OPS_envelope|\bnot\s|\b(?:ip|address)\s/i;

/** Could findIpRefusal or the OPS reading in inspectResponse find anything in this text? */
export function mayRefuse(text: string): boolean {
  return MAYBE_REFUSAL.test(text);
}

/** The characters JS \s matches in latin1 text (TAB, LF, VT, FF, CR, SPACE, NBSP). */
const SPACE_BYTES = [0x20, 0x0a, 0x0d, 0x09, 0x0b, 0x0c, 0xa0];

function hasByte(b: Buffer, c: number, n: number): boolean {
  const i = b.indexOf(c);
  return i >= 0 && i < n;
}

function hasText(b: Buffer, s: string, n: number): boolean {
  const i = b.indexOf(s, 0, 'latin1');
  return i >= 0 && i + s.length <= n;
}

/**
 * Byte-level test before making the body a string, with native searches only: findIpRefusal needs a
 * whitespace character (INVALID_IP, every GENERIC pattern and the OPS response_code item have \s+),
 * and the OPS reading needs "OPS_envelope" or "response_code" as sent (both with '_'). A body with
 * neither (e.g. a form echo or a one-word 401 body) cannot refuse at application level.
 */
export function mayRefuseBytes(b: Buffer, n: number): boolean {
  for (const c of SPACE_BYTES) if (hasByte(b, c, n)) return true;
  return hasByte(b, 0x5f, n) && (hasText(b, 'OPS_envelope', n) || hasText(b, 'response_code', n));
}

/** Finds an "address not allowed" statement in a response body. */
export function findIpRefusal(text: string, trustGeneric: boolean): IpRefusal | null {
  const code = /<item\s+key=["']response_code["']\s*>\s*(\d+)\s*</i.exec(text)?.[1] ?? null;
  const rt = /<item\s+key=["']response_text["']\s*>([^<]*)</i.exec(text)?.[1] ?? null;
  let m = INVALID_IP.exec(text);
  let matched: string | null = null;
  let at = -1;
  if (m) {
    at = m.index;
    matched = m[0];
  } else if (code === '555' && rt) {
    matched = rt;
    at = text.indexOf(rt);
  } else if (trustGeneric) {
    for (const re of GENERIC) {
      m = re.exec(text);
      if (m) {
        at = m.index;
        matched = m[0];
        break;
      }
    }
  }
  if (matched === null) return null;
  // The sentence around the match (the OPS response_text when there is one).
  let sentence = rt && rt.includes(matched) ? rt : text.slice(Math.max(0, at - 60), at + matched.length + 80);
  sentence = sentence.replace(/\s+/g, ' ').trim().slice(0, 200);
  const near = text.slice(at, at + matched.length + 80);
  const quoted = firstIp(near) ?? firstIp(sentence);
  return { text: sentence, quotedAddress: quoted, responseCode: code };
}

/** What the response body says at application level (HTTP 200 replies can still be refusals). */
export interface ResponseVerdict {
  /** The application refused the request although the HTTP status may be 2xx. */
  refused: boolean;
  /** OPS (OpenSRS) response_code, when the body is an OPS envelope. */
  opsCode: string | null;
  ipRefusal: IpRefusal | null;
}

/** Reads a response body for application-level refusals: OPS response_code/is_success and IP allow-list wording. */
export function inspectResponse(res: Message): ResponseVerdict {
  const v: ResponseVerdict = { refused: false, opsCode: null, ipRefusal: null };
  const body = res.decodedBody;
  if (body.length === 0 || !mayRefuseBytes(body, Math.min(body.length, SCAN_LIMIT))) return v;
  const text = bodyText(body, SCAN_LIMIT);
  if (!mayRefuse(text)) return v;
  const type = mediaType(res);
  const status = res.status ?? 0;
  const trustGeneric = status >= 400 || (res.decodedBody.length <= 2048 && !type.includes('html'));
  v.ipRefusal = findIpRefusal(text, trustGeneric);
  if (text.includes('OPS_envelope') || text.includes('response_code')) {
    v.opsCode = /<item\s+key=["']response_code["']\s*>\s*(\d+)\s*</i.exec(text)?.[1] ?? null;
    const success = /<item\s+key=["']is_success["']\s*>\s*([01])\s*</i.exec(text)?.[1];
    if ((v.opsCode !== null && !v.opsCode.startsWith('2')) || success === '0') v.refused = true;
  }
  if (v.ipRefusal) v.refused = true;
  return v;
}

export function createAppFamily(): AuthFamily {
  return {
    name: 'app',
    exchange({ ctx, verdict, endpoint }: Analysed): Finding[] {
      const res = ctx.res;
      const r = verdict?.ipRefusal;
      if (!res || !r) return NO_FINDINGS;
      const differs = r.quotedAddress !== null && normIp(r.quotedAddress) !== normIp(ctx.clientIp);
      return [
        makeFinding(
          'app.ip-not-allowed',
          exchangeRef(ctx),
          `the server refused ${endpoint} from ${ctx.clientIp} because of its address ("${r.text}", frame ${res.frame})` +
            (differs
              ? `; the server saw ${r.quotedAddress}, not ${ctx.clientIp}: the client is behind NAT, so the allow-list must hold the public address ${r.quotedAddress}`
              : `: add ${r.quotedAddress ?? ctx.clientIp} to the service's IP allow-list`),
          {
            clientAddress: ctx.clientIp,
            quotedAddress: r.quotedAddress,
            addressesDiffer: differs,
            responseCode: r.responseCode,
            responseText: r.text,
            status: res.status ?? null,
            endpoint,
          },
        ),
      ];
    },
  };
}
