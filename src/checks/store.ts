// The compact per-exchange record the cross-exchange checks share (401 correlation, GET vs POST,
// body expected): names, numbers and interned string arrays only, never bodies or header arrays.
// Also learns "user in the URL path" endpoint shapes (/customerabc/customerabc.sms) from accepted
// requests so that /customerzzz/customerzzz.sms is seen as the same endpoint.

import type { CredentialKind, ExchangeContext, Timestamp } from '../types.js';
import { endpointText } from '../types.js';
import { isoTime } from '../util/time.js';
import { parseChallenges } from './challenge.js';
import type { CredentialScan } from './credentials.js';
import { fieldKeys } from './credentials.js';
import { header, isAccepted, isChallengeStatus, parseForm, sipCallId, sipCSeq, sipHeader, sipUriUser, uriPath, uriQuery } from './http-util.js';

export interface ChallengeInfo {
  schemes: string[];
  realm?: string;
  stale?: boolean;
}

export interface ExchangeSummary {
  seq: number;
  id: string;
  protocol: 'http' | 'sip';
  stream: number | null;
  /** Client IP address as seen on the wire. */
  client: string;
  /** Server "ip:port". */
  server: string;
  host: string | null;
  method: string;
  /** Path without query (HTTP) or Request-URI without parameters (SIP). */
  path: string;
  /** Names of the query parameters (only kept for GET requests with a query). */
  queryNames: string[] | null;
  status: number | null;
  /** 2xx/3xx and the body does not refuse at application level (e.g. an OPS response_code 555). */
  accepted: boolean;
  reqFrame: number;
  resFrame: number | null;
  /** Request time. */
  time: Timestamp;
  /** Response time (null when unanswered). */
  resTime: Timestamp | null;
  /** User named by the credentials (or, failing that, the URL path shape or SIP From). */
  user: string | null;
  /** Where `user` came from. */
  userFrom: 'credentials' | 'path' | 'sip-from' | null;
  credKind: CredentialKind | null;
  /** Credential field keys present with a value, and present but empty (see credentials.fieldKeys). */
  present: string[];
  empty: string[];
  hasBody: boolean;
  callId: string | null;
  cseq: number | null;
  /** For 401/407: the challenge the response carried. */
  challenge: ChallengeInfo | null;
  /** A 401/407 that is a leg of an NTLM/Negotiate handshake (the server's token answers the client's). */
  handshake: boolean;
}

const EMPTY: string[] = [];

interface PathTemplate {
  template: string;
  re: RegExp;
}

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
  private keyCache = new Map<string, Map<string, string>>();
  private keyCacheSize = 0;

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
    const k = a.join('\u0000');
    const v = this.arrays.get(k);
    if (v) return v;
    const frozen = a.map((x) => this.intern(x));
    if (this.arrays.size < 10_000) this.arrays.set(k, frozen);
    return frozen;
  }

  /** Records an exchange (after its credentials were scanned) and returns its summary. */
  add(ctx: ExchangeContext, scan: CredentialScan, appRefused = false): ExchangeSummary {
    const ex = ctx.exchange;
    const req = ctx.req;
    const protocol = ex.protocol;
    const method = (req.method ?? ex.request.method).toUpperCase();
    const uri = req.uri ?? ex.request.uri;
    const path = uriPath(uri, protocol);
    const keys = fieldKeys(scan.fields);
    let user = scan.credentials?.user ?? null;
    let userFrom: ExchangeSummary['userFrom'] = user ? 'credentials' : null;
    const status = ctx.res?.status ?? ex.response?.status ?? null;
    const accepted = isAccepted(status) && !appRefused;
    if (protocol === 'http' && user && accepted) this.learnTemplate(path, user);
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
      if (q) queryNames = this.internArray(parseForm(q).map(([k]) => k));
    }
    let challenge: ChallengeInfo | null = null;
    let token68 = false;
    if (ctx.res && isChallengeStatus(status)) {
      const hname = status === 407 ? 'proxy-authenticate' : 'www-authenticate';
      const schemes: string[] = [];
      for (const [k, v] of ctx.res.headers) {
        if (k.toLowerCase() !== hname) continue;
        for (const c of parseChallenges(v)) {
          if (!schemes.includes(c.scheme)) schemes.push(c.scheme);
          if (challenge === null) challenge = { schemes };
          if (c.realm !== undefined && challenge.realm === undefined) challenge.realm = c.realm;
          if (c.stale) challenge.stale = true;
          if (c.token68 !== undefined) token68 = true;
        }
      }
    }
    const cseq = protocol === 'sip' ? sipCSeq(req) : undefined;
    const s: ExchangeSummary = {
      seq: this.list.length,
      id: ex.id,
      protocol,
      stream: ex.stream,
      client: this.intern(ctx.clientIp),
      server: this.serverText(ctx.serverIp, ctx.serverPort),
      host: protocol === 'http' ? this.internOrNull(header(req.headers, 'host')) : null,
      method: this.intern(method),
      path: this.intern(path),
      queryNames,
      status,
      accepted,
      reqFrame: ex.request.frame,
      resFrame: ex.response?.frame ?? null,
      time: ctx.time,
      resTime: ctx.res?.time ?? null,
      user: user === null ? null : this.intern(user),
      userFrom,
      credKind: scan.credentials?.kind ?? null,
      present: this.internArray(keys.present),
      empty: this.internArray(keys.empty),
      hasBody: req.bodyLength > 0,
      callId: protocol === 'sip' ? (sipCallId(req) ?? null) : null,
      cseq: cseq?.seq ?? null,
      challenge,
      handshake:
        token68 &&
        scan.fields.some((f) => (f.location === 'authorization' || f.location === 'proxy-authorization') && (f.scheme === 'ntlm' || f.scheme === 'negotiate')),
    };
    this.list.push(s);
    return s;
  }

  private internOrNull(s: string | undefined): string | null {
    return s === undefined ? null : this.intern(s.trim());
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
