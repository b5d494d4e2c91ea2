// The compact per-exchange record the cross-exchange checks share (401 correlation, GET vs POST,
// body expected): names, numbers and interned string arrays only, never bodies or header arrays.
// Also learns "user in the URL path" endpoint shapes (/customerabc/customerabc.sms) from accepted
// requests so that /customerzzz/customerzzz.sms is seen as the same endpoint.

import type { CredentialKind, ExchangeContext, Timestamp } from '../types.js';
import { endpointText } from '../types.js';
import type { Challenge } from './challenge.js';
import type { CredentialScan } from './credentials.js';
import { fieldKeys } from './credentials.js';
import { formNames, header, isAccepted, isChallengeStatus, sipCallId, sipCSeq, sipHeader, sipUriUser, uriPath, uriQuery } from './http-util.js';

export interface ChallengeInfo {
  schemes: string[];
  realm?: string;
  stale?: boolean;
}

export type UserFrom = 'credentials' | 'path' | 'sip-from' | null;

// Bits of a summary's `bits` column: the booleans and small enums, then how its times are stored.
const B_SIP = 1;
const B_ACCEPTED = 2;
const B_BODY = 4;
const B_HANDSHAKE = 8;
const USER_FROM_SHIFT = 4; // 2 bits
const CRED_SHIFT = 6; // 4 bits
const B_T_APART = 1 << 10; // the request time is in `apart` (its digits or nsec do not pack)
const B_R_APART = 1 << 11; // likewise the response time
const B_R_NONE = 1 << 12; // unanswered
const DIGITS_SHIFT = 13; // 4 bits each (request, response): captures have 0..9 fraction digits
const USER_FROMS: UserFrom[] = [null, 'credentials', 'path', 'sip-from'];
const CRED_KINDS: (CredentialKind | null)[] = [null, 'basic', 'digest', 'bearer', 'ntlm', 'negotiate', 'header', 'form', 'query', 'other'];
const NONE = -1;

/** A timestamp packs into 4 bits of digits, a float64 of seconds and an int32 of nanoseconds. */
function packable(t: Timestamp): boolean {
  return t.digits >= 0 && t.digits <= 15 && Number.isInteger(t.digits) && (t.nsec | 0) === t.nsec;
}

