// Findings and 401-summary groups as JSON report text, written straight into a JsonSink: the same bytes
// as JSON.stringify (2-space indent, at the report's depth) of orderFinding / orderUnauthorizedGroup
// with safeJsonText's escapes, without the ordered copy, the wrapper object or a pass over the text.
// Redaction gives redactFindingForJson's result: evidence is written as it is while being checked for
// anything redactEvidence could change (the usual case: nothing), strings scrubbed of the exchange's
// known secrets on the way; when there is something, it is redacted with redactEvidence and written
// again. What the direct writer does not handle exactly (toJSON, class instances, Dates, BigInt,
// cycles, keys that object literals or JSON.stringify treat specially) takes the generic path.

import type { Finding } from '../types.js';
import { JsonSink } from './exchange-json.js';
import { orderFinding, orderUnauthorizedGroup } from './json.js';
import { isSecretEvidenceKey, isSecretHeader, isStructuralKey, redactEvidence, redactFindingForJson, SecretSet } from './redact.js';
import { safeJsonString, safeJsonText } from './sanitize.js';

type Obj = Record<string, unknown>;

/** Thrown (and caught here) when a value needs the generic path. */
const GENERIC = new Error('authcap: generic JSON path');

/** How many findings and groups took the generic path (for tests: the direct writer must be the usual one). */
let genericCount = 0;

export function genericPathCount(): number {
  return genericCount;
}

/** Nesting below this depth takes the generic path (which also reports cycles as JSON.stringify does). */
const MAX_DEPTH = 64;

// ------------------------------------------------------------------ key orders, read from json.ts

/**
 * What an ordering function of json.ts does with an object's keys: `fixed` first in that order (then the
 * other keys, sorted), and which of them have their object value ordered too (by `nested`). Read by
 * running it on a probe object, so this file and json.ts cannot disagree on the order.
 */
interface Order {
  fixed: string[];
  index: Map<string, number>;
  nested: Set<string>;
  nestedOrder: Order | null;
}

/** Sorts before any other key, so the keys of an ordered probe before it are the fixed ones. */
const FIRST = '\u0000';

function probeOrder(order: (o: Obj) => Obj, candidates: readonly string[], nestedCandidates: readonly string[] = []): Order {
  const probe: Obj = {};
  for (let i = candidates.length - 1; i >= 0; i--) {
    const sub: Obj = {};
    for (let j = nestedCandidates.length - 1; j >= 0; j--) sub[nestedCandidates[j]] = 0;
    sub[FIRST] = 0;
    probe[candidates[i]] = sub;
  }
  probe[FIRST] = 0;
  const out = order(probe);
  const keys = Object.keys(out);
  const fixed = keys.slice(0, keys.indexOf(FIRST));
  const nested = new Set(fixed.filter((k) => out[k] !== probe[k]));
  let nestedOrder: Order | null = null;
  for (const k of nested) {
    const sub = Object.keys(out[k] as Obj);
    const order2 = sub.slice(0, sub.indexOf(FIRST));
    nestedOrder = { fixed: order2, index: indexOf(order2), nested: new Set(), nestedOrder: null };
  }
  return { fixed, index: indexOf(fixed), nested, nestedOrder };
}

function indexOf(keys: string[]): Map<string, number> {
  return new Map(keys.map((k, i) => [k, i]));
}

const FINDING = probeOrder((o) => orderFinding(o as unknown as Finding), ['code', 'severity', 'message', 'exchange', 'stream', 'frames', 'filter', 'evidence']);
const GROUP = probeOrder(
  orderUnauthorizedGroup,
  ['endpoint', 'server', 'host', 'client', 'user', 'accepted', 'refused', 'firstRefusal', 'lastRefusal', 'lastAcceptedBeforeRefusal', 'reasons'],
  ['time', 'frame', 'exchange'],
);
const EVIDENCE_AT = FINDING.index.get('evidence') ?? -1;
if (FINDING.fixed.length > 30 || GROUP.fixed.length > 30) throw new Error('internal: too many fixed keys for a bit mask');

// ------------------------------------------------------------------ bytes

/** A few pre-encoded bytes (JsonSink.bytes with a byte loop, cheaper than Buffer.set for so few). */
function put(s: JsonSink, u: Uint8Array): void {
  const n = u.length;
  s.reserve(n);
  const b = s.buf;
  const p = s.pos;
  for (let i = 0; i < n; i++) b[p + i] = u[i];
  s.pos = p + n;
}

