// The CI gate: exit code from findings and --fail-on, --baseline suppression of known findings
// (matched by code, endpoint and client address, not frame numbers), and --ignore by code/prefix.

import type { Exchange, Finding, Report } from '../types.js';
import { SEVERITY_RANK, endpointOf, ipOf } from './model.js';

export type FailOn = 'error' | 'warning' | 'info' | 'none';

/** 1 when any finding is at or above the --fail-on severity, else 0. 'none' never fails. */
export function exitCodeFor(findings: Finding[], failOn: FailOn): 0 | 1 {
  if (failOn === 'none') return 0;
  const threshold = SEVERITY_RANK[failOn];
  return findings.some((f) => SEVERITY_RANK[f.severity] >= threshold) ? 1 : 0;
}

function evidenceClient(f: Finding): string | null {
  const ev = f.evidence ?? {};
  for (const k of ['client', 'clientIp', 'clientAddress', 'src', 'source']) {
    const v = ev[k];
    if (typeof v === 'string' && v !== '') return ipOf(v);
  }
  return null;
}

/** A function giving each finding of `r` the identity that survives a new capture of the same traffic. */
export function findingKeyer(r: Report): (f: Finding) => string {
  const byId = new Map<string, Exchange>();
  const byStream = new Map<number, Exchange>();
  for (const x of r.exchanges) {
    byId.set(x.id, x);
    if (x.stream !== null && !byStream.has(x.stream)) byStream.set(x.stream, x);
  }
  return (f) => {
    const x = f.exchange !== null ? byId.get(f.exchange) : undefined;
    const endpoint = x ? endpointOf(x) : null;
    let client = x ? ipOf(x.client) : evidenceClient(f);
    if (client === null && f.stream !== null) {
      const same = byStream.get(f.stream);
      if (same) client = ipOf(same.client);
    }
    return JSON.stringify([f.code, endpoint, client]);
  };
}

/**
 * Keep only the findings of `r` that the baseline does not already have. A finding is known when
 * the baseline holds one with the same code, endpoint (request method + path, or none) and client
 * IP address; one baseline finding covers every current finding with that identity.
 */
export function applyBaseline(r: Report, baseline: Report): { report: Report; suppressed: number } {
  const known = new Set(baseline.findings.map(findingKeyer(baseline)));
  const key = findingKeyer(r);
  const findings = r.findings.filter((f) => !known.has(key(f)));
  return { report: { ...r, findings }, suppressed: r.findings.length - findings.length };
}

/** True when code matches one --ignore pattern: an exact code, "tls.*" / "tls*" (prefix), a family "tls", or "*". */
export function codeMatches(code: string, pattern: string): boolean {
  const p = pattern.trim().toLowerCase();
  const c = code.toLowerCase();
  if (p === '') return false;
  if (p.endsWith('*')) return c.startsWith(p.slice(0, -1));
  if (!p.includes('.')) return c.startsWith(`${p}.`); // a family name: "tls" = "tls.*"
  return c === p;
}

/** Drop findings whose code matches any of the patterns. */
export function applyIgnore(r: Report, codes: string[]): Report {
  if (codes.length === 0) return r;
  return { ...r, findings: r.findings.filter((f) => !codes.some((p) => codeMatches(f.code, p))) };
}
