// 401/407 correlation: every refusal becomes http.unauthorized, compared (in finish, over the
// compact summaries) with the ACCEPTED requests to the same endpoint from any client, to say what
// differs: no credentials (auth.missing), a missing or empty field (auth.field-missing), another
// user, another method, no body. A refusal the same client answered and got accepted is the normal
// challenge round-trip (info). Also builds the UnauthorizedSummary section.

import type { UnauthorizedGroup, UnauthorizedSummary } from '../types.js';
import { isoTime } from '../util/time.js';
import { describeFieldKey } from './credentials.js';
import type { AuthFamily, FindingSink } from './family.js';
import { framesText, makeFinding, uniqFrames, type FindingRef } from './finding.js';
import { isChallengeStatus } from './http-util.js';
import type { ExchangeStore, ExchangeSummary } from './store.js';

export interface UnauthorizedFamily extends AuthFamily {
  /** The 401 summary; valid after finish(). */
  summary(): UnauthorizedSummary;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const MAX_LIST = 10;

function refOf(s: ExchangeSummary, extra: ExchangeSummary | null = null): FindingRef {
  const frames = uniqFrames([s.reqFrame, s.resFrame, extra?.reqFrame]);
  const ref: FindingRef = { exchange: s.id, stream: extra && extra.stream !== s.stream ? null : s.stream, frames };
  if (s.callId) ref.callId = s.callId;
  return ref;
}

function point(s: ExchangeSummary): { time: string; frame: number; exchange: string } {
  return { time: isoTime(s.resTime ?? s.time), frame: s.resFrame ?? s.reqFrame, exchange: s.id };
}

function statusText(status: number): string {
  return status === 407 ? '407 Proxy Authentication Required' : status === 401 ? '401 Unauthorized' : String(status);
}

function cap(kind: string | null): string {
  return kind === 'ntlm' ? 'NTLM' : kind ? kind.charAt(0).toUpperCase() + kind.slice(1) : 'authentication';
}

function fieldsText(keys: string[]): string {
  return keys.map(describeFieldKey).join(', ');
}

/** The most common non-empty credential field set among `list` (ties: the latest). */
function referenceOf(list: ExchangeSummary[]): ExchangeSummary | null {
  const counts = new Map<string[], { n: number; last: ExchangeSummary }>();
  for (const a of list) {
    if (a.present.length === 0) continue;
    const c = counts.get(a.present);
    if (c) {
      c.n++;
      c.last = a;
    } else counts.set(a.present, { n: 1, last: a });
  }
  let best: { n: number; last: ExchangeSummary } | null = null;
  for (const c of counts.values()) if (!best || c.n > best.n || (c.n === best.n && c.last.seq > best.last.seq)) best = c;
  return best?.last ?? null;
}

interface Analysis {
  s: ExchangeSummary;
  endpointKey: string;
  reasons: string[];
  user: string | null;
}

export function createUnauthorizedFamily(): UnauthorizedFamily {
  let result: UnauthorizedSummary = { accepted: 0, refused: 0, firstRefusal: null, groups: [] };

  function finish(store: ExchangeStore, out: FindingSink): void {
    const byEp = store.byEndpoint();
    const userOf = (s: ExchangeSummary): string | null =>
      s.user ?? (s.protocol === 'http' ? (store.matchTemplate(s.path)?.user ?? null) : null);
    // Methods accepted per path (for "another method").
    const methodsByPath = new Map<string, Set<string>>();
    for (const s of store.list) {
      if (!s.accepted) continue;
      const p = store.endpointPath(s);
      let m = methodsByPath.get(p);
      if (!m) methodsByPath.set(p, (m = new Set()));
      m.add(s.method);
    }
    const analyses: Analysis[] = [];
    let accepted = 0;
    let refused = 0;
    let first: ExchangeSummary | null = null;
    for (const s of store.list) {
      if (s.accepted) accepted++;
      if (isChallengeStatus(s.status)) {
        refused++;
        if (!first || s.compareEventTime(first) < 0) first = s;
      }
    }

    for (const [key, list] of byEp) {
      // Per endpoint, computed once: accepted requests (all, with credentials, per client) and, for
      // each request, the same client's (or SIP dialog's) next request that carries credentials.
      const acc: ExchangeSummary[] = [];
      const accCreds: ExchangeSummary[] = [];
      const accCount = new Map<string, number>();
      const accCredsByClient = new Map<string, ExchangeSummary[]>();
      for (const x of list) {
        if (!x.accepted) continue;
        acc.push(x);
        accCount.set(x.client, (accCount.get(x.client) ?? 0) + 1);
        if (x.present.length === 0) continue;
        accCreds.push(x);
        const l = accCredsByClient.get(x.client);
        if (l) l.push(x);
        else accCredsByClient.set(x.client, [x]);
      }
      if (!list.some((x) => isChallengeStatus(x.status) || (x.status === 403 && acc.length > 0))) continue;
      const nextOf: (ExchangeSummary | null)[] = new Array(list.length).fill(null);
      // Keyed by SIP Call-ID, else by client address (two maps: no key string per exchange).
      const laterByCall = new Map<string, ExchangeSummary>();
      const laterByClient = new Map<string, ExchangeSummary>();
      for (let i = list.length - 1; i >= 0; i--) {
        const x = list[i];
        const later = x.callId ? laterByCall : laterByClient;
        const id = x.callId ? x.callId : x.client;
        nextOf[i] = later.get(id) ?? null;
        if (x.present.length > 0) later.set(id, x);
      }
      const refCache = new Map<string, { refSet: ExchangeSummary[]; sameClient: boolean; reference: ExchangeSummary | null; refUsers: string[] }>();
      const refFor = (client: string) => {
        const own = accCredsByClient.get(client);
        const k = own ? client : '\u0000any';
        let r = refCache.get(k);
        if (!r) {
          const refSet = own ?? accCreds;
          r = { refSet, sameClient: !!own, reference: referenceOf(refSet), refUsers: [...new Set(refSet.map(userOf).filter((u): u is string => !!u))] };
          refCache.set(k, r);
        }
        return r;
      };
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        const challenge = isChallengeStatus(s.status);
        if (!challenge && !(s.status === 403 && acc.length > 0)) continue;
        const user = userOf(s);
        let next = nextOf[i];
        if (next && s.callId && next.callId && (next.cseq ?? 0) <= (s.cseq ?? 0)) next = null;
        // A handshake leg (NTLM/Negotiate) succeeded when the next request is not challenged again.
        const roundTrip = challenge && next !== null && (next.accepted || (s.handshake && next.status !== null && !isChallengeStatus(next.status)));
        const reasons: string[] = [];
        const { refSet, sameClient: fromSameClient, reference, refUsers } = refFor(s.client);
        const sameClient = fromSameClient ? refSet : [];
        const endpointShown = `${s.method} ${s.path}`;
        const tmpl = key !== endpointShown ? ` (endpoint ${key})` : '';
        const who = `${s.client}${user ? ` (user ${user})` : ''}`;
        let missing: string[] = [];
        const otherMethods = acc.length === 0 ? [...(methodsByPath.get(store.endpointPath(s)) ?? [])].filter((m) => m !== s.method) : [];
        const answeredRefused = challenge && !roundTrip && next !== null && s.present.length === 0;
        if (roundTrip) reasons.push('challenge');
        else {
          if (otherMethods.length > 0) reasons.push(s.method === 'GET' && otherMethods.includes('POST') ? 'method.get-not-post' : 'other-method');
          if (answeredRefused) reasons.push('challenge-answered-refused');
          else if (reference) {
            missing = reference.present.filter((k) => !s.present.includes(k));
            if (s.present.length === 0 && s.empty.length === 0) reasons.push('auth.missing');
            else if (missing.length > 0) reasons.push('auth.field-missing');
            else if (user && refUsers.length > 0 && !refUsers.includes(user)) reasons.push('other-user');
            else reasons.push('credentials-rejected');
          } else if (s.present.length === 0 && challenge) reasons.push('auth.missing');
          else if (s.present.length > 0 && otherMethods.length === 0) reasons.push('credentials-rejected');
          if (!s.hasBody && BODY_METHODS.has(s.method) && acc.some((a) => a.hasBody)) reasons.push('body.missing');
        }
        const accEvidence = {
          count: acc.length,
          sameClient: accCount.get(s.client) ?? 0,
          users: refUsers.slice(0, MAX_LIST),
          fields: reference?.present ?? [],
          lastExchange: acc.length ? acc[acc.length - 1].id : null,
          lastFrame: acc.length ? acc[acc.length - 1].reqFrame : null,
        };
        const accText = reference
          ? `${refSet.length > 1 ? `the ${refSet.length} accepted requests` : 'the accepted request'} to this endpoint${sameClient.length ? ' from this client' : ''} ${refSet.length > 1 ? 'carry' : 'carries'} ${fieldsText(reference.present)}` +
            (refUsers.length ? ` (user${refUsers.length > 1 ? 's' : ''} ${refUsers.slice(0, 3).join(', ')}${refUsers.length > 3 ? ', ...' : ''})` : '') +
            `, e.g. frame ${reference.reqFrame}`
          : '';

        if (reasons.includes('auth.missing')) {
          out.push(
            makeFinding(
              'auth.missing',
              refOf(s, reference),
              `${endpointShown}${tmpl} from ${who} (frame ${s.reqFrame}) carries no credentials and got ${s.status} (frame ${s.resFrame})` +
                (accText ? `; ${accText}` : ': send the credentials the endpoint requires'),
              {
                status: s.status,
                endpoint: key,
                client: s.client,
                user,
                emptyFields: s.empty,
                acceptedFields: reference?.present ?? [],
                acceptedWithCredentials: refSet.length,
                acceptedUsers: refUsers.slice(0, MAX_LIST),
                acceptedExample: reference ? { exchange: reference.id, frame: reference.reqFrame } : null,
              },
            ),
          );
        }
        if (reasons.includes('auth.field-missing') && reference) {
          const emptyOnes = missing.filter((k) => s.empty.includes(k));
          const absent = missing.filter((k) => !s.empty.includes(k));
          const parts = [absent.length ? `lacks ${fieldsText(absent)}` : '', emptyOnes.length ? `has ${fieldsText(emptyOnes)} empty` : ''].filter(Boolean).join(' and ');
          out.push(
            makeFinding(
              'auth.field-missing',
              refOf(s, reference),
              `${endpointShown}${tmpl} from ${who} (frame ${s.reqFrame}) ${parts}, got ${s.status}; ${accText}`,
              {
                status: s.status,
                endpoint: key,
                client: s.client,
                user,
                fields: missing,
                absentFields: absent,
                emptyFields: emptyOnes,
                presentFields: s.present,
                acceptedFields: reference.present,
                acceptedUsers: refUsers.slice(0, MAX_LIST),
                acceptedExample: { exchange: reference.id, frame: reference.reqFrame },
              },
            ),
          );
        }
        if (challenge) {
          const texts: string[] = [];
          for (const r of reasons) {
            if (r === 'challenge')
              texts.push(
                next!.accepted
                  ? `normal challenge round-trip: the client's next request with credentials was accepted (frame ${next!.reqFrame})`
                  : `normal ${cap(s.credKind)} handshake step: the client's next request (frame ${next!.reqFrame}) was not challenged again (status ${next!.status})`,
              );
            else if (r === 'challenge-answered-refused')
              texts.push(`the client answered this challenge with credentials (frame ${next!.reqFrame}) and was refused again (${next!.status ?? 'no answer'}): the credentials are wrong`);
            else if (r === 'auth.missing') texts.push(`the request carries no credentials${accText ? `; ${accText}` : ''}`);
            else if (r === 'auth.field-missing') texts.push(`${fieldsText(missing)} missing or empty; ${accText}`);
            else if (r === 'other-user') texts.push(`user ${user} while accepted requests to this endpoint are from ${refUsers.slice(0, 3).join(', ')}: check that user's password and rights`);
            else if (r === 'credentials-rejected')
              texts.push(
                `the request carries ${fieldsText(s.present)}${reference ? ' like accepted requests' : ''}: their values (password, key, signature, token) are wrong or expired`,
              );
            else if (r === 'other-method' || r === 'method.get-not-post')
              texts.push(`only ${otherMethods.join('/')} requests to this path were accepted`);
            else if (r === 'body.missing') texts.push('the request has no body while accepted requests to this endpoint carry one');
          }
          out.push(
            makeFinding(
              'http.unauthorized',
              refOf(s),
              `${statusText(s.status!)} to ${endpointShown}${tmpl} from ${who} (${framesText([s.reqFrame, s.resFrame ?? s.reqFrame])}): ${texts.join('; ') || 'no accepted request to compare with'}`,
              {
                status: s.status,
                method: s.method,
                path: s.path,
                endpoint: key,
                client: s.client,
                server: s.server,
                host: s.host,
                user,
                credentialKind: s.credKind,
                credentialFields: s.present,
                emptyFields: s.empty,
                hasBody: s.hasBody,
                roundTrip,
                retry: next ? { exchange: next.id, frame: next.reqFrame, status: next.status } : null,
                accepted: accEvidence,
                acceptedMethods: [...(methodsByPath.get(store.endpointPath(s)) ?? [])],
                reasons,
                challenge: s.challenge,
                ...(s.callId ? { callId: s.callId } : {}),
              },
              { severity: roundTrip ? 'info' : 'error' },
            ),
          );
          analyses.push({ s, endpointKey: key, reasons, user: user ?? (roundTrip ? userOf(next!) : null) });
        }
      }
    }
    result = buildSummary(store, byEp, analyses, accepted, refused, first, userOf);
  }