function bytes(t: string): Uint8Array {
  return Uint8Array.from(Buffer.from(t, 'utf8'));
}

const NULL = bytes('null');
const TRUE = bytes('true');
const FALSE = bytes('false');
const EMPTY_ARRAY = bytes('[]');
const EMPTY_OBJECT = bytes('{}');

/** The punctuation around items at one indentation (n spaces): what comes before the first and the others, and after the last. */
interface Punct {
  /** "{" / "[" / "," then a newline and n spaces. */
  objectOpen: Uint8Array;
  arrayOpen: Uint8Array;
  next: Uint8Array;
  /** A newline and n - 2 spaces, then "}" / "]". */
  objectClose: Uint8Array;
  arrayClose: Uint8Array;
}

const PUNCT: Punct[] = [];

/** Punctuation for items indented by n spaces (n >= 2). */
function punct(n: number): Punct {
  let p = PUNCT[n];
  if (p === undefined) {
    const nl = `\n${' '.repeat(n)}`;
    const back = `\n${' '.repeat(n - 2)}`;
    p = { objectOpen: bytes(`{${nl}`), arrayOpen: bytes(`[${nl}`), next: bytes(`,${nl}`), objectClose: bytes(`${back}}`), arrayClose: bytes(`${back}]`) };
    PUNCT[n] = p;
  }
  return p;
}

/** What the writer needs to know about a key, worked out once per name (a few hundred names in practice). */
interface KeyInfo {
  /** `"key": ` as safeJson writes it, as UTF-8. */
  bytes: Uint8Array;
  /** Strings under it are left unscrubbed (isStructuralKey). */
  structural: boolean;
  /** redactEvidence redacts whatever is under it (isSecretEvidenceKey). */
  secret: boolean;
  /** A string under it is a header value to redact (isSecretHeader). */
  header: boolean;
}

const keyInfos = new Map<string, KeyInfo>();

function keyInfo(k: string): KeyInfo {
  let info = keyInfos.get(k);
  if (info === undefined) {
    info = { bytes: bytes(`${safeJsonString(k)}: `), structural: isStructuralKey(k), secret: isSecretEvidenceKey(k), header: isSecretHeader(k) };
    if (keyInfos.size >= 4096) keyInfos.clear();
    keyInfos.set(k, info);
  }
  return info;
}

// ------------------------------------------------------------------ values

/**
 * Thrown (and caught here) by the writer checking evidence for redaction (`check`) when it meets
 * something redactEvidence may change or collect a secret from: a secret evidence key, a string under
 * a secret header name, a string under a key with a "?" or "@" (redactUri leaves any other text as it
 * is), an array in an array (header pairs). Past those, redactEvidence gives a copy with the same JSON.
 */
const REDACT = new Error('authcap: evidence to redact');

/**
 * A value as JSON.stringify writes it with `indent` spaces before its line, then safeJsonText; with
 * `secrets`, strings are scrubbed as scrubValue(v, secrets, key) scrubs them. `v` is not undefined, a
 * function or a symbol (the caller leaves those out or writes null). `key`: the value's key, when in
 * an object.
 */
function writeValue(s: JsonSink, v: unknown, key: KeyInfo | undefined, indent: number, secrets: SecretSet | undefined, depth: number, check: boolean): void {
  switch (typeof v) {
    case 'string':
      if (check && key !== undefined && (key.header || v.indexOf('?') >= 0 || v.indexOf('@') >= 0)) throw REDACT;
      s.str(secrets !== undefined && (key === undefined || !key.structural) ? secrets.scrub(v) : v);
      return;
    case 'number':
      s.num(v);
      return;
    case 'boolean':
      put(s, v ? TRUE : FALSE);
      return;
    case 'object':
      if (v === null) {
        put(s, NULL);
        return;
      }
      if (depth >= MAX_DEPTH) throw GENERIC;
      if (Array.isArray(v)) writeArray(s, v, indent, secrets, depth, check);
      else writeObject(s, v as Obj, indent, secrets, depth, check);
      return;
    default:
      throw GENERIC; // bigint: JSON.stringify throws, the generic path does it
  }
}

