// Runs every analysis check family over the completed exchanges: scans each request's credentials
// once (and fills request.credentials), keeps a compact summary for the cross-exchange checks, and
// at the end correlates refusals with accepted requests and builds the 401 summary.

import type { AnalysisOptions, ExchangeContext, Finding, UnauthorizedSummary } from '../types.js';
import { createAppFamily, inspectResponse } from './app.js';
import { createAuthValuesFamily } from './auth-values.js';
import { createBodyFamily } from './body.js';
import { createChallengeFamily, responseChallenges, type Challenge } from './challenge.js';
import { scanCredentials } from './credentials.js';
import type { Analysed, AuthFamily, FindingSink } from './family.js';
import { isChallengeStatus } from './http-util.js';
import { createMethodFamily } from './method.js';
import { createSignatureFamily } from './signature.js';
import { ExchangeStore } from './store.js';
import { createUnauthorizedFamily } from './unauthorized.js';

const NO_CHALLENGES: Challenge[] = Object.freeze([]) as unknown as Challenge[];

export interface Checks {
  /** Per completed exchange, in completion order; also fills ctx.exchange.request.credentials. */
  exchange(ctx: ExchangeContext): Finding[];
  /**
   * Cross-exchange findings (401 correlation etc.), once at the end: returned, or with `sink` pushed to it
   * as they are made (and none returned), so they need not all be held at once.
   */
  finish(sink?: FindingSink): Finding[];
  /** The 401 summary section; complete after finish(). */
  unauthorized(): UnauthorizedSummary;
}

export function createChecks(o: AnalysisOptions): Checks {
  const store = new ExchangeStore();
  const unauthorized = createUnauthorizedFamily();
  const families: AuthFamily[] = [
    unauthorized,
    createChallengeFamily(),
    createAuthValuesFamily(o),
    createMethodFamily(),
    createBodyFamily(),
    createSignatureFamily(o),
    createAppFamily(),
  ];
  const exchangeFamilies = families.filter((f) => f.exchange);
  let finished = false;
  return {
    exchange(ctx: ExchangeContext): Finding[] {
      const scan = scanCredentials(ctx.req);
      const res = ctx.res;
      const verdict = res ? inspectResponse(res) : null;
      const status = res ? (res.status ?? ctx.exchange.response?.status ?? null) : null;
      const challenges = res && isChallengeStatus(status) ? responseChallenges(res, status!) : NO_CHALLENGES;
      const summary = store.add(ctx, scan, verdict?.refused ?? false, challenges);
      if (scan.credentials && !scan.credentials.user && summary.userFrom === 'path') scan.credentials.user = summary.user;
      ctx.exchange.request.credentials = scan.credentials;
      const out: Finding[] = [];
      const a: Analysed = { ctx, scan, summary, verdict, challenges, endpoint: store.endpointShown(summary) };
      for (let k = 0; k < exchangeFamilies.length; k++) {
        const fs = exchangeFamilies[k].exchange!(a);
        for (let i = 0; i < fs.length; i++) out.push(fs[i]);
      }
      return out;
    },
    finish(sink?: FindingSink): Finding[] {
      if (finished) return [];
      finished = true;
      const out: Finding[] = [];
      for (const f of families) if (f.finish) f.finish(store, sink ?? out);
      return out;
    },
    unauthorized(): UnauthorizedSummary {
      return unauthorized.summary();
    },
  };
}

export { extractCredentials, scanCredentials } from './credentials.js';
export { parseChallenges } from './challenge.js';
export { parseDigestAuthorization, verifyDigest } from './digest.js';
