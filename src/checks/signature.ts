// Hex-digest signatures in signature-like headers and fields (X-Signature, Signature, sig, ...):
// signature.uppercase when the hex has upper-case letters; with a key, recomputes the OpenSRS
// signature md5(md5(body + key) + key) (HMAC-SHA1/-SHA256 for 40/64 hex digits) over the body as
// sent and, when it does not match, tries the known wrong ways to name the variant
// (signature.variant) or reports signature.mismatch. Requests the server accepted are not judged.

import { createHash, createHmac } from 'node:crypto';
import type { AnalysisOptions, Finding } from '../types.js';
import { NO_FINDINGS, type Analysed, type AuthFamily } from './family.js';
import { exchangeRef, makeFinding } from './finding.js';
import { trailingNulCount } from './http-util.js';

const SIG_NAME = /(^|[-_])(signature|sig|sign|hmac|checksum)(-\d+)?$/;

/** Header/field name as sent -> signature-like: names repeat, so each is tested once (bounded). */
const sigNames = new Map<string, boolean>();

/** Is this header/field name signature-like? */
export function isSignatureName(name: string): boolean {
  let v = sigNames.get(name);
  if (v === undefined) {
    v = SIG_NAME.test(name.toLowerCase());
    if (sigNames.size < 10_000) sigNames.set(name, v);
  }
  return v;
}

/** The hex digest in a signature value ("abc...", "sha256=abc..."), or null. */
export function hexDigest(value: string): { hex: string; prefix: string | null } | null {
  const m = /^\s*(?:(md5|sha1|sha256|sha512)=)?([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})\s*$/i.exec(value);
  return m ? { hex: m[2], prefix: m[1] ?? null } : null;
}

const md5 = (...parts: (Buffer | string)[]): string => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const hash = (alg: string, ...parts: (Buffer | string)[]): string => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const hmac = (alg: string, key: string, b: Buffer): string => createHmac(alg, key).update(b).digest('hex');

type Formula = [name: string, f: (b: Buffer, k: string) => string];

/** Formulas per digest length; the first is the correct one. */
const FORMULAS: Record<number, { algorithm: string; correct: string; list: Formula[] }> = {
  32: {
    algorithm: 'md5',
    correct: 'md5(md5(body + key) + key)',
    list: [
      ['', (b, k) => md5(md5(b, k), k)],
      ['single-md5', (b, k) => md5(b, k)],
      ['key-first', (b, k) => md5(md5(k, b), k)],
      ['no-second-key', (b, k) => md5(md5(b, k))],
      ['inner-uppercase', (b, k) => md5(md5(b, k).toUpperCase(), k)],
      ['single-md5-key-first', (b, k) => md5(k, b)],
      ['body-only-md5', (b) => md5(b)],
      ['hmac-md5', (b, k) => hmac('md5', k, b)],
    ],
  },
  40: {
    algorithm: 'hmac-sha1',
    correct: 'HMAC-SHA1(key, body)',
    list: [
      ['', (b, k) => hmac('sha1', k, b)],
      ['sha1-body-then-key', (b, k) => hash('sha1', b, k)],
      ['sha1-key-then-body', (b, k) => hash('sha1', k, b)],
      ['body-only-sha1', (b) => hash('sha1', b)],
    ],
  },
  64: {
    algorithm: 'hmac-sha256',
    correct: 'HMAC-SHA256(key, body)',
    list: [
      ['', (b, k) => hmac('sha256', k, b)],
      ['sha256-body-then-key', (b, k) => hash('sha256', b, k)],
      ['sha256-key-then-body', (b, k) => hash('sha256', k, b)],
      ['body-only-sha256', (b) => hash('sha256', b)],
    ],
  },
};