function writeArray(s: JsonSink, a: unknown[], indent: number, secrets: SecretSet | undefined, depth: number, check: boolean): void {
  if (Object.getPrototypeOf(a) !== Array.prototype || (a as unknown as Obj).toJSON !== undefined) throw GENERIC;
  const n = a.length;
  if (n === 0) {
    put(s, EMPTY_ARRAY);
    return;
  }
  const p = punct(indent + 2);
  for (let i = 0; i < n; i++) {
    put(s, i === 0 ? p.arrayOpen : p.next);
    const x = a[i];
    const t = typeof x;
    if (x === undefined || t === 'function' || t === 'symbol') put(s, NULL);
    else {
      if (check && Array.isArray(x)) throw REDACT;
      writeValue(s, x, undefined, indent + 2, secrets, depth + 1, check);
    }
  }
  put(s, p.arrayClose);
}

/** A plain object in its own key order (as JSON.stringify walks it). */
function writeObject(s: JsonSink, o: Obj, indent: number, secrets: SecretSet | undefined, depth: number, check: boolean): void {
  const proto = Object.getPrototypeOf(o);
  if ((proto !== Object.prototype && proto !== null) || o.toJSON !== undefined) throw GENERIC;
  const keys = Object.keys(o);
  const p = punct(indent + 2);
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '__proto__') throw GENERIC;
    first = member(s, first, k, o[k], indent + 2, secrets, depth + 1, check);
  }
  put(s, first ? EMPTY_OBJECT : p.objectClose);
}

/** One property (nothing when JSON.stringify leaves it out); returns whether none is written yet. */
function member(s: JsonSink, first: boolean, k: string, v: unknown, indent: number, secrets: SecretSet | undefined, depth: number, check: boolean): boolean {
  const info = keyInfo(k);
  if (check && info.secret) throw REDACT;
  const t = typeof v;
  if (v === undefined || t === 'function' || t === 'symbol') return first;
  put(s, first ? punct(indent).objectOpen : punct(indent).next);
  put(s, info.bytes);
  writeValue(s, v, info, indent, secrets, depth, check);
  return false;
}

/**
 * The own keys of `o` split as an ordering function of json.ts orders them: a bit per fixed key present,
 * and the other keys sorted. Throws GENERIC where the ordered copy would differ from that (a fixed key
 * that is inherited or not enumerable, a key an object literal or JSON.stringify treats specially).
 */
function splitKeys(o: Obj, order: Order): { present: number; rest: string[] | null } {
  const keys = Object.keys(o);
  let present = 0;
  let rest: string[] | null = null;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const at = order.index.get(k);
    if (at !== undefined) present |= 1 << at;
    else {
      // Index-like keys come first in an object, "__proto__" sets the copy's prototype, "toJSON" is called.
      const c = k.charCodeAt(0);
      if ((c >= 0x30 && c <= 0x39) || k === '__proto__' || k === 'toJSON') throw GENERIC;
      (rest ??= []).push(k);
    }
  }
  for (let i = 0; i < order.fixed.length; i++) if (!(present & (1 << i)) && order.fixed[i] in o) throw GENERIC;
  if (rest && rest.length > 1) rest.sort();
  return { present, rest };
}

/**
 * An object as JSON.stringify writes its ordered copy (fixed keys, then the others sorted), the values
 * of `order.nested` keys ordered too when truthy. For a finding, `evidence` (when given) stands for
 * o.evidence, and `check` applies to it.
 */
function writeOrdered(s: JsonSink, o: Obj, order: Order, indent: number, secrets: SecretSet | undefined, depth: number, evidence?: unknown, check = false): void {
  const { present, rest } = splitKeys(o, order);
  const p = punct(indent + 2);
  let first = true;
  const fixed = order.fixed;
  for (let i = 0; i < fixed.length; i++) {
    if (!(present & (1 << i))) continue;
    const k = fixed[i];
    if (i === EVIDENCE_AT && order === FINDING) {
      first = member(s, first, k, evidence !== undefined ? evidence : o[k], indent + 2, secrets, depth + 1, check);
      continue;
    }
    const v = o[k];
    if (v && order.nested.has(k)) {
      if (typeof v !== 'object' || depth + 1 >= MAX_DEPTH) throw GENERIC;
      put(s, first ? p.objectOpen : p.next);
      first = false;
      put(s, keyInfo(k).bytes);
      writeOrdered(s, v as Obj, order.nestedOrder!, indent + 2, secrets, depth + 1);
    } else first = member(s, first, k, v, indent + 2, secrets, depth + 1, false);
  }
  if (rest) for (const k of rest) first = member(s, first, k, o[k], indent + 2, secrets, depth + 1, false);
  put(s, first ? EMPTY_OBJECT : p.objectClose);
}

// ------------------------------------------------------------------ redaction

