// The cheaper redaction helpers (issue 7) against the code they replaced, kept here as the reference:
// the redaction marker of a value (hex length and case), the secret set (which variants of a value it
// keeps, in which order, what it scrubs), secret query fields and URI userinfo (with the new shortcut
// for text that cannot hold a secret field), Authorization values already redacted, and evidence keys
// (now classified once per key). Each is compared on fixed cases a user would check and on many
// generated inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isSecretEvidenceKey, isSecretField, isSecretHeader, redactEvidence, redactHeaderValue, redactHeaders, redactQueryText,
  redactUri, redactValue, REDACTED, SecretSet,
} from '../../src/report/redact.js';
import { rng } from '../lib/synthetic.js';

// ------------------------------------------------------------------ reference (the code replaced)

function refRedactValue(v: string): string {
  const t = v.trim();
  if (/^[0-9a-fA-F]{16,}$/.test(t)) {
    const kase = /[a-f]/.test(t) ? (/[A-F]/.test(t) ? ', mixed case' : '') : /[A-F]/.test(t) ? ', upper case' : '';
    return `<redacted ${t.length} hex${kase}>`;
  }
  return REDACTED;
}

function refIsMarker(v: string): boolean {
  return /^<redacted( \d+ hex(, (mixed|upper) case)?)?>$/.test(v.trim());
}

class RefSecretSet {
  readonly values = new Set<string>();
  private sorted: string[] | null = null;

  add(v: string | undefined | null): void {
    if (!v) return;
    const t = v.trim();
    if (t.length < 4 || refIsMarker(t)) return;
    this.put(t);
    if (/^[0-9a-fA-F]+$/.test(t)) {
      this.put(t.toLowerCase());
      this.put(t.toUpperCase());
    }
    if (/%[0-9a-fA-F]{2}|\+/.test(t)) {
      try {
        const d = decodeURIComponent(t.replace(/\+/g, ' '));
        if (d.length >= 4) this.put(d);
      } catch {
        /* not URL-encoded */
      }
    }
  }

  delete(v: string): void {
    if (this.values.delete(v)) {
      this.sorted = null;
      this.index = null;
    }
  }

  private put(v: string): void {
    if (this.values.has(v)) return;
    this.values.add(v);
    this.sorted = null;
    this.index = null;
  }

  private index: Map<number, string[]> | null = null;

  scrub(s: string): string {
    if (this.values.size === 0 || s.length < 4) return s;
    if (this.values.size <= 8) {
      this.sorted ??= [...this.values].sort((a, b) => b.length - a.length);
      let out = s;
      for (const v of this.sorted) if (out.includes(v)) out = out.split(v).join(refRedactValue(v));
      return out;
    }
    if (!this.index) {
      this.index = new Map();
      for (const v of this.values) {
        const k = key4(v, 0);
        const list = this.index.get(k);
        if (list) list.push(v);
        else this.index.set(k, [v]);
      }
      for (const list of this.index.values()) list.sort((a, b) => b.length - a.length);
    }
    let out = '';
    let from = 0;
    for (let i = 0; i + 4 <= s.length; ) {
      const list = this.index.get(key4(s, i));
      const hit = list?.find((v) => s.startsWith(v, i));
      if (hit) {
        out += s.slice(from, i) + refRedactValue(hit);
        i += hit.length;
        from = i;
      } else i++;
    }
    return from === 0 ? s : out + s.slice(from);
  }
}

function key4(s: string, i: number): number {
  return ((s.charCodeAt(i) * 65599 + s.charCodeAt(i + 1)) * 65599 + s.charCodeAt(i + 2)) * 65599 + s.charCodeAt(i + 3);
}

function refSafeDecode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

function refQueryText(text: string, secrets?: RefSecretSet): string {
  return text.replace(/(^|[?&;])([^=&;?#\s]+)=([^&;#\s]*)/g, (m, sep: string, name: string, value: string) => {
    if (!isSecretField(name) || value === '' || refIsMarker(value)) return m;
    secrets?.add(value);
    return `${sep}${name}=${refRedactValue(refSafeDecode(value))}`;
  });
}

function refUri(uri: string, secrets?: RefSecretSet): string {
  const q = uri.indexOf('?');
  let out = uri;
  if (q >= 0) out = uri.slice(0, q) + refQueryText(uri.slice(q), secrets);
  return out.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@?#]*):([^/@?#]*)@/i, (m, pre: string, pw: string) => {
    if (refIsMarker(pw)) return m;
    secrets?.add(pw);
    return `${pre}:${REDACTED}@`;
  });
}

const URI_KEYS = new Set(['uri', 'url', 'location', 'referer', 'path', 'query', 'target', 'requesturi']);

function refSecretValue(v: unknown, secrets?: SecretSet): unknown {
  if (typeof v === 'string') {
    if (refIsMarker(v)) return v;
    secrets?.add(v);
    return redactValue(v);
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    secrets?.add(String(v));
    return REDACTED;
  }
  if (Array.isArray(v)) return v.map((x) => refSecretValue(x, secrets));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = refSecretValue(x, secrets);
    return out;
  }
  return v;
}

