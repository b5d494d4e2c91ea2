// The compact per-exchange record the cross-exchange checks share (401 correlation, GET vs POST,
// body expected): names, numbers and interned string arrays only, never bodies or header arrays.
// Also learns "user in the URL path" endpoint shapes (/customerabc/customerabc.sms) from accepted
// requests so that /customerzzz/customerzzz.sms is seen as the same endpoint.

import type { CredentialKind, ExchangeContext, Timestamp } from '../types.js';
import { endpointText } from '../types.js';
import { isoTime } from '../util/time.js';
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

// Bits of ExchangeSummary.flags: the rarely read boolean and small enums, with the two time precisions above them.
const F_HANDSHAKE = 1;
const USER_FROM_SHIFT = 1; // 2 bits
const CRED_SHIFT = 3; // 4 bits
const DIGITS_SHIFT = 7; // 8 bits each (request, response)
const USER_FROMS: UserFrom[] = [null, 'credentials', 'path', 'sip-from'];
const CRED_KINDS: (CredentialKind | null)[] = [null, 'basic', 'digest', 'bearer', 'ntlm', 'negotiate', 'header', 'form', 'query', 'other'];

/** A timestamp packs into flags + two numbers when its digits fit 8 bits (always, for captures: 0..9). */
function packable(t: Timestamp): boolean {
  return t.digits >= 0 && t.digits <= 255 && Number.isInteger(t.digits);
}

/**
 * The compact record of one exchange (what finish() needs): small fields only, all numbers, booleans,
 * interned strings or shared arrays. What the cross-exchange loops read on every exchange is a plain
 * field; what only findings read (id, times, user source, credential kind, handshake) is packed and
 * rebuilt by a getter: the id as its number, the times as numbers, the rest in one integer.
 */
export class ExchangeSummary {
  readonly seq: number;
  readonly protocol: 'http' | 'sip';
  /** 2xx/3xx and the body does not refuse at application level (e.g. an OPS response_code 555). */
  readonly accepted: boolean;
  readonly hasBody: boolean;
  /** Exchange id: n for "x<n>" (the builder's ids), else the id itself. */
  private readonly _id: number | string;
  private readonly flags: number;
  readonly stream: number | null;
  /** Client IP address as seen on the wire. */
  readonly client: string;
  /** Server "ip:port". */
  readonly server: string;
  readonly host: string | null;
  readonly method: string;
  /** Path without query (HTTP) or Request-URI without parameters (SIP). */
  readonly path: string;
  /** Names of the query parameters (only kept for GET requests with a query). */
  readonly queryNames: string[] | null;
  readonly status: number | null;
  readonly reqFrame: number;
  readonly resFrame: number | null;
  /** Request time: seconds and nanoseconds (or the Timestamp itself when its digits do not pack). */
  private readonly tSec: number | Timestamp;
  private readonly tNsec: number;
  /** Response time likewise (rSec null: unanswered). */
  private readonly rSec: number | Timestamp | null;
  private readonly rNsec: number;
  /** User named by the credentials (or, failing that, the URL path shape or SIP From). */
  readonly user: string | null;
  /** Credential field keys present with a value, and present but empty (see credentials.fieldKeys); interned. */
  readonly present: string[];
  readonly empty: string[];
  /** For 401/407: the challenge the response carried. */
  readonly challenge: ChallengeInfo | null;
  /** SIP Call-ID and CSeq number (null for HTTP). */
  readonly callId: string | null;
  readonly cseq: number | null;