/** A growable typed array (doubling; the table only appends). */
class Column<A extends Int32Array | Float64Array> {
  a: A;
  constructor(private make: (n: number) => A) {
    this.a = make(1024);
  }
  set(i: number, v: number): void {
    if (i >= this.a.length) {
      const next = this.make(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[i] = v;
  }
}
const i32 = () => new Column((n) => new Int32Array(n));
const f64 = () => new Column((n) => new Float64Array(n));

/**
 * The summaries' storage: one typed-array column per field (about 90 bytes per exchange instead of a
 * 250-byte object), strings and string arrays as ids into interned tables, and the rare values that
 * do not fit a column (ids that are not "x<n>", odd timestamps, SIP Call-IDs) in side maps.
 */
class SummaryTable {
  size = 0;
  readonly bits = i32();
  /** n of an "x<n>" id, or NONE (the id is in `ids`). */
  readonly idNum = i32();
  readonly stream = f64(); // NaN: null
  readonly client = i32();
  readonly server = i32();
  readonly host = i32(); // NONE: null
  readonly method = i32();
  readonly path = i32();
  readonly query = i32(); // array id, NONE: null
  readonly status = f64(); // NaN: null
  readonly reqFrame = f64();
  readonly resFrame = f64(); // NaN: null
  readonly tSec = f64();
  readonly tNsec = i32();
  readonly rSec = f64();
  readonly rNsec = i32();
  readonly user = i32(); // NONE: null
  readonly present = i32(); // array id
  readonly empty = i32(); // array id
  readonly challenge = i32(); // NONE: null
  readonly ids = new Map<number, string>();
  readonly apart = new Map<number, { t?: Timestamp; r?: Timestamp }>();
  readonly sip = new Map<number, { callId: string | null; cseq: number | null }>();
  /** Interned strings, string arrays and challenge descriptions, by id. */
  readonly strings: string[] = [];
  readonly arrays: string[][] = [EMPTY];
  readonly challenges: ChallengeInfo[] = [];
}

/**
 * One exchange's compact record (what finish() needs), read from the store's columns: a view of two
 * fields, made when asked for. Strings and arrays are the interned ones, so equal values are the same
 * object; `seq` is the exchange's place in the store.
 */
export class ExchangeSummary {
  constructor(
    private readonly t: SummaryTable,
    readonly seq: number,
  ) {}

  private get bits(): number {
    return this.t.bits.a[this.seq];
  }
  get protocol(): 'http' | 'sip' {
    return this.bits & B_SIP ? 'sip' : 'http';
  }
  /** 2xx/3xx and the body does not refuse at application level (e.g. an OPS response_code 555). */
  get accepted(): boolean {
    return (this.bits & B_ACCEPTED) !== 0;
  }
  get hasBody(): boolean {
    return (this.bits & B_BODY) !== 0;
  }
  get id(): string {
    const n = this.t.idNum.a[this.seq];
    return n === NONE ? this.t.ids.get(this.seq)! : `x${n}`;
  }
  /** A 401/407 that is a leg of an NTLM/Negotiate handshake (the server's token answers the client's). */
  get handshake(): boolean {
    return (this.bits & B_HANDSHAKE) !== 0;
  }
  /** Where `user` came from. */
  get userFrom(): UserFrom {
    return USER_FROMS[(this.bits >> USER_FROM_SHIFT) & 3];
  }
  get credKind(): CredentialKind | null {
    return CRED_KINDS[(this.bits >> CRED_SHIFT) & 15];
  }
  get stream(): number | null {
    const v = this.t.stream.a[this.seq];
    return v !== v ? null : v;
  }
  /** Client IP address as seen on the wire. */
  get client(): string {
    return this.t.strings[this.t.client.a[this.seq]];
  }
  /** Server "ip:port". */
  get server(): string {
    return this.t.strings[this.t.server.a[this.seq]];
  }
  get host(): string | null {
    const v = this.t.host.a[this.seq];
    return v === NONE ? null : this.t.strings[v];
  }
  get method(): string {
    return this.t.strings[this.t.method.a[this.seq]];
  }
  /** Path without query (HTTP) or Request-URI without parameters (SIP). */
  get path(): string {
    return this.t.strings[this.t.path.a[this.seq]];
  }
  /** Names of the query parameters (only kept for GET requests with a query). */
  get queryNames(): string[] | null {
    const v = this.t.query.a[this.seq];
    return v === NONE ? null : this.t.arrays[v];
  }
  get status(): number | null {
    const v = this.t.status.a[this.seq];
    return v !== v ? null : v;
  }
  get reqFrame(): number {
    return this.t.reqFrame.a[this.seq];
  }
  get resFrame(): number | null {
    const v = this.t.resFrame.a[this.seq];
    return v !== v ? null : v;
  }
  /** Request time. */
  get time(): Timestamp {
    const b = this.bits;
    if (b & B_T_APART) return this.t.apart.get(this.seq)!.t!;
    return { sec: this.t.tSec.a[this.seq], nsec: this.t.tNsec.a[this.seq], digits: (b >> DIGITS_SHIFT) & 15 };
  }
  /** Response time (null when unanswered). */
  get resTime(): Timestamp | null {
    const b = this.bits;
    if (b & B_R_NONE) return null;
    if (b & B_R_APART) return this.t.apart.get(this.seq)!.r!;
    return { sec: this.t.rSec.a[this.seq], nsec: this.t.rNsec.a[this.seq], digits: (b >> (DIGITS_SHIFT + 4)) & 15 };
  }
  /** User named by the credentials (or, failing that, the URL path shape or SIP From). */
  get user(): string | null {
    const v = this.t.user.a[this.seq];
    return v === NONE ? null : this.t.strings[v];
  }
  /** Credential field keys present with a value, and present but empty (see credentials.fieldKeys); interned. */
  get present(): string[] {
    return this.t.arrays[this.t.present.a[this.seq]];
  }
  get empty(): string[] {
    return this.t.arrays[this.t.empty.a[this.seq]];
  }
  /** For 401/407: the challenge the response carried. */
  get challenge(): ChallengeInfo | null {
    const v = this.t.challenge.a[this.seq];
    return v === NONE ? null : this.t.challenges[v];
  }
  /** SIP Call-ID and CSeq number (null for HTTP). */
  get callId(): string | null {
    return this.t.sip.get(this.seq)?.callId ?? null;
  }
  get cseq(): number | null {
    return this.t.sip.get(this.seq)?.cseq ?? null;
  }

  /**
   * compareTime(this.resTime ?? this.time, o.resTime ?? o.time) without making the Timestamps:
   * negative when this exchange's last event comes first.
   */
  compareEventTime(o: ExchangeSummary): number {
    const a = this.eventTime();
    const b = o.eventTime();
    return a.sec - b.sec || a.nsec - b.nsec;
  }
  private eventTime(): Timestamp {
    return this.resTime ?? this.time;
  }
}

/**
 * Stores row i's request ('t') or response ('r') time in its seconds/nanoseconds columns, or in the side
 * map when it does not pack (null: unanswered, zeros); gives the bits that say which, with its digits.
 */
function putTime(t: SummaryTable, i: number, time: Timestamp | null, which: 't' | 'r'): number {
  const req = which === 't';
  const sec = req ? t.tSec : t.rSec;
  const nsec = req ? t.tNsec : t.rNsec;
  if (time !== null && packable(time)) {
    sec.set(i, time.sec);
    nsec.set(i, time.nsec);
    return time.digits << (req ? DIGITS_SHIFT : DIGITS_SHIFT + 4);
  }
  sec.set(i, 0);
  nsec.set(i, 0);
  if (time === null) return 0;
  const a = t.apart.get(i);
  if (a) a[which] = time;
  else t.apart.set(i, { [which]: time });
  return req ? B_T_APART : B_R_APART;
}

/** n for an id "x<n>" that `x${n}` gives back exactly (no leading zero, fits an int32), else null. */
function idNumber(id: string): number | null {
  const len = id.length;
  if (len < 2 || len > 10 || id.charCodeAt(0) !== 0x78) return null;
  let n = 0;
  for (let i = 1; i < len; i++) {
    const c = id.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9 || (i === 1 && c === 0 && len > 2)) return null;
    n = n * 10 + c;
  }
  return n <= 0x7fffffff ? n : null;
}

const EMPTY: string[] = [];
/** The empty array's id: the table's first array. */
const EMPTY_ID = 0;

interface PathTemplate {
  template: string;
  re: RegExp;
}

/** Nested string -> string map with a size bound (for derived keys built from interned parts). */
type Memo2 = Map<string, Map<string, string>>;

export class ExchangeStore {
  private t = new SummaryTable();
  /** Views of every summary, made once when finish() first asks (see `list`). */
  private views: ExchangeSummary[] = [];
  /** String -> id in the table (bounded: past the bound, new strings get an id of their own each time). */
  private stringIds = new Map<string, number>();
  private arrayIds = new Map<string, number>([['', EMPTY_ID]]);
  private challengeIds = new Map<string, number>();
  private templates = new Map<string, PathTemplate>();
  /** path -> matching shape (null: none), cleared whenever a shape is learned. */
  private matchCache = new Map<string, { template: string; user: string } | null>();
  private static readonly MAX_TEMPLATES = 256;
  /** Server "ip:port" ids, per ip then port (bounded like the interned strings). */
  private serverIds = new Map<string, Map<number, number>>();
  /** endpointKey per method, then path (interned strings): saves a string per lookup in finish(). */
  private keyCache: Memo2 = new Map();
  private keyCacheSize = 0;
  /** "METHOD path" per method, then path (never depends on the learned shapes). */
  private shownCache: Memo2 = new Map();
  private shownCacheSize = 0;
  /** (path, user) pairs learnTemplate has already seen: learning again is a no-op. */
  private learned = new Map<string, Set<string>>();
  private learnedSize = 0;
  /** Request URI -> path, for the URIs without a query (they repeat). */
  private paths = new Map<string, string>();

