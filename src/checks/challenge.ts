// Authentication challenges: parseChallenges() reads WWW-Authenticate / Proxy-Authenticate values,
// and the challenge family follows each 401/407 to the client's answer (HTTP: same client and
// endpoint; SIP: same Call-ID with a higher CSeq): auth.challenge-unanswered,
// auth.rejected-after-retry, auth.stale-nonce and auth.challenge-mismatch.

import type { Finding, Message } from '../types.js';
import { parseAuthItems } from './auth-params.js';
import type { CredentialField } from './credentials.js';
import { parseDigestAuthorization } from './digest.js';
import { NO_FINDINGS, type Analysed, type AuthFamily, type FindingSink } from './family.js';
import type { ExchangeStore } from './store.js';
import { exchangeRef, framesText, makeFinding, uniqFrames, type FindingRef } from './finding.js';
import { isAccepted, isChallengeStatus } from './http-util.js';

export interface Challenge {
  /** Scheme as sent (Basic, Digest, Bearer, NTLM, Negotiate, ...). */
  scheme: string;
  /** All parameters, lower-case names. */
  params: Record<string, string>;
  /** token68 form (NTLM/Negotiate continuation blobs). */
  token68?: string;
  realm?: string;
  nonce?: string;
  /** qop options, e.g. ['auth', 'auth-int']. */
  qop?: string[];
  algorithm?: string;
  stale?: boolean;
  opaque?: string;
}

/** Parses one WWW-Authenticate / Proxy-Authenticate value: several challenges, quoted strings with commas. */
export function parseChallenges(headerValue: string): Challenge[] {
  return parseAuthItems(headerValue)
    .filter((it) => it.scheme !== '')
    .map((it) => {
      const p = it.params;
      const c: Challenge = { scheme: it.scheme, params: p };
      if (it.token68 !== undefined) c.token68 = it.token68;
      if (p['realm'] !== undefined) c.realm = p['realm'];
      if (p['nonce'] !== undefined) c.nonce = p['nonce'];
      if (p['qop'] !== undefined) c.qop = p['qop'].split(',').map((q) => q.trim()).filter(Boolean);
      if (p['algorithm'] !== undefined) c.algorithm = p['algorithm'];
      if (p['stale'] !== undefined) c.stale = p['stale'].trim().toLowerCase() === 'true';
      if (p['opaque'] !== undefined) c.opaque = p['opaque'];
      return c;
    });
}

/** Every challenge of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) response. */
export function responseChallenges(res: Message, status: number): Challenge[] {
  const name = status === 407 ? 'proxy-authenticate' : 'www-authenticate';
  const out: Challenge[] = [];
  const headers = res.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h[0].toLowerCase() === name) for (const c of parseChallenges(h[1])) out.push(c);
  }
  return out;
}

interface CompactChallenge {
  scheme: string;
  realm?: string;
  nonce?: string;
}

interface Pending {
  status: number;
  ref: FindingRef;
  /** A later challenge in the same dialog (a new request without credentials refused again): the one the next answer must match. */
  latest?: FindingRef;
  challenges: CompactChallenge[];
  /** The challenged request already carried credentials of the challenged kind. */
  reqHadAuth: boolean;
  /** Set after a rejected retry (already reported). */
  afterRejection: boolean;
  count: number;
  frames: number[];
  endpoint: string;
  client: string;
  cseq: number | null;
  protocol: 'http' | 'sip';
}

const MAX_PENDING = 200_000;
const MAX_NONCES = 10_000;
const MAX_FRAMES = 20;

function compact(ch: Challenge[]): CompactChallenge[] {
  return ch.map((c) => {
    const o: CompactChallenge = { scheme: c.scheme.toLowerCase() };
    if (c.realm !== undefined) o.realm = c.realm;
    if (c.nonce !== undefined) o.nonce = c.nonce;
    return o;
  });
}

function describeChallenges(ch: CompactChallenge[]): string {
  return ch.map((c) => (c.realm !== undefined ? `${cap(c.scheme)} realm "${c.realm}"` : cap(c.scheme))).join(', ');
}

function cap(s: string): string {
  return s === 'ntlm' ? 'NTLM' : s.charAt(0).toUpperCase() + s.slice(1);
}

function mergeRefs(a: FindingRef, b: FindingRef): FindingRef {
  const r: FindingRef = {
    exchange: b.exchange,
    stream: a.stream === b.stream ? a.stream : null,
    frames: uniqFrames([...a.frames, ...b.frames]),
  };
  if (b.callId ?? a.callId) r.callId = b.callId ?? a.callId;
  return r;
}

function authFieldFor(fields: CredentialField[], status: number): CredentialField | undefined {
  const loc = status === 407 ? 'proxy-authorization' : 'authorization';
  return fields.find((f) => f.location === loc && !f.empty);
}