  /** Arguments in field order; `handshake`, `userFrom` and `credKind` are packed (see the getters). */
  constructor(
    seq: number,
    protocol: 'http' | 'sip',
    accepted: boolean,
    hasBody: boolean,
    id: string,
    handshake: boolean,
    userFrom: UserFrom,
    credKind: CredentialKind | null,
    stream: number | null,
    client: string,
    server: string,
    host: string | null,
    method: string,
    path: string,
    queryNames: string[] | null,
    status: number | null,
    reqFrame: number,
    resFrame: number | null,
    time: Timestamp,
    resTime: Timestamp | null,
    user: string | null,
    present: string[],
    empty: string[],
    challenge: ChallengeInfo | null,
    callId: string | null,
    cseq: number | null,
  ) {
    this.seq = seq;
    this.protocol = protocol;
    this.accepted = accepted;
    this.hasBody = hasBody;
    this._id = idNumber(id) ?? id;
    const tp = packable(time);
    const rp = resTime === null || packable(resTime);
    this.flags =
      (handshake ? F_HANDSHAKE : 0) |
      (USER_FROMS.indexOf(userFrom) << USER_FROM_SHIFT) |
      (CRED_KINDS.indexOf(credKind) << CRED_SHIFT) |
      ((tp ? time.digits : 0) << DIGITS_SHIFT) |
      ((resTime !== null && rp ? resTime.digits : 0) << (DIGITS_SHIFT + 8));
    this.stream = stream;
    this.client = client;
    this.server = server;
    this.host = host;
    this.method = method;
    this.path = path;
    this.queryNames = queryNames;
    this.status = status;
    this.reqFrame = reqFrame;
    this.resFrame = resFrame;
    this.tSec = tp ? small(time.sec) : time;
    this.tNsec = tp ? small(time.nsec) : 0;
    this.rSec = resTime === null ? null : rp ? small(resTime.sec) : resTime;
    this.rNsec = resTime !== null && rp ? small(resTime.nsec) : 0;
    this.user = user;
    this.present = present;
    this.empty = empty;
    this.challenge = challenge;
    this.callId = callId;
    this.cseq = cseq;
  }

  get id(): string {
    const v = this._id;
    return typeof v === 'number' ? `x${v}` : v;
  }
  /** A 401/407 that is a leg of an NTLM/Negotiate handshake (the server's token answers the client's). */
  get handshake(): boolean {
    return (this.flags & F_HANDSHAKE) !== 0;
  }
  /** Where `user` came from. */
  get userFrom(): UserFrom {
    return USER_FROMS[(this.flags >> USER_FROM_SHIFT) & 3];
  }
  get credKind(): CredentialKind | null {
    return CRED_KINDS[(this.flags >> CRED_SHIFT) & 15];
  }
  /** Request time. */
  get time(): Timestamp {
    const s = this.tSec;
    return typeof s === 'number' ? { sec: s, nsec: this.tNsec, digits: (this.flags >> DIGITS_SHIFT) & 255 } : s;
  }
  /** Response time (null when unanswered). */
  get resTime(): Timestamp | null {
    const s = this.rSec;
    if (s === null) return null;
    return typeof s === 'number' ? { sec: s, nsec: this.rNsec, digits: (this.flags >> (DIGITS_SHIFT + 8)) & 255 } : s;
  }
  /**
   * compareTime(this.resTime ?? this.time, o.resTime ?? o.time) without making the Timestamps:
   * negative when this exchange's last event comes first.
   */
  compareEventTime(o: ExchangeSummary): number {
    return this.eventSec() - o.eventSec() || this.eventNsec() - o.eventNsec();
  }
  private eventSec(): number {
    const r = this.rSec;
    const t = r !== null ? r : this.tSec;
    return typeof t === 'number' ? t : t.sec;
  }
  private eventNsec(): number {
    const r = this.rSec;
    if (r !== null) return typeof r === 'number' ? this.rNsec : r.nsec;
    const t = this.tSec;
    return typeof t === 'number' ? this.tNsec : t.nsec;
  }
}

/** An integer that fits 32 bits as a small integer (stored inline, not as a boxed heap number); others as they are. */
function small(n: number): number {
  return (n | 0) === n ? n | 0 : n;
}

/** n for an id "x<n>" that `x${n}` gives back exactly (no leading zero, small integer), else null. */
function idNumber(id: string): number | null {
  const len = id.length;
  if (len < 2 || len > 10 || id.charCodeAt(0) !== 0x78) return null;
  let n = 0;
  for (let i = 1; i < len; i++) {
    const c = id.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9 || (i === 1 && c === 0 && len > 2)) return null;
    n = n * 10 + c;
  }
  return n;
}