  /** Number of summaries. */
  get size(): number {
    return this.t.size;
  }

  /** Every summary in the order they were added (views made once, for the cross-exchange passes of finish()). */
  get list(): readonly ExchangeSummary[] {
    const v = this.views;
    for (let i = v.length; i < this.t.size; i++) v.push(new ExchangeSummary(this.t, i));
    return v;
  }

  private stringId(s: string): number {
    const v = this.stringIds.get(s);
    if (v !== undefined) return v;
    const id = this.t.strings.length;
    this.t.strings.push(s);
    if (this.stringIds.size < 100_000) this.stringIds.set(s, id);
    return id;
  }

  private intern(s: string): string {
    return this.t.strings[this.stringId(s)];
  }

  private serverId(ip: string, port: number): number {
    let m = this.serverIds.get(ip);
    const v = m?.get(port);
    if (v !== undefined) return v;
    const id = this.stringId(endpointText(ip, port));
    if (this.stringIds.size < 100_000) {
      if (!m) this.serverIds.set(ip, (m = new Map()));
      m.set(port, id);
    }
    return id;
  }

  private arrayId(a: string[]): number {
    const k = a.length === 0 ? '' : a.length === 1 ? `\u0001${a[0]}` : `\u0001${a.join('\u0000')}`;
    const v = this.arrayIds.get(k);
    if (v !== undefined) return v;
    const id = this.t.arrays.length;
    this.t.arrays.push(a.length === 0 ? EMPTY : a.map((x) => this.intern(x)));
    if (this.arrayIds.size < 10_000) this.arrayIds.set(k, id);
    return id;
  }

