// Checks on the credential values of one request: auth.basic-malformed (not base64 of
// user:password), auth.token-expired (a bearer JWT whose exp is before the packet time, decoded
// without verifying) and, with a password given, auth.digest-mismatch (the Digest response does
// not verify).

import type { AnalysisOptions, Finding } from '../types.js';
import { isoTime, seconds } from '../util/time.js';
import { digestUserhash, parseDigestAuthorization, verifyDigest } from './digest.js';
import { NO_FINDINGS, type Analysed, type AuthFamily } from './family.js';
import { exchangeRef, makeFinding, type FindingRef } from './finding.js';
import { uriPath } from './http-util.js';

export interface JwtInfo {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Decodes a JWT's header and payload without verifying it; null when the value is not a JWT. */
export function decodeJwt(token: string): JwtInfo | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) return null;
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(parts[0]) || !/^[A-Za-z0-9_-]+={0,2}$/.test(parts[1])) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (!header || typeof header !== 'object' || Array.isArray(header) || !('alg' in header)) return null;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return null;
    return { header: header as Record<string, unknown>, payload: payload as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** "3d 4h", "2h 5m", "42s" */
export function durationText(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const JWT_FIELDS = new Set(['x-auth-token', 'x-access-token', 'x-token', 'access_token', 'token', 'id_token', 'auth_token']);

export function createAuthValuesFamily(o: AnalysisOptions): AuthFamily {
  return {
    name: 'auth-values',
    exchange({ ctx, scan, summary: s, endpoint }: Analysed): Finding[] {
      if (scan.fields.length === 0) return NO_FINDINGS;
      const out: Finding[] = [];
      let refMemo: FindingRef | undefined;
      const ref = (): FindingRef => (refMemo ??= exchangeRef(ctx));
      for (const f of scan.fields) {
        const isAuth = f.location === 'authorization' || f.location === 'proxy-authorization';
        if (isAuth && f.scheme === 'basic' && f.basicProblem) {
          const why =
            f.basicProblem === 'empty' ? 'has nothing after "Basic"' : f.basicProblem === 'not-base64' ? 'is not valid base64' : 'decodes to text without the ":" between user and password';
          out.push(
            makeFinding(
              'auth.basic-malformed',
              ref(),
              `the Basic credentials in the ${f.name} header of ${endpoint} from ${s.client} (frame ${s.reqFrame}) ${why}: send base64 of "user:password"`,
              { header: f.name, problem: f.basicProblem, valueLength: f.value.length, endpoint, client: s.client, credentials: f.value },
            ),
          );
        }
        // JWTs: Bearer values and token-named headers/fields.
        let jwtValue: string | null = null;
        if (isAuth && f.scheme === 'bearer') jwtValue = f.value.replace(/^\S+\s+/, '');
        else if (!isAuth && JWT_FIELDS.has(f.name.toLowerCase())) jwtValue = f.value;
        if (jwtValue && !s.accepted) {
          const jwt = decodeJwt(jwtValue);
          const exp = jwt?.payload['exp'];
          if (jwt && typeof exp === 'number' && Math.abs(exp) <= 8.64e12) { // beyond Date's range: not a usable exp
            const ago = seconds(ctx.time) - exp;
            if (ago > 0) {
              const expIso = new Date(exp * 1000).toISOString();
              const iat = jwt.payload['iat'];
              out.push(
                makeFinding(
                  'auth.token-expired',
                  ref(),
                  `the bearer JWT in ${f.location === 'header' || isAuth ? `header ${f.name}` : `field "${f.name}"`} of ${endpoint} from ${s.client} (frame ${s.reqFrame}) expired at ${expIso}, ` +
                    `${durationText(ago)} before the request: obtain a fresh token (or fix the client's clock)`,
                  {
                    field: f.name,
                    exp: expIso,
                    expiredSecondsAgo: Math.round(ago * 1000) / 1000,
                    expiredAgo: durationText(ago),
                    requestTime: isoTime(ctx.time),
                    iat: typeof iat === 'number' && Math.abs(iat) <= 8.64e12 ? new Date(iat * 1000).toISOString() : null,
                    alg: typeof jwt.header['alg'] === 'string' ? jwt.header['alg'] : null,
                    endpoint,
                    client: s.client,
                  },
                ),
              );
            }
          }
        }
        if (isAuth && f.scheme === 'digest' && o.password !== undefined) {
          const dp = f.digest ?? parseDigestAuthorization(f.value);
          let user: string | undefined;
          if (dp.userhash) {
            if (!o.user || digestUserhash(dp.algorithm, o.user, dp.realm) !== dp.username.toLowerCase()) continue;
            user = o.user;
          } else if (o.user !== undefined && o.user !== dp.username) continue; // another user's credentials
          const method = s.method;
          const bodyOk = !ctx.req.bodyTruncated && !ctx.req.incomplete;
          const r = verifyDigest(dp, { password: o.password, method, body: bodyOk ? ctx.req.body : undefined, user });
          if (r.ok || r.error) continue;
          // Cheap hints: would it verify over the request-line URI, or without the body?
          const hints: string[] = [];
          const lineUri = ctx.req.uri ?? ctx.exchange.request.uri;
          if (lineUri && lineUri !== dp.uri && verifyDigest({ ...dp, uri: lineUri }, { password: o.password, method, body: ctx.req.body, user }).ok) {
            hints.push('computed-over-request-line-uri');
          }
          if (dp.uri && uriPath(dp.uri, s.protocol) !== uriPath(lineUri, s.protocol)) hints.push('uri-differs-from-request-line');
          const accepted = s.accepted;
          out.push(
            makeFinding(
              'auth.digest-mismatch',
              ref(),
              `the Digest response of ${endpoint} from ${s.client} for user ${user ?? dp.username} (frame ${s.reqFrame}) does not verify with the given password` +
                (accepted ? ', yet the server accepted it: the password given to authcap is not the one in use' : ': the client uses another password, realm or algorithm'),
              {
                header: f.name,
                username: dp.username,
                realm: dp.realm,
                algorithm: dp.algorithm,
                qop: dp.qop ?? null,
                uri: dp.uri,
                nonce: dp.nonce,
                nc: dp.nc ?? null,
                cnonce: dp.cnonce ?? null,
                userhash: dp.userhash,
                hints,
                status: s.status,
                endpoint,
                client: s.client,
                response: dp.response,
                expectedResponse: r.expected,
              },
            ),
          );
        }
      }
      return out;
    },
  };
}
