// Small helpers shared by the check families: header lookup, URI path/query splitting,
// form decoding, status classes and SIP Call-ID/CSeq reading. No state, no I/O.

import { isAcceptedStatus } from '../util/status.js';
import type { HttpHeaders, Message } from '../types.js';

/** Does header name k equal the lower-case name n, ignoring case? (no allocation for names of another length) */
function sameName(k: string, n: string): boolean {
  return k.length === n.length && (k === n || k.toLowerCase() === n);
}

/** First value of a header (case-insensitive name), or undefined. */
export function header(headers: HttpHeaders, name: string): string | undefined {
  const n = name.toLowerCase();
  for (let i = 0; i < headers.length; i++) if (sameName(headers[i][0], n)) return headers[i][1];
  return undefined;
}

/** All values of a header (case-insensitive name), in wire order. */
export function headerAll(headers: HttpHeaders, name: string): string[] {
  const n = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) if (sameName(headers[i][0], n)) out.push(headers[i][1]);
  return out;
}

/** SIP compact header forms (RFC 3261 §7.3.3) used by the checks. */
const SIP_COMPACT: Record<string, string> = { 'call-id': 'i', from: 'f', to: 't', 'content-length': 'l', 'content-type': 'c' };

/** Header lookup that also accepts the SIP compact form. */
export function sipHeader(headers: HttpHeaders, name: string): string | undefined {
  return header(headers, name) ?? (SIP_COMPACT[name.toLowerCase()] ? header(headers, SIP_COMPACT[name.toLowerCase()]) : undefined);
}

/** Path of a request URI without query or fragment; absolute-form URIs lose scheme and authority. SIP URIs lose ;params and ?headers. */
export function uriPath(uri: string, protocol: 'http' | 'sip' = 'http'): string {
  if (protocol === 'sip') {
    let u = uri.trim();
    const q = u.indexOf('?');
    if (q >= 0) u = u.slice(0, q);
    const sc = u.indexOf(';');
    if (sc >= 0) u = u.slice(0, sc);
    return u;
  }
  let u = uri;
  // Origin-form ("/...") cannot be absolute-form: skip the regex.
  if (u.charCodeAt(0) !== 0x2f) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(u);
    if (m) u = u.slice(m[0].length) || '/';
  }
  const q = u.indexOf('?');
  const h = u.indexOf('#');
  const cut = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  if (cut >= 0) u = u.slice(0, cut);
  return u === '' ? '/' : u;
}

/** The query string of a request URI (without '?'), or '' when there is none. */
export function uriQuery(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return '';
  const h = uri.indexOf('#', q);
  return uri.slice(q + 1, h < 0 ? undefined : h);
}

/** Decodes one form/query component ('+' is a space, %XX is UTF-8); malformed escapes are kept as sent. */
export function decodeComponent(s: string): string {
  // Most names and values need no decoding: skip the regex and decodeURIComponent (hot on large forms).
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Decodes application/x-www-form-urlencoded text (also used for query strings) into [name, value] pairs. */
export function parseForm(text: string): [string, string][] {
  const out: [string, string][] = [];
  if (!text) return out;
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    out.push([name, value]);
  }
  return out;
}

/** The names of parseForm(text), in order, without decoding the values. */
export function formNames(text: string): string[] {
  const out: string[] = [];
  if (!text) return out;
  let i = 0;
  const n = text.length;
  let eq = text.indexOf('=');
  while (i <= n) {
    let amp = text.indexOf('&', i);
    if (amp < 0) amp = n;
    if (amp > i) {
      // The next '=' at or after i (kept while it lies ahead: linear on names without '=').
      if (eq >= 0 && eq < i) eq = text.indexOf('=', i);
      out.push(decodeComponent(eq < 0 || eq > amp ? text.slice(i, amp) : text.slice(i, eq)));
    }
    i = amp + 1;
  }
  return out;
}

/** Media type of a message, lower case without parameters ('' when absent). */
export function mediaType(m: Message): string {
  const ct = m.protocol === 'sip' ? sipHeader(m.headers, 'content-type') : header(m.headers, 'content-type');
  if (!ct) return '';
  const sc = ct.indexOf(';');
  return (sc < 0 ? ct : ct.slice(0, sc)).trim().toLowerCase();
}

/** 2xx or 3xx: the server accepted the request (for SIP, 2xx only counts; 3xx redirects are not refusals either). */
export const isAccepted = isAcceptedStatus;

export function isChallengeStatus(status: number | null | undefined): boolean {
  return status === 401 || status === 407;
}

/** SIP Call-ID of a message, if any. */
export function sipCallId(m: Message): string | undefined {
  return sipHeader(m.headers, 'call-id')?.trim() || undefined;
}

/** SIP CSeq number and method ("2 REGISTER"), if well formed. */
export function sipCSeq(m: Message): { seq: number; method: string } | undefined {
  const v = header(m.headers, 'cseq');
  if (!v) return undefined;
  const mm = /^\s*(\d+)\s+(\S+)/.exec(v);
  return mm ? { seq: Number(mm[1]), method: mm[2].toUpperCase() } : undefined;
}

/** User part of a SIP name-addr/addr-spec ("Alice" <sip:alice@example.com>;tag=1 -> alice). */
export function sipUriUser(v: string | undefined): string | null {
  if (!v) return null;
  const m = /sips?:([^@;>\s]+)@/i.exec(v);
  return m ? decodeComponent(m[1]) : null;
}

/** Text of a body for regex scanning, at most `max` bytes, as latin1 (byte-preserving). */
export function bodyText(b: Buffer, max = 65536): string {
  return (b.length > max ? b.subarray(0, max) : b).toString('latin1');
}

/** Normalises an IP address for comparison: lower case, IPv4-mapped IPv6 reduced to IPv4, brackets dropped. */
export function normIp(ip: string): string {
  let s = ip.trim().toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) s = mapped[1];
  return s;
}

/** Number of NUL bytes at the end of a buffer. */
export function trailingNulCount(b: Buffer): number {
  let n = 0;
  for (let i = b.length - 1; i >= 0 && b[i] === 0; i--) n++;
  return n;
}