  private challengeId(schemes: string[], realm: string | undefined, stale: boolean): number {
    const sid = this.arrayId(schemes);
    const k = realm === undefined ? `${sid}|${stale ? 1 : 0}` : `${sid}|${stale ? 1 : 0}|${realm}`;
    const v = this.challengeIds.get(k);
    if (v !== undefined) return v;
    // Keys in the order schemes, realm, stale, as they are shown.
    const s = this.t.arrays[sid];
    const c: ChallengeInfo = realm === undefined ? (stale ? { schemes: s, stale } : { schemes: s }) : stale ? { schemes: s, realm: this.intern(realm), stale } : { schemes: s, realm: this.intern(realm) };
    const id = this.t.challenges.length;
    this.t.challenges.push(c);
    if (this.challengeIds.size < 10_000) this.challengeIds.set(k, id);
    return id;
  }

  /** HTTP path of a request URI (cached for URIs without a query, which repeat). */
  private httpPath(uri: string): string {
    const cached = this.paths.get(uri);
    if (cached !== undefined) return cached;
    const p = this.intern(uriPath(uri, 'http'));
    if (uri.indexOf('?') < 0 && this.paths.size < 10_000) this.paths.set(uri, p);
    return p;
  }

  /** "METHOD path" as shown in messages (interned strings in, one string per pair out). */
  endpointShown(s: ExchangeSummary): string {
    let m = this.shownCache.get(s.method);
    const k = m?.get(s.path);
    if (k !== undefined) return k;
    const shown = `${s.method} ${s.path}`;
    if (this.shownCacheSize < 100_000) {
      if (!m) this.shownCache.set(s.method, (m = new Map()));
      m.set(s.path, shown);
      this.shownCacheSize++;
    }
    return shown;
  }