function isPair(x: unknown): boolean {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string';
}

function refEvidence(v: unknown, secrets?: SecretSet, key?: string): unknown {
  if (key !== undefined && isSecretEvidenceKey(key)) return refSecretValue(v, secrets);
  if (typeof v === 'string') {
    if (key !== undefined && isSecretHeader(key)) return redactHeaderValue(key, v, secrets);
    if (key !== undefined && URI_KEYS.has(key.toLowerCase())) return redactUri(v, secrets);
    return v;
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isPair)) return redactHeaders(v as [string, string][], secrets);
    return v.map((x) => refEvidence(x, secrets));
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = refEvidence(x, secrets, k);
    return out;
  }
  return v;
}

// ------------------------------------------------------------------ generated inputs


function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

const HEXISH = ['0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '\u0661', '\uff10', ' ', '\t', '\u00a0', '\x10', '\x19', '@', '`'];
const PIECES = [
  'a', 'Z', '0', '7', ' ', '+', '%', '%41', '%2B', '%e2%82%ac', '%zz', '=', '&', ';', '?', '#', '@', ':', '/', '<', '>',
  '<redacted>', '<redacted 32 hex>', ' <redacted 16 hex, upper case> ', '<redacted 9 hex, mixed case>', '<Redacted>',
  'deadbeefdeadbeef', 'DEADBEEF00112233', 'pass', 'PWD', 'key', 'Token', 'secret', 'sig', '\u00e9', '\u212a', '\ud83d\ude00',
];

function hexish(r: () => number): string {
  const n = Math.floor(r() * 40);
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.9 ? pick(r, HEXISH.slice(0, 6)) : pick(r, HEXISH);
  return s;
}

function text(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, PIECES);
  return s;
}

const FIELD_NAMES = [
  'password', 'Passwd', 'pass', 'pwd', 'api_key', 'apiKey', 'key', 'token', 'access_token', 'secret', 'client_secret',
  'signature', 'sig', 'x.sig', 'p%61ss', 'PASS%57ORD', 'pass+', '+pwd', 'user', 'q', 'id', 'monkey', 'keys', 'sigma',
  'passport', 'tokenizer', '%E2%82%AC', '%zz', 'a-secret', '', 'session',
];

function query(r: () => number): string {
  const parts: string[] = [];
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const x = r();
    const value = x < 0.15 ? '' : x < 0.25 ? pick(r, ['<redacted>', '<redacted 32 hex>']) : x < 0.6 ? hexish(r) : text(r, 4);
    parts.push(`${pick(r, FIELD_NAMES)}${r() < 0.9 ? '=' : ''}${value}`);
  }
  return parts.join(pick(r, ['&', '&', ';', '&&']));
}

function uri(r: () => number): string {
  const x = r();
  const prefix = x < 0.2 ? `http://${pick(r, ['u', ''])}:${pick(r, ['pw', '<redacted>', '', 'p@ss', 'hunter2'])}@example.net` : x < 0.3 ? 'sip:alice@example.com' : '';
  const path = pick(r, ['/a', '/login', '', '/p?', '/x@y']);
  return `${prefix}${path}${r() < 0.8 ? '?' : ''}${query(r)}${r() < 0.2 ? `#${query(r)}` : ''}`;
}

// ------------------------------------------------------------------ tests

test('redactValue: hex digests keep their length and letter case, anything else is "<redacted>"', () => {
  assert.equal(redactValue(' 6629fae49393a05397450978507c4ef1 '), '<redacted 32 hex>');
  assert.equal(redactValue('6629FAE49393A053'), '<redacted 16 hex, upper case>');
  assert.equal(redactValue('6629FAE49393a053'), '<redacted 16 hex, mixed case>');
  assert.equal(redactValue('0123456789012345'), '<redacted 16 hex>');
  assert.equal(redactValue('6629fae49393a05'), REDACTED);
  assert.equal(redactValue('6629fae49393a05g'), REDACTED);
  const r = rng(3);
  for (let t = 0; t < 20000; t++) {
    const v = r() < 0.8 ? hexish(r) : text(r, 6);
    assert.equal(redactValue(v), refRedactValue(v), JSON.stringify(v));
  }
});