export function createChallengeFamily(): AuthFamily {
  const pending = new Map<string, Pending>();
  const refusedNonces = new Map<string, { exchange: string; frame: number }>();
  const evicted: Finding[] = [];

  function unanswered(p: Pending): Finding | null {
    if (p.reqHadAuth || p.afterRejection || p.challenges.length === 0) return null;
    const what = p.status === 407 ? '407 proxy challenge' : '401 challenge';
    const ref = { ...p.ref, frames: p.frames };
    return makeFinding(
      'auth.challenge-unanswered',
      ref,
      `${what} (${describeChallenges(p.challenges)}) to ${p.endpoint} from ${p.client} was never answered with credentials ` +
        `(${framesText(p.frames.slice(0, 4))}${p.count > 1 ? `, ${p.count} challenges` : ''}): check that the client is configured with credentials for this realm`,
      {
        status: p.status,
        endpoint: p.endpoint,
        client: p.client,
        schemes: [...new Set(p.challenges.map((c) => c.scheme))],
        realm: p.challenges.find((c) => c.realm !== undefined)?.realm ?? null,
        challenges: p.count,
        firstExchange: p.ref.exchange,
        ...(p.ref.callId ? { callId: p.ref.callId } : {}),
      },
      { dialog: p.protocol === 'sip' },
    );
  }

  function setPending(key: string, p: Pending): void {
    pending.delete(key);
    pending.set(key, p);
    if (pending.size > MAX_PENDING) {
      const [k0, p0] = pending.entries().next().value as [string, Pending];
      pending.delete(k0);
      const f = unanswered(p0);
      if (f) evicted.push(f);
    }
  }

  return {
    name: 'challenge',
    exchange({ ctx, scan, summary: s, challenges, endpoint }: Analysed): Finding[] {
      if (!ctx.res || s.status === null) return NO_FINDINGS;
      if (s.method === 'ACK' || s.method === 'CANCEL') return NO_FINDINGS;
      const status = s.status;
      const challengeStatus = isChallengeStatus(status);
      const key = s.protocol === 'sip' && s.callId ? `sip|${s.client}|${s.callId}` : `${s.client}|${s.server}|${endpoint}`;
      const p = pending.get(key);
      if (p && p.protocol === 'sip' && s.cseq !== null && p.cseq !== null && s.cseq <= p.cseq) return NO_FINDINGS;
      let digestField: CredentialField | undefined;
      for (const f of scan.fields) {
        if ((f.location === 'authorization' || f.location === 'proxy-authorization') && f.scheme === 'digest') {
          digestField = f;
          break;
        }
      }
      // Nothing can follow: no challenge waiting, none now, no Digest nonce to remember or recognise.
      if (!p && !challengeStatus && !digestField) return NO_FINDINGS;

      const out: Finding[] = [];
      const ref = exchangeRef(ctx);
      const dp = digestField ? (digestField.digest ?? parseDigestAuthorization(digestField.value)) : null;
      let nonceReused = false;
      if (dp && dp.nonce) {
        const r = refusedNonces.get(`${s.client}|${dp.nonce}`);
        const reoffered = p?.challenges.some((c) => c.nonce === dp.nonce) ?? false;
        if (r && !reoffered) {
          nonceReused = true;
          out.push(
            makeFinding(
              'auth.stale-nonce',
              { ...ref, frames: uniqFrames([r.frame, ...ref.frames]), stream: ref.stream },
              `${endpoint} from ${s.client} (frame ${s.reqFrame}) reuses a Digest nonce that was already refused (frame ${r.frame}): the client must take the nonce of the latest challenge`,
              { reason: 'nonce-reused', nonce: dp.nonce, realm: dp.realm, user: dp.username || null, refusedExchange: r.exchange, refusedFrame: r.frame, endpoint, client: s.client },
            ),
          );
        }
      }

      let stale = false;
      for (const c of challenges) if (c.stale === true) stale = true;
      const answering = p ? authFieldFor(scan.fields, p.status) : undefined;
      /** A challenge now waiting for this client's answer. */
      const newPending = (reqHadAuth: boolean, afterRejection: boolean): Pending => ({
        status,
        ref,
        challenges: compact(challenges),
        reqHadAuth,
        afterRejection,
        count: 1,
        frames: ref.frames.slice(),
        endpoint,
        client: s.client,
        cseq: s.cseq,
        protocol: s.protocol,
      });

      if (p && answering) {
        pending.delete(key);
        const chRef = p.latest ?? p.ref;
        if (dp && answering.scheme === 'digest') {
          const dch = p.challenges.filter((c) => c.scheme === 'digest');
          if (dch.length > 0) {
            const realmOk = dch.some((c) => c.realm === undefined || c.realm === dp.realm);
            const nonceOk = nonceReused || dch.some((c) => c.nonce === undefined || c.nonce === dp.nonce);
            if (!realmOk || !nonceOk) {
              const what = [!realmOk ? `realm "${dp.realm}" (challenge: ${dch.map((c) => `"${c.realm}"`).join(', ')})` : '', !nonceOk ? 'a nonce the challenge did not offer' : '']
                .filter(Boolean)
                .join(' and ');
              out.push(
                makeFinding(
                  'auth.challenge-mismatch',
                  mergeRefs(chRef, ref),
                  `the Digest answer to ${endpoint} from ${s.client} (frame ${s.reqFrame}) uses ${what}, so it does not answer the challenge of frame ${chRef.frames[chRef.frames.length - 1]}`,
                  {
                    endpoint,
                    client: s.client,
                    user: dp.username || null,
                    realm: dp.realm,
                    challengeRealms: dch.map((c) => c.realm ?? null),
                    realmMatches: realmOk,
                    nonce: dp.nonce,
                    challengeNonces: dch.map((c) => c.nonce ?? null),
                    nonceMatches: nonceOk,
                    challengeExchange: chRef.exchange,
                  },
                  { dialog: s.protocol === 'sip' },
                ),
              );
            }
          }
        }
        if (isChallengeStatus(status)) {
          const scheme = answering.scheme ?? '';
          const continuing =
            (scheme === 'ntlm' || scheme === 'negotiate') &&
            (answering.ntlmType === 1 || challenges.some((c) => c.token68 !== undefined && ['ntlm', 'negotiate'].includes(c.scheme.toLowerCase())));
          if (!stale && !continuing) {
            const both = mergeRefs(chRef, ref);
            out.push(
              makeFinding(
                'auth.rejected-after-retry',
                both,
                `${endpoint} from ${s.client} answered the ${p.status} challenge (frame ${chRef.frames[chRef.frames.length - 1]}) with ${cap(scheme)} credentials` +
                  `${answering.user ? ` for user ${answering.user}` : ''} (frame ${s.reqFrame}) and was refused again with ${status} (frame ${s.resFrame}): wrong password, key or clock`,
                {
                  status,
                  scheme,
                  user: answering.user ?? null,
                  endpoint,
                  client: s.client,
                  realm: dp?.realm ?? p.challenges.find((c) => c.realm !== undefined)?.realm ?? null,
                  challengeExchange: chRef.exchange,
                  challengeFrame: chRef.frames[chRef.frames.length - 1],
                  retryExchange: s.id,
                  retryFrame: s.reqFrame,
                  ...(s.callId ? { callId: s.callId } : {}),
                },
                { dialog: s.protocol === 'sip' && ref.stream === null },
              ),
            );
          }
          setPending(key, newPending(false, !stale && !continuing));
        }
      } else if (p) {
        if (isChallengeStatus(status)) {
          p.count++;
          if (challenges.length > 0) {
            p.challenges = compact(challenges);
            p.latest = ref;
          }
          if (p.frames.length < MAX_FRAMES) p.frames = uniqFrames([...p.frames, ...ref.frames]);
          if (s.cseq !== null) p.cseq = s.cseq;
        } else if (isAccepted(status)) pending.delete(key);
      } else if (isChallengeStatus(status)) {
        setPending(key, newPending(!!authFieldFor(scan.fields, status) && !stale, false));
      }

      if (isChallengeStatus(status)) {
        if (stale) {
          const realm = challenges.find((c) => c.stale)?.realm ?? null;
          out.push(
            makeFinding(
              'auth.stale-nonce',
              ref,
              `the server marked the Digest nonce of ${endpoint} from ${s.client} stale (stale=true, frame ${s.resFrame}): the client must answer again with the new nonce; ` +
                'repeated stale nonces point at a nonce lifetime or clock problem',
              { reason: 'stale', realm, nonce: dp?.nonce ?? null, user: dp?.username || null, endpoint, client: s.client, status },
              { dialog: false },
            ),
          );
        }
        if (dp && dp.nonce) {
          refusedNonces.set(`${s.client}|${dp.nonce}`, { exchange: s.id, frame: s.reqFrame });
          if (refusedNonces.size > MAX_NONCES) refusedNonces.delete(refusedNonces.keys().next().value as string);
        }
      }
      return out;
    },
    finish(_store: ExchangeStore, out: FindingSink): void {
      for (const f of evicted.splice(0)) out.push(f);
      for (const p of pending.values()) {
        const f = unanswered(p);
        if (f) out.push(f);
      }
      pending.clear();
    },
  };
}