  /**
   * Records an exchange (after its credentials were scanned) and returns its summary. `challenges`:
   * the response's challenges for a 401/407 (responseChallenges), else none.
   */
  add(ctx: ExchangeContext, scan: CredentialScan, appRefused: boolean, challenges: Challenge[]): ExchangeSummary {
    const ex = ctx.exchange;
    const req = ctx.req;
    const protocol = ex.protocol;
    const method = this.intern((req.method ?? ex.request.method).toUpperCase());
    const uri = req.uri ?? ex.request.uri;
    const path = protocol === 'http' ? this.httpPath(uri) : this.intern(uriPath(uri, protocol));
    let user = scan.credentials?.user ?? null;
    let userFrom: UserFrom = user ? 'credentials' : null;
    const status = ctx.res?.status ?? ex.response?.status ?? null;
    const accepted = isAccepted(status) && !appRefused;
    if (protocol === 'http' && user && accepted) this.learnOnce(path, user);
    if (!user && protocol === 'http') {
      const t = this.matchTemplate(path);
      if (t) {
        user = t.user;
        userFrom = 'path';
      }
    }
    if (!user && protocol === 'sip') {
      user = sipUriUser(sipHeader(req.headers, 'from'));
      if (user) userFrom = 'sip-from';
    }
    let query = NONE;
    if (protocol === 'http' && method === 'GET') {
      const q = uriQuery(uri);
      if (q) query = this.arrayId(formNames(q));
    }
    let challenge = NONE;
    let token68 = false;
    if (ctx.res && isChallengeStatus(status) && challenges.length > 0) {
      const names: string[] = [];
      let realm: string | undefined;
      let stale = false;
      for (const c of challenges) {
        if (!names.includes(c.scheme)) names.push(c.scheme);
        if (c.realm !== undefined && realm === undefined) realm = c.realm;
        if (c.stale) stale = true;
        if (c.token68 !== undefined) token68 = true;
      }
      challenge = this.challengeId(names, realm, stale);
    }
    let present = EMPTY_ID;
    let empty = EMPTY_ID;
    if (scan.fields.length > 0) {
      const k = fieldKeys(scan.fields);
      present = this.arrayId(k.present);
      empty = this.arrayId(k.empty);
    }
    let handshake = false;
    if (token68) {
      for (const f of scan.fields) {
        if ((f.location === 'authorization' || f.location === 'proxy-authorization') && (f.scheme === 'ntlm' || f.scheme === 'negotiate')) {
          handshake = true;
          break;
        }
      }
    }
    const t = this.t;
    const i = t.size++;
    const time = ctx.time;
    const resTime = ctx.res?.time ?? null;
    const credKind = scan.credentials?.kind ?? null;
    let bits =
      (protocol === 'sip' ? B_SIP : 0) |
      (accepted ? B_ACCEPTED : 0) |
      (req.bodyLength > 0 ? B_BODY : 0) |
      (handshake ? B_HANDSHAKE : 0) |
      (USER_FROMS.indexOf(userFrom) << USER_FROM_SHIFT) |
      (CRED_KINDS.indexOf(credKind) << CRED_SHIFT);
    bits |= putTime(t, i, time, 't') | putTime(t, i, resTime, 'r');
    if (resTime === null) bits |= B_R_NONE;
    t.bits.set(i, bits);
    const n = idNumber(ex.id);
    t.idNum.set(i, n ?? NONE);
    if (n === null) t.ids.set(i, ex.id);
    t.stream.set(i, ex.stream ?? NaN);
    t.client.set(i, this.stringId(ctx.clientIp));
    t.server.set(i, this.serverId(ctx.serverIp, ctx.serverPort));
    const host = protocol === 'http' ? header(req.headers, 'host') : undefined;
    t.host.set(i, host === undefined ? NONE : this.stringId(host.trim()));
    t.method.set(i, this.stringId(method));
    t.path.set(i, this.stringId(path));
    t.query.set(i, query);
    t.status.set(i, status ?? NaN);
    t.reqFrame.set(i, ex.request.frame);
    t.resFrame.set(i, ex.response?.frame ?? NaN);
    t.user.set(i, user === null ? NONE : this.stringId(user));
    t.present.set(i, present);
    t.empty.set(i, empty);
    t.challenge.set(i, challenge);
    if (protocol === 'sip') t.sip.set(i, { callId: sipCallId(req) ?? null, cseq: sipCSeq(req)?.seq ?? null });
    return new ExchangeSummary(t, i);
  }