const EMPTY: string[] = [];

interface PathTemplate {
  template: string;
  re: RegExp;
}

/** Nested string -> string map with a size bound (for derived keys built from interned parts). */
type Memo2 = Map<string, Map<string, string>>;

export class ExchangeStore {
  readonly list: ExchangeSummary[] = [];
  private strings = new Map<string, string>();
  private arrays = new Map<string, string[]>();
  private templates = new Map<string, PathTemplate>();
  /** path -> matching shape (null: none), cleared whenever a shape is learned. */
  private matchCache = new Map<string, { template: string; user: string } | null>();
  private static readonly MAX_TEMPLATES = 256;
  /** Server "ip:port" texts, per ip then port (bounded like the interned strings). */
  private serverTexts = new Map<string, Map<number, string>>();
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

  private intern(s: string): string {
    const v = this.strings.get(s);
    if (v !== undefined) return v;
    if (this.strings.size < 100_000) this.strings.set(s, s);
    return s;
  }

  private serverText(ip: string, port: number): string {
    let m = this.serverTexts.get(ip);
    const v = m?.get(port);
    if (v !== undefined) return v;
    const t = this.intern(endpointText(ip, port));
    if (this.strings.size < 100_000) {
      if (!m) this.serverTexts.set(ip, (m = new Map()));
      m.set(port, t);
    }
    return t;
  }

  private internArray(a: string[]): string[] {
    if (a.length === 0) return EMPTY;
    const k = a.length === 1 ? a[0] : a.join('\u0000');
    const v = this.arrays.get(k);
    if (v) return v;
    const frozen = a.map((x) => this.intern(x));
    if (this.arrays.size < 10_000) this.arrays.set(k, frozen);
    return frozen;
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
    let queryNames: string[] | null = null;
    if (protocol === 'http' && method === 'GET') {
      const q = uriQuery(uri);
      if (q) queryNames = this.internArray(formNames(q));
    }
    let challenge: ChallengeInfo | null = null;
    let token68 = false;
    if (ctx.res && isChallengeStatus(status) && challenges.length > 0) {
      // Built whole at the end (keys in the order schemes, realm, stale, as they are shown), with interned texts.
      const names: string[] = [];
      let realm: string | undefined;
      let stale = false;
      for (const c of challenges) {
        if (!names.includes(c.scheme)) names.push(c.scheme);
        if (c.realm !== undefined && realm === undefined) realm = c.realm;
        if (c.stale) stale = true;
        if (c.token68 !== undefined) token68 = true;
      }
      const schemes = this.internArray(names);
      if (realm === undefined) challenge = stale ? { schemes, stale } : { schemes };
      else {
        realm = this.intern(realm);
        challenge = stale ? { schemes, realm, stale } : { schemes, realm };
      }
    }
    let present = EMPTY;
    let empty = EMPTY;
    if (scan.fields.length > 0) {
      const k = fieldKeys(scan.fields);
      present = this.internArray(k.present);
      empty = this.internArray(k.empty);
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
    const s = new ExchangeSummary(
      this.list.length,
      protocol,
      accepted,
      req.bodyLength > 0,
      ex.id,
      handshake,
      userFrom,
      scan.credentials?.kind ?? null,
      ex.stream,
      this.intern(ctx.clientIp),
      this.serverText(ctx.serverIp, ctx.serverPort),
      protocol === 'http' ? this.internOrNull(header(req.headers, 'host')) : null,
      method,
      path,
      queryNames,
      status,
      ex.request.frame,
      ex.response?.frame ?? null,
      ctx.time,
      ctx.res?.time ?? null,
      user === null ? null : this.intern(user),
      present,
      empty,
      challenge,
      protocol === 'sip' ? (sipCallId(req) ?? null) : null,
      protocol === 'sip' ? (sipCSeq(req)?.seq ?? null) : null,
    );
    this.list.push(s);
    return s;
  }

  private internOrNull(s: string | undefined): string | null {
    return s === undefined ? null : this.intern(s.trim());
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

export function summaryTimeIso(s: ExchangeSummary): string {
  return isoTime(s.time);
}
