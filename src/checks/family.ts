// The internal shape of a check family: what createChecks hands each family per exchange (the
// context plus the credential scan, compact summary and parsed challenges computed once) and at the end.

import type { ExchangeContext, Finding } from '../types.js';
import type { ResponseVerdict } from './app.js';
import type { Challenge } from './challenge.js';
import type { CredentialScan } from './credentials.js';
import type { ExchangeStore, ExchangeSummary } from './store.js';

export interface Analysed {
  ctx: ExchangeContext;
  scan: CredentialScan;
  summary: ExchangeSummary;
  /** Application-level reading of the response body (null without a response). */
  verdict: ResponseVerdict | null;
  /** The response's challenges when it is a 401/407 (WWW-/Proxy-Authenticate), else none. */
  challenges: Challenge[];
  /** "METHOD path" (path without query), as messages show the endpoint. */
  endpoint: string;
}

/** What a family returns when it has nothing to say (shared: never modify it). */
export const NO_FINDINGS = Object.freeze([]) as unknown as Finding[];

export interface AuthFamily {
  name: string;
  exchange?(a: Analysed): Finding[];
  /**
   * Cross-exchange findings, once at the end, pushed to `out` as they are made (an array, or a sink that
   * writes each one away, so they need not all be held); `store` holds every exchange's summary.
   */
  finish?(store: ExchangeStore, out: FindingSink): void;
}

/** Where finish() puts its findings: an array will do. */
export interface FindingSink {
  push(f: Finding): unknown;
}