  return { name: 'unauthorized', finish, summary: () => result };
}

/** What String.prototype.localeCompare without arguments uses (ECMA-402), made once. */
const COLLATOR = new Intl.Collator();

function buildSummary(
  store: ExchangeStore,
  byEp: Map<string, ExchangeSummary[]>,
  analyses: Analysis[],
  accepted: number,
  refused: number,
  first: ExchangeSummary | null,
  userOf: (s: ExchangeSummary) => string | null,
): UnauthorizedSummary {
  // The analysis of each refusal by summary position (seq is the index in store.list).
  const anOf: (Analysis | undefined)[] = new Array(store.list.length);
  for (const a of analyses) anOf[a.s.seq] = a;
  // endpoint -> server -> client -> user -> group index, in first-seen order (server, client and user
  // are interned). The groups are built in their final shape; per-group working state sits beside them.
  const groups: UnauthorizedGroup[] = [];
  const lastAcc: (ExchangeSummary | null)[] = [];
  const lastRef: (ExchangeSummary | null)[] = [];
  const endpoints = new Set(analyses.map((a) => a.endpointKey));
  for (const key of endpoints) {
    const byServer = new Map<string, Map<string, Map<string, number>>>();
    for (const s of byEp.get(key) ?? []) {
      const an = anOf[s.seq];
      const user = an ? an.user : userOf(s);
      let byClient = byServer.get(s.server);
      if (!byClient) byServer.set(s.server, (byClient = new Map()));
      let byUser = byClient.get(s.client);
      if (!byUser) byClient.set(s.client, (byUser = new Map()));
      // '' and null share a group, as in the key the groups had before.
      let gi = byUser.get(user ?? '');
      if (gi === undefined) {
        gi = groups.length;
        groups.push({
          endpoint: key,
          server: s.server,
          host: s.host,
          client: s.client,
          user,
          accepted: 0,
          refused: 0,
          firstRefusal: null,
          lastRefusal: null,
          lastAcceptedBeforeRefusal: null,
          reasons: {},
        });
        lastAcc.push(null);
        lastRef.push(null);
        byUser.set(user ?? '', gi);
      }
      const g = groups[gi];
      if (s.accepted) {
        g.accepted++;
        if (g.refused === 0) lastAcc[gi] = s;
      } else if (an) {
        g.refused++;
        if (!g.firstRefusal) {
          g.firstRefusal = point(s);
          const la = lastAcc[gi];
          g.lastAcceptedBeforeRefusal = la ? point(la) : null;
        }
        lastRef[gi] = s; // lastRefusal, made once at the end
        for (const r of an.reasons) g.reasons[r] = (g.reasons[r] ?? 0) + 1;
      }
    }
  }
  for (let i = 0; i < groups.length; i++) {
    const lr = lastRef[i];
    if (lr) groups[i].lastRefusal = point(lr);
  }
  // Most neighbours share the endpoint: equal strings compare equal without asking the collator.
  groups.sort(
    (a, b) =>
      b.refused - a.refused ||
      (a.endpoint === b.endpoint ? 0 : COLLATOR.compare(a.endpoint, b.endpoint)) ||
      (a.client === b.client ? 0 : COLLATOR.compare(a.client, b.client)),
  );
  return { accepted, refused, firstRefusal: first ? point(first) : null, groups };
}
