// The internal shape of a check family: what createChecks hands each family per exchange (the
// context plus the credential scan and compact summary computed once) and at the end.

import type { ExchangeContext, Finding } from '../types.js';
import type { ResponseVerdict } from './app.js';
import type { CredentialScan } from './credentials.js';
import type { ExchangeStore, ExchangeSummary } from './store.js';

export interface Analysed {
  ctx: ExchangeContext;
  scan: CredentialScan;
  summary: ExchangeSummary;
  /** Application-level reading of the response body (null without a response). */
  verdict: ResponseVerdict | null;
}

export interface AuthFamily {
  name: string;
  exchange?(a: Analysed): Finding[];
  /** Cross-exchange findings, once at the end; `store` holds every exchange's summary. */
  finish?(store: ExchangeStore): Finding[];
}