  /** learnTemplate, skipped for a (path, user) pair already seen: the second time never learns anything. */
  private learnOnce(path: string, user: string): void {
    let users = this.learned.get(path);
    if (users?.has(user)) return;
    this.learnTemplate(path, user);
    if (this.learnedSize < 100_000) {
      if (!users) this.learned.set(path, (users = new Set()));
      users.add(user);
      this.learnedSize++;
    }
  }

  /** Learns "/{user}/{user}.sms"-like shapes from an accepted request whose path names its user. */
  learnTemplate(path: string, user: string): void {
    if (this.templates.size >= ExchangeStore.MAX_TEMPLATES || user.length < 2 || /[/?#]/.test(user)) return;
    const u = user.toLowerCase();
    let replaced = 0;
    const segs = path.split('/').map((seg) => {
      const low = seg.toLowerCase();
      if (low === u) {
        replaced++;
        return '{user}';
      }
      const dot = low.lastIndexOf('.');
      if (dot > 0 && low.slice(0, dot) === u) {
        replaced++;
        return `{user}${seg.slice(dot)}`;
      }
      return seg;
    });
    if (replaced === 0) return;
    const template = segs.join('/');
    // There must be something literal besides the user, or every path would match.
    if (template.replace(/\{user\}/g, '').replace(/\//g, '') === '') return;
    if (this.templates.has(template)) return;
    let first = true;
    const src = template
      .split('{user}')
      .map((lit) => lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .reduce((acc, lit, i) => {
        if (i === 0) return lit;
        const g = first ? '([^/]+)' : '\\1';
        first = false;
        return acc + g + lit;
      }, '');
    this.templates.set(template, { template, re: new RegExp(`^${src}$`) });
    this.matchCache.clear();
    this.keyCache.clear();
    this.keyCacheSize = 0;
  }

  /** The learned shape a path fits, with the user it names. */
  matchTemplate(path: string): { template: string; user: string } | null {
    if (this.templates.size === 0) return null;
    const c = this.matchCache.get(path);
    if (c !== undefined) return c;
    let r: { template: string; user: string } | null = null;
    for (const t of this.templates.values()) {
      const m = t.re.exec(path);
      if (m) {
        r = { template: t.template, user: m[1] };
        break;
      }
    }
    if (this.matchCache.size >= 100_000) this.matchCache.clear();
    this.matchCache.set(path, r);
    return r;
  }

  /** Path used to group a request into an endpoint: its learned shape, else the path itself. */
  endpointPath(s: ExchangeSummary): string {
    if (s.protocol !== 'http') return s.path;
    return this.matchTemplate(s.path)?.template ?? s.path;
  }

  endpointKey(s: ExchangeSummary): string {
    if (s.protocol !== 'http') return `${s.method} ${s.path}`;
    let m = this.keyCache.get(s.method);
    const k = m?.get(s.path);
    if (k !== undefined) return k;
    const key = `${s.method} ${this.endpointPath(s)}`;
    if (this.keyCacheSize < 100_000) {
      if (!m) this.keyCache.set(s.method, (m = new Map()));
      m.set(s.path, key);
      this.keyCacheSize++;
    }
    return key;
  }

  /** Summaries grouped by endpoint key (method + path/shape), each in capture order. */
  byEndpoint(): Map<string, ExchangeSummary[]> {
    const m = new Map<string, ExchangeSummary[]>();
    for (const s of this.list) {
      const k = this.endpointKey(s);
      const l = m.get(k);
      if (l) l.push(s);
      else m.set(k, [s]);
    }
    return m;
  }
}
