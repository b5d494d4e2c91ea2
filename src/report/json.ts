// The JSON report (--format json): REPORT.md's keys in the contract's order, added fields after
// them (sorted), 2-space indent, trailing newline. Control and bidi characters are \u-escaped.

import type { Exchange, Finding, Report } from '../types.js';
import { safeJson } from './sanitize.js';

type Obj = Record<string, unknown>;

/** Copy o with `keys` first in that order, then the remaining keys sorted by name. */
function ordered(o: unknown, keys: string[]): Obj {
  const src = (o ?? {}) as Obj;
  const out: Obj = {};
  for (const k of keys) if (k in src) out[k] = src[k];
  for (const k of Object.keys(src).filter((k) => !keys.includes(k)).sort()) out[k] = src[k];
  return out;
}

export function orderExchange(x: Exchange): Obj {
  const out = ordered(x, ['id', 'protocol', 'stream', 'client', 'server', 'request', 'response']);
  const req = ordered(x.request, ['frame', 'time', 'method', 'uri', 'version', 'headers', 'bodyLength', 'credentials']);
  if (x.request.credentials) req.credentials = ordered(x.request.credentials, ['kind', 'user', 'fields']);
  out.request = req;
  out.response = x.response ? ordered(x.response, ['frame', 'time', 'status', 'reason', 'headers', 'bodyLength']) : null;
  return out;
}

export function orderFinding(f: Finding): Obj {
  return ordered(f, ['code', 'severity', 'message', 'exchange', 'stream', 'frames', 'filter', 'evidence']);
}

const REF = ['time', 'frame', 'exchange'];

/** One group of the 401 summary in the report's key order. */
export function orderUnauthorizedGroup(g: unknown): Obj {
  const go = ordered(g, ['endpoint', 'server', 'host', 'client', 'user', 'accepted', 'refused', 'firstRefusal', 'lastRefusal', 'lastAcceptedBeforeRefusal', 'reasons']);
  for (const k of ['firstRefusal', 'lastRefusal', 'lastAcceptedBeforeRefusal']) if (go[k]) go[k] = ordered(go[k], REF);
  return go;
}

function orderUnauthorized(u: unknown): unknown {
  if (!u || typeof u !== 'object') return u;
  const o = ordered(u, ['accepted', 'refused', 'firstRefusal', 'groups']);
  if (o.firstRefusal) o.firstRefusal = ordered(o.firstRefusal, REF);
  if (Array.isArray(o.groups)) o.groups = o.groups.map(orderUnauthorizedGroup);
  return o;
}

/** The report as JSON text. Pass a redacted report (redactReport) unless --show-secrets. */
export function renderJson(r: Report): string {
  const out = ordered(r, ['tool', 'inputs', 'stats', 'exchanges', 'findings', 'unauthorized']);
  out.tool = ordered(r.tool, ['name', 'version']);
  out.inputs = r.inputs.map((i) => ordered(i, ['file', 'format', 'linkTypes', 'packets', 'bytes', 'firstTime', 'lastTime']));
  out.stats = ordered(r.stats, ['packets', 'tcpStreams', 'httpRequests', 'httpResponses', 'sipRequests', 'sipResponses']);
  out.exchanges = r.exchanges.map(orderExchange);
  out.findings = r.findings.map(orderFinding);
  if ('unauthorized' in r) out.unauthorized = orderUnauthorized(r.unauthorized);
  return `${safeJson(out, 2)}\n`;
}
