// HTTP/SIP Digest access authentication (RFC 7616, RFC 2617, RFC 3261 §22.4): parses a Digest
// Authorization / Proxy-Authorization value and recomputes its response from a password.
// Algorithms: MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess; qop auth,
// auth-int, or none (RFC 2069 compatibility).

import { createHash } from 'node:crypto';
import { parseAuthItems, type AuthItem } from './auth-params.js';

export interface DigestParams {
  /** username, or the decoded username* (RFC 5987); with userhash it is the hash as sent. */
  username: string;
  userhash: boolean;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As sent; 'MD5' when absent. */
  algorithm: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
  /** Every parameter, lower-case names. */
  params: Record<string, string>;
}

export interface DigestVerifyInput {
  password: string;
  method: string;
  /** Entity body as sent, for qop=auth-int. */
  body?: Buffer;
  /** The real user name when the header carries userhash=true (or to override the header's username). */
  user?: string;
}

export interface DigestVerifyResult {
  ok: boolean;
  /** The response value the password gives (lower-case hex); '' when it cannot be computed. */
  expected: string;
  /** Why it could not be computed (unknown algorithm, auth-int without a body). */
  error?: string;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** Node hash name for a Digest algorithm token, and whether it is a -sess variant; null when unknown. */
export function digestHash(algorithm: string): { hash: string; sess: boolean } | null {
  const a = algorithm.trim().toUpperCase();
  const sess = a.endsWith('-SESS');
  const base = sess ? a.slice(0, -5) : a;
  const hash = HASHES[base];
  return hash ? { hash, sess } : null;
}

function h(alg: string, data: string | Buffer): string {
  return createHash(alg).update(data).digest('hex');
}

function decodeExtValue(v: string): string {
  // RFC 8187 ext-value: charset'lang'pct-encoded
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (!m) return v;
  try {
    return decodeURIComponent(m[2]);
  } catch {
    return m[2];
  }
}

/** Parses `Digest username="...", realm="...", ...` (the scheme word is optional). */
export function parseDigestAuthorization(value: string): DigestParams {
  return digestFromItems(parseAuthItems(value));
}

/** parseDigestAuthorization over an already tokenized value (see parseAuthItems). */
export function digestFromItems(items: AuthItem[]): DigestParams {
  const item = items.find((x) => x.scheme.toLowerCase() === 'digest') ?? items[0] ?? { scheme: '', params: {} };
  const p = item.params;
  const username = p['username'] ?? (p['username*'] !== undefined ? decodeExtValue(p['username*']) : '');
  const out: DigestParams = {
    username,
    userhash: (p['userhash'] ?? '').toLowerCase() === 'true',
    realm: p['realm'] ?? '',
    nonce: p['nonce'] ?? '',
    uri: p['uri'] ?? '',
    response: p['response'] ?? '',
    algorithm: p['algorithm'] || 'MD5',
    params: p,
  };
  if (p['qop'] !== undefined) out.qop = p['qop'];
  if (p['nc'] !== undefined) out.nc = p['nc'];
  if (p['cnonce'] !== undefined) out.cnonce = p['cnonce'];
  if (p['opaque'] !== undefined) out.opaque = p['opaque'];
  return out;
}

/** The userhash of RFC 7616 §3.4.4: H(username ":" realm). */
export function digestUserhash(algorithm: string, user: string, realm: string): string {
  const a = digestHash(algorithm);
  return a ? h(a.hash, `${user}:${realm}`) : '';
}

/** Recomputes the Digest response for `params` with `password` and compares it with the one sent. */
export function verifyDigest(params: DigestParams, input: DigestVerifyInput): DigestVerifyResult {
  const alg = digestHash(params.algorithm);
  if (!alg) return { ok: false, expected: '', error: `unsupported algorithm ${params.algorithm}` };
  const user = input.user ?? params.username;
  let ha1 = h(alg.hash, `${user}:${params.realm}:${input.password}`);
  if (alg.sess) ha1 = h(alg.hash, `${ha1}:${params.nonce}:${params.cnonce ?? ''}`);
  const qop = (params.qop ?? '').trim().toLowerCase();
  let a2 = `${input.method}:${params.uri}`;
  if (qop === 'auth-int') {
    if (!input.body) return { ok: false, expected: '', error: 'qop=auth-int needs the entity body' };
    a2 += `:${h(alg.hash, input.body)}`;
  }
  const ha2 = h(alg.hash, a2);
  const expected = qop
    ? h(alg.hash, `${ha1}:${params.nonce}:${params.nc ?? ''}:${params.cnonce ?? ''}:${params.qop!.trim()}:${ha2}`)
    : h(alg.hash, `${ha1}:${params.nonce}:${ha2}`);
  return { ok: expected === params.response.trim().toLowerCase(), expected };
}