/** The body as sent plus the ways clients get it wrong, cheapest first. */
function bodyVariants(body: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [['', body]];
  const nul = trailingNulCount(body);
  if (nul > 0) out.push(['body-trailing-nul-stripped', body.subarray(0, body.length - nul)]);
  out.push(['body-nul-appended', Buffer.concat([body, Buffer.from([0])])]);
  const text = body.toString('latin1');
  if (text.includes('\r\n')) out.push(['body-crlf-to-lf', Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1')]);
  if (/(^|[^\r])\n/.test(text)) out.push(['body-lf-to-crlf', Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1')]);
  const trimmed = text.replace(/[\r\n]+$/, '');
  if (trimmed.length !== text.length) out.push(['body-trailing-newline-stripped', Buffer.from(trimmed, 'latin1')]);
  else out.push(['body-newline-appended', Buffer.from(text + '\n', 'latin1')]);
  if (body.length > 0) out.push(['empty-body', Buffer.alloc(0)]);
  return out;
}

export interface SignatureCheck {
  ok: boolean;
  /** Name of the wrong way that matches ('' when correct), e.g. 'single-md5', 'body-trailing-nul-stripped+uppercase'. */
  variant: string | null;
  expected: string;
  algorithm: string;
  tried: number;
}

/** Checks a hex signature over `body` with `key`: the correct formula first, then the known wrong ways. */
export function checkSignature(hex: string, body: Buffer, key: string): SignatureCheck {
  const f = FORMULAS[hex.length];
  const lower = hex.toLowerCase();
  const upper = lower !== hex;
  const expected = f.list[0][1](body, key);
  if (expected === lower) return { ok: !upper, variant: upper ? 'uppercase' : '', expected, algorithm: f.algorithm, tried: 1 };
  let tried = 1;
  for (const [bname, b] of bodyVariants(body)) {
    for (const [fname, fn] of f.list) {
      if (!bname && !fname) continue;
      tried++;
      if (fn(b, key) === lower) {
        const v = [fname, bname, upper ? 'uppercase' : ''].filter(Boolean).join('+');
        return { ok: false, variant: v, expected, algorithm: f.algorithm, tried };
      }
    }
  }
  return { ok: false, variant: null, expected, algorithm: f.algorithm, tried };
}

const VARIANT_TEXT: Record<string, string> = {
  uppercase: 'the hex is in upper case',
  'single-md5': 'MD5 applied once, md5(body + key), instead of twice',
  'key-first': 'the key put before the body',
  'no-second-key': 'the key not appended before the second MD5',
  'inner-uppercase': 'the inner MD5 taken in upper-case hex',
  'single-md5-key-first': 'one MD5 of key + body',
  'body-only-md5': 'an MD5 of the body alone, without the key',
  'hmac-md5': 'HMAC-MD5 instead of the double MD5',
  'body-trailing-nul-stripped': 'computed over the body without the NUL bytes that were sent after it',
  'body-nul-appended': 'computed over the body plus a NUL byte that was not sent',
  'body-crlf-to-lf': 'computed with LF line ends while CRLF was sent',
  'body-lf-to-crlf': 'computed with CRLF line ends while LF was sent',
  'body-trailing-newline-stripped': 'computed without the final newline that was sent',
  'body-newline-appended': 'computed with a final newline that was not sent',
  'empty-body': 'computed over an empty body',
};

export function describeVariant(v: string): string {
  return v
    .split('+')
    .map((p) => VARIANT_TEXT[p] ?? p)
    .join('; ');
}

export function createSignatureFamily(o: AnalysisOptions): AuthFamily {
  return {
    name: 'signature',
    exchange({ ctx, scan, summary: s, endpoint }: Analysed): Finding[] {
      if (s.protocol !== 'http' || s.accepted) return NO_FINDINGS;
      const req = ctx.req;
      let cands: { name: string; location: 'header' | 'form' | 'query'; value: string }[] | null = null;
      const headers = req.headers;
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i];
        if (isSignatureName(h[0])) (cands ??= []).push({ name: h[0], location: 'header', value: h[1] });
      }
      for (const f of scan.fields) if ((f.location === 'form' || f.location === 'query') && isSignatureName(f.name)) (cands ??= []).push({ name: f.name, location: f.location, value: f.value });
      if (cands === null) return NO_FINDINGS;
      const out: Finding[] = [];
      const ref = exchangeRef(ctx);
      for (const c of cands) {
        const d = hexDigest(c.value);
        if (!d) continue;
        const where = c.location === 'header' ? `header ${c.name}` : `${c.location} field "${c.name}"`;
        const upper = /[A-F]/.test(d.hex);
        const base = { field: c.name, location: c.location, hexLength: d.hex.length, endpoint, client: s.client, status: s.status };
        const canVerify = o.key !== undefined && c.location === 'header' && !req.bodyTruncated && !req.incomplete && req.body.length === req.bodyLength;
        if (canVerify) {
          const r = checkSignature(d.hex, req.body, o.key!);
          if (r.ok) continue;
          if (r.variant !== null) {
            out.push(
              makeFinding(
                'signature.variant',
                ref,
                `the ${where} of ${endpoint} from ${s.client} (frame ${s.reqFrame}) is computed a wrong way: ${describeVariant(r.variant)}; expected ${FORMULAS[d.hex.length].correct} in lower-case hex over the body as sent`,
                { ...base, variant: r.variant, algorithm: r.algorithm, formula: FORMULAS[d.hex.length].correct, bodyLength: req.bodyLength, signature: d.hex, expectedSignature: r.expected },
              ),
            );
          } else out.push(
            makeFinding(
              'signature.mismatch',
              ref,
              `the ${where} of ${endpoint} from ${s.client} (frame ${s.reqFrame}) matches no known way of computing it with the given key over this ${req.bodyLength}-byte body: check the key (production and test systems have different keys)`,
              { ...base, algorithm: r.algorithm, formula: FORMULAS[d.hex.length].correct, tried: r.tried, bodyLength: req.bodyLength, signature: d.hex, expectedSignature: r.expected },
            ),
          );
        }
        if (upper) {
          out.push(
            makeFinding(
              'signature.uppercase',
              ref,
              `the ${where} of ${endpoint} from ${s.client} (frame ${s.reqFrame}) is hex in upper case; servers such as OpenSRS expect the digest in lower case`,
              { ...base, signature: d.hex },
            ),
          );
        }
      }
      return out;
    },
  };
}