test('SecretSet keeps the same values in the same order and scrubs the same text as before', () => {
  const r = rng(5);
  for (let t = 0; t < 3000; t++) {
    const got = new SecretSet();
    const want = new RefSecretSet();
    const seen: string[] = [];
    const ops = 1 + Math.floor(r() * 12);
    for (let i = 0; i < ops; i++) {
      const x = r();
      if (x < 0.75) {
        const v = r() < 0.5 ? hexish(r) : text(r, 5);
        got.add(v);
        want.add(v);
        seen.push(v);
      } else if (x < 0.9 && seen.length > 0) {
        const v = pick(r, seen).trim();
        got.delete(v);
        want.delete(v);
      } else {
        got.add(r() < 0.5 ? null : undefined);
        got.add('');
      }
      assert.deepEqual([...got.values], [...want.values]);
      assert.equal(got.values.size, want.values.size);
    }
    const subject = seen.join(' | ') + text(r, 8);
    assert.equal(got.scrub(subject), want.scrub(subject), JSON.stringify(seen));
    const into = new SecretSet();
    into.add('already-there');
    into.merge(got);
    assert.deepEqual([...into.values], ['already-there', ...want.values]);
  }
  // An empty set: no values, nothing scrubbed, merging adds nothing.
  const empty = new SecretSet();
  assert.equal(empty.values.size, 0);
  assert.deepEqual([...empty.values], []);
  assert.equal(empty.scrub('password hunter2'), 'password hunter2');
  const other = new SecretSet();
  other.merge(empty);
  assert.equal(other.values.size, 0);
  empty.delete('x');
  assert.equal(empty.values.size, 0);
});

test('secret query fields and URI passwords: same text and same secrets as before', () => {
  assert.equal(redactUri('/login?user=bob&password=hunter2&q=1'), '/login?user=bob&password=<redacted>&q=1');
  assert.equal(redactUri('/s?monkey=1&keys=2&sigma=3'), '/s?monkey=1&keys=2&sigma=3');
  assert.equal(redactUri('/s?p%61ss=abc'), '/s?p%61ss=<redacted>');
  assert.equal(redactUri('http://u:pw@example.net/'), 'http://u:<redacted>@example.net/');
  const r = rng(9);
  for (let t = 0; t < 6000; t++) {
    const u = uri(r);
    const got = new SecretSet();
    const want = new RefSecretSet();
    assert.equal(redactUri(u, got), refUri(u, want), JSON.stringify(u));
    assert.deepEqual([...got.values], [...want.values], JSON.stringify(u));
    const q = query(r);
    const got2 = new SecretSet();
    const want2 = new RefSecretSet();
    assert.equal(redactQueryText(q, got2), refQueryText(q, want2), JSON.stringify(q));
    assert.deepEqual([...got2.values], [...want2.values], JSON.stringify(q));
  }
});

test('Authorization values already redacted are kept; others still redacted', () => {
  for (const v of ['Basic <redacted>', 'Basic <redacted> (user: alice)', 'Basic <redacted> (user: )']) {
    assert.equal(redactHeaderValue('Authorization', v), v);
  }
  assert.equal(redactHeaderValue('Authorization', 'Basic <redacted>x'), `Basic ${REDACTED}`);
  assert.equal(redactHeaderValue('Authorization', 'Basic <redacted> (user: a) tail'), `Basic ${REDACTED}`);
  const s = new SecretSet();
  assert.equal(redactHeaderValue('Authorization', `Basic ${Buffer.from('alice:pw-1234').toString('base64')}`, s), 'Basic <redacted> (user: alice)');
  assert.ok(s.values.has('pw-1234'));
});

test('evidence: the same redaction and secrets as classifying every key each time', () => {
  const keys = [
    'password', 'Password', 'nonce', 'response', 'signature', 'clientSignature', 'apiToken', 'Authorization', 'cookie',
    'X-Api-Key', 'x-signature', 'uri', 'URL', 'location', 'requestUri', 'path', 'user', 'realm', 'status', 'client',
    'headers', 'www-authenticate', 'note',
  ];
  const r = rng(13);
  const value = (depth: number): unknown => {
    const x = r();
    if (x < 0.35 || depth > 2) return r() < 0.5 ? uri(r) : hexish(r);
    if (x < 0.45) return Math.floor(r() * 1e6);
    if (x < 0.5) return null;
    if (x < 0.6) return [['Authorization', 'Bearer tok-12345'], ['Cookie', 'a=b; c=d']];
    if (x < 0.75) return [value(depth + 1), value(depth + 1)];
    const o: Record<string, unknown> = {};
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) o[r() < 0.05 ? `k${Math.floor(r() * 1e6)}` : pick(r, keys)] = value(depth + 1);
    return o;
  };
  for (let t = 0; t < 3000; t++) {
    const ev = value(0);
    const got = new SecretSet();
    const want = new SecretSet();
    assert.deepEqual(redactEvidence(ev, got), refEvidence(ev, want), JSON.stringify(ev));
    assert.deepEqual([...got.values], [...want.values]);
  }
  // More distinct keys than the classification keeps: still classified right after it is cleared.
  for (let i = 0; i < 5000; i++) {
    const k = i % 7 === 0 ? `x-token-${i}` : `field${i}`;
    const ev = { [k]: 'secret-value-1234' };
    assert.deepEqual(redactEvidence(ev), refEvidence(ev), k);
  }
  assert.deepEqual(redactEvidence({ password: 'hunter2', uri: '/a?token=abc' }), { password: REDACTED, uri: '/a?token=<redacted>' });
});