/** Whether redactFindingForJson copies f shallowly (its other fields primitives or arrays of them). */
function isFlatFinding(f: Obj): boolean {
  if (Object.getPrototypeOf(f) !== Object.prototype) return false;
  const keys = Object.keys(f);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === 'evidence') continue;
    const v = f[k];
    if (isPrimitive(v)) continue;
    if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
    for (let i = 0; i < v.length; i++) if (!isPrimitive(v[i])) return false;
  }
  return true;
}

function isPrimitive(v: unknown): boolean {
  const t = typeof v;
  return v === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined';
}

// ------------------------------------------------------------------ entry points

/** Where a finding sits in the report's "findings" array. */
const FINDING_INDENT = 4;
/** Where a 401 group sits in the report ("unauthorized": {"groups": [...]}). */
const GROUP_INDENT = 6;
const FINDINGS_OPEN = '{\n  "findings": [\n';
const FINDINGS_CLOSE = '\n  ]\n}';
const FINDING_PAD = bytes(' '.repeat(FINDING_INDENT));
const GROUP_PAD = bytes(' '.repeat(GROUP_INDENT));

/**
 * The generic path: one finding's text in the report's "findings" array as JSON.stringify of the whole
 * report writes it (4-space indent, no separator), terminal-unsafe characters escaped.
 */
export function genericFindingJsonText(f: Finding, redact: boolean, known: readonly string[]): string {
  const shown = redact ? redactFindingForJson(f, known) : f;
  const wrapped = safeJsonText(JSON.stringify({ findings: [orderFinding(shown)] }, null, 2));
  return wrapped.slice(FINDINGS_OPEN.length, wrapped.length - FINDINGS_CLOSE.length);
}

/**
 * writeFindingJson: the finding's text (genericFindingJsonText's bytes) as UTF-8 at the end of `sink`,
 * redacted as redactFindingForJson(f, known) when `redact`.
 */
export function writeFindingJson(sink: JsonSink, f: Finding, redact: boolean, known: readonly string[]): void {
  const start = sink.pos;
  try {
    const o = f as unknown as Obj;
    put(sink, FINDING_PAD);
    if (!redact) {
      writeOrdered(sink, o, FINDING, FINDING_INDENT, undefined, 0);
      return;
    }
    if (!isFlatFinding(o)) throw GENERIC;
    // redactFindingForJson's copy always has evidence (and only own enumerable keys, as splitKeys checks).
    if (!('evidence' in o)) throw GENERIC;
    let secrets: SecretSet | undefined;
    if (known.length) {
      secrets = new SecretSet();
      for (const v of known) secrets.add(v);
      if (secrets.values.size === 0) secrets = undefined;
    }
    const evidence: unknown = f.evidence ?? {};
    try {
      // Usually nothing in the evidence is to be redacted: it is written as it is, checked on the way.
      writeOrdered(sink, o, FINDING, FINDING_INDENT, secrets, 0, evidence, true);
      return;
    } catch (e) {
      if (e !== REDACT) throw e;
    }
    // Something to redact: redactFindingForJson's steps (the known secrets, then those the evidence has).
    sink.pos = start;
    put(sink, FINDING_PAD);
    const found = new SecretSet();
    for (const v of known) found.add(v);
    const shown = redactEvidence(evidence, found);
    writeOrdered(sink, o, FINDING, FINDING_INDENT, found.values.size ? found : undefined, 0, shown);
  } catch (e) {
    sink.pos = start;
    if (e !== GENERIC) throw e;
    genericCount++;
    sink.text(genericFindingJsonText(f, redact, known));
  }
}

/** The generic path for a 401 group: its text inside "unauthorized": {"groups": [...]} (6-space indent). */
export function genericGroupJsonText(g: unknown): string {
  const pad = ' '.repeat(GROUP_INDENT);
  return `${pad}${safeJsonText(JSON.stringify(orderUnauthorizedGroup(g), null, 2)).replace(/\n/g, `\n${pad}`)}`;
}

/** A 401 group's text (genericGroupJsonText's bytes) as UTF-8 at the end of `sink`. */
export function writeGroupJson(sink: JsonSink, g: unknown): void {
  const start = sink.pos;
  try {
    if (typeof g !== 'object' || g === null) throw GENERIC;
    put(sink, GROUP_PAD);
    writeOrdered(sink, g as Obj, GROUP, GROUP_INDENT, undefined, 0);
  } catch (e) {
    sink.pos = start;
    if (e !== GENERIC) throw e;
    genericCount++;
    sink.text(genericGroupJsonText(g));
  }
}
