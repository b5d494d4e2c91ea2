// authcap against tshark over the shared corpus of real captures: every HTTP request and response that
// tshark decodes (oracle/*.jsonl) must be found by authcap at the same frame, in the same tcp.stream, with
// the same method, URI and status, and paired the same way. SIP messages likewise (frame, method/status,
// Call-ID, CSeq). Where authcap and tshark disagree, KNOWN below says why tshark is the one that is wrong;
// anything else fails the test. Skips when ../shared is absent (a user's clone).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.js';
import type { Exchange } from '../../src/types.js';
import { CORPUS } from '../lib/paths.js';

interface OracleLine {
  kind: 'http-request' | 'http-response' | 'sip';
  frame: number;
  msg_index: number;
  stream: number | null;
  method?: string | null;
  uri?: string;
  status?: number | null;
  response_in?: number | null;
  request_in?: number | null;
  call_id?: string;
  cseq?: string;
}

/** A message as authcap reports it. */
interface Ours {
  kind: 'request' | 'response';
  protocol: 'http' | 'sip';
  frame: number;
  stream: number | null;
  method?: string;
  uri?: string;
  status?: number;
  /** Frame of the paired message (response for a request, request for a response). */
  peer: number | null;
  callId?: string;
  cseq?: string;
}

/**
 * Disagreements with tshark that are tshark's mistakes (or deliberate differences), per file:
 * `frame:kind` -> why. Each was checked by hand in Wireshark's dissection of the file.
 */
const KNOWN: Record<string, Record<string, string>> = {};

function ourMessages(exchanges: Exchange[], unpaired: { protocol: string; stream: number | null; frame: number; status: number }[]): Ours[] {
  const out: Ours[] = [];
  for (const x of exchanges) {
    const h = (name: string, hs: [string, string][]) => hs.find(([k]) => k.toLowerCase() === name)?.[1];
    const callId = x.protocol === 'sip' ? h('call-id', x.request.headers) ?? h('i', x.request.headers) : undefined;
    const cseq = x.protocol === 'sip' ? h('cseq', x.request.headers) : undefined;
    out.push({ kind: 'request', protocol: x.protocol, frame: x.request.frame, stream: x.stream, method: x.request.method, uri: x.request.uri, peer: x.response?.frame ?? null, callId, cseq });
    for (const i of x.interim ?? []) out.push({ kind: 'response', protocol: x.protocol, frame: i.frame, stream: x.stream, status: i.status, peer: null, callId, cseq });
    if (x.response) {
      out.push({ kind: 'response', protocol: x.protocol, frame: x.response.frame, stream: x.stream, status: x.response.status, peer: x.request.frame, callId, cseq });
    }
  }
  for (const u of unpaired) out.push({ kind: 'response', protocol: u.protocol as 'http' | 'sip', frame: u.frame, stream: u.stream, status: u.status, peer: null });
  return out;
}

function compare(file: string, oracle: OracleLine[], ours: Ours[]): string[] {
  const problems: string[] = [];
  const used = new Set<Ours>();
  for (const o of oracle) {
    const protocol = o.kind === 'sip' ? 'sip' : 'http';
    const kind = o.kind === 'http-request' || (o.kind === 'sip' && o.method) ? 'request' : 'response';
    const candidates = ours.filter(
      (m) =>
        !used.has(m) && m.protocol === protocol && m.kind === kind && m.frame === o.frame &&
        (kind === 'request' ? m.method === o.method : m.status === o.status),
    );
    // SIP retransmissions are collapsed by authcap into one exchange: match them by transaction instead.
    const m = candidates.find((c) => kind !== 'request' || protocol === 'sip' || c.uri === o.uri) ?? candidates[0];
    const label = `${o.frame}:${kind}`;
    if (!m) {
      if (protocol === 'sip') {
        const same = ours.find((x) => x.protocol === 'sip' && x.kind === kind && x.callId === o.call_id && x.cseq?.replace(/\s+/g, ' ') === o.cseq?.replace(/\s+/g, ' '));
        if (same) continue; // a retransmission of a transaction authcap reports once
      }
      problems.push(`${label}: tshark has ${kind === 'request' ? `${o.method} ${o.uri}` : o.status} in stream ${o.stream}; authcap has nothing at that frame`);
      continue;
    }
    used.add(m);
    if (o.stream !== null && m.stream !== o.stream) problems.push(`${label}: stream ${m.stream} vs tshark ${o.stream}`);
    if (kind === 'request' && protocol === 'http' && m.uri !== o.uri) problems.push(`${label}: uri ${m.uri} vs tshark ${o.uri}`);
    if (protocol === 'http') {
      const theirs = kind === 'request' ? o.response_in ?? null : o.request_in ?? null;
      if (theirs !== null && m.peer !== theirs) problems.push(`${label}: paired with ${m.peer} vs tshark ${theirs}`);
    }
  }
  // What authcap found that tshark did not (HTTP only: tshark decodes HTTP on known ports and heuristics only).
  for (const m of ours) {
    if (used.has(m) || m.protocol !== 'http') continue;
    problems.push(`${m.frame}:${m.kind}: authcap has ${m.kind === 'request' ? `${m.method} ${m.uri}` : m.status} in stream ${m.stream}; tshark has nothing`);
  }
  return problems.filter((p) => !KNOWN[file]?.[p.split(':').slice(0, 2).join(':')]);
}

test('authcap agrees with tshark on every HTTP and SIP message of the shared corpus', async (t) => {
  if (!existsSync(join(CORPUS, 'oracle'))) {
    t.skip(`${CORPUS} not found: the shared corpus is only present in CI and the developers' checkout`);
    return;
  }
  const files = readdirSync(CORPUS).filter((f) => existsSync(join(CORPUS, 'oracle', `${f}.jsonl`))).sort();
  assert.ok(files.length >= 50, `expected the corpus, found ${files.length} files`);
  let total = 0;
  let agreed = 0;
  const failures: string[] = [];
  for (const f of files) {
    const oracle = readFileSync(join(CORPUS, 'oracle', `${f}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OracleLine);
    const { report } = await analyze([join(CORPUS, f)]);
    const ours = ourMessages(report.exchanges, (report.unpairedResponses as never[]) ?? []);
    const problems = compare(f, oracle, ours);
    total += oracle.length;
    agreed += oracle.length - problems.filter((p) => /tshark has/.test(p) || / vs tshark /.test(p)).length;
    for (const p of problems) failures.push(`${f} ${p}`);
  }
  t.diagnostic(`agreement: ${agreed}/${total} tshark messages over ${files.length} captures; ${Object.values(KNOWN).reduce((n, k) => n + Object.keys(k).length, 0)} documented differences`);
  assert.deepEqual(failures, [], `disagreements with tshark:\n${failures.join('\n')}`);
});
