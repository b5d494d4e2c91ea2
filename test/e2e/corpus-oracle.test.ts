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
  /** Frame that carried the message's first byte. */
  firstFrame: number;
  /** authcap's request.incomplete / response.incomplete: the message spans a hole or the capture's end. */
  incomplete: boolean;
  /** The message began after a hole in what its sender sent on this connection (a tcp.gap finding). */
  afterHole: boolean;
}

/** One side's holes of a TCP connection, from the tcp.gap findings: sender "ip:port" -> frames before each hole. */
type Holes = Map<string, number[]>;

function holesOf(findings: { code: string; stream: number | null; evidence: Record<string, unknown> }[]): Map<number, Holes> {
  const out = new Map<number, Holes>();
  for (const f of findings) {
    if (f.code !== 'tcp.gap' || f.stream === null) continue;
    const ev = f.evidence as { client: string; server: string; gaps: { direction: 'client' | 'server'; frameBefore: number | null }[] };
    let h = out.get(f.stream);
    if (!h) out.set(f.stream, (h = new Map()));
    for (const g of ev.gaps) {
      // A hole before anything was seen (frameBefore null) is the capture starting mid-stream: tshark decodes
      // what follows such a hole, so it does not count here.
      if (g.frameBefore === null) continue;
      const sender = g.direction === 'client' ? ev.client : ev.server;
      h.set(sender, [...(h.get(sender) ?? []), g.frameBefore]);
    }
  }
  return out;
}

/**
 * Rules for where tshark 4.0 (as the oracle runs it) is the one that is wrong. Each explains one kind of
 * difference and is narrow: it needs a fact from authcap's report that tshark's behaviour is known to trip on.
 */
const RULES = {
  spansHole:
    'tshark shows no message that spans a missing segment or the end of the capture (it waits for the bytes forever); authcap reports it with incomplete: true',
  afterHole:
    'with tcp.reassemble_out_of_order on (as the oracle runs it), tshark queues every later segment of a direction behind a ' +
    'missing one and dissects nothing more from that sender ("[TCP segment of a reassembled PDU]"); authcap resynchronises on ' +
    'the next start line (checked: with TSHARK_ORACLE_OOO=0 tshark shows these messages at the same frames)',
  pipelinedFrame:
    'tshark keeps response_in per frame: every request of a frame that holds several pipelined requests gets the same ' +
    'response_in (the response to the first one), so its pairing of the others says nothing',
} as const;
type Rule = keyof typeof RULES;

/**
 * Disagreements with tshark that are tshark's mistakes (or deliberate differences), per file:
 * `frame:kind` -> why. Each was checked by hand in Wireshark's dissection of the file.
 */
const KNOWN: Record<string, Record<string, string>> = {
  'sv-tests_detect-pcre_detect-pcre-04_input.pcap': {
    // Checked with tshark -V: http.request.method "POST", http.request.uri "", http.request.version "/  HTTP/1.0".
    '1:request':
      'request line "POST  /  HTTP/1.0" (two spaces between words): tshark splits at each single space and shows URI "" ' +
      'and version "/  HTTP/1.0"; authcap splits on runs of spaces (RFC 9112 section 3) and reads URI "/", version HTTP/1.0',
    '2:request': 'request line "GET  /  HTTP/1.0": as frame 1, tshark shows URI "" and version "/  HTTP/1.0"; authcap reads URI "/"',
  },
  'ndpi-tests_cfgs_default_pcap_fuzz-2006-09-29-28586.pcap': {
    // Checked by hand: frame 113 (tcp.stream 33) holds "HTTP/1.1 202 Accepted\r\x1a..." - the fuzzer turned the LF into 0x1a.
    '126:response':
      'the status line ends in a bare CR ("\\r\\x1a"): tshark takes the bare CR as a line end; RFC 9112 section 2.2 says a ' +
      'recipient must treat a bare CR as invalid (or replace it with SP), never as a line end, and authcap reports the ' +
      'message as http.malformed',
  },
};

function ourMessages(
  exchanges: Exchange[],
  unpaired: { protocol: string; stream: number | null; frame: number; status: number; server: string; firstFrame?: number; incomplete?: boolean }[],
  holes: Map<number, Holes>,
): Ours[] {
  const out: Ours[] = [];
  const afterHole = (stream: number | null, sender: string, firstFrame: number) =>
    stream !== null && (holes.get(stream)?.get(sender) ?? []).some((before) => before < firstFrame);
  for (const x of exchanges) {
    const h = (name: string, hs: [string, string][]) => hs.find(([k]) => k.toLowerCase() === name)?.[1];
    const callId = x.protocol === 'sip' ? h('call-id', x.request.headers) ?? h('i', x.request.headers) : undefined;
    const cseq = x.protocol === 'sip' ? h('cseq', x.request.headers) : undefined;
    const q = x.request;
    const qFirst = q.firstFrame ?? q.frame;
    out.push({
      kind: 'request', protocol: x.protocol, frame: q.frame, stream: x.stream, method: q.method, uri: q.uri, peer: x.response?.frame ?? null,
      callId, cseq, firstFrame: qFirst, incomplete: q.incomplete === true, afterHole: afterHole(x.stream, x.client, qFirst),
    });
    for (const i of x.interim ?? []) {
      out.push({
        kind: 'response', protocol: x.protocol, frame: i.frame, stream: x.stream, status: i.status, peer: null, callId, cseq,
        firstFrame: i.frame, incomplete: false, afterHole: afterHole(x.stream, x.server, i.frame),
      });
    }
    const r = x.response;
    if (r) {
      const rFirst = r.firstFrame ?? r.frame;
      out.push({
        kind: 'response', protocol: x.protocol, frame: r.frame, stream: x.stream, status: r.status, peer: q.frame, callId, cseq,
        firstFrame: rFirst, incomplete: r.incomplete === true, afterHole: afterHole(x.stream, x.server, rFirst),
      });
    }
  }
  for (const u of unpaired) {
    out.push({
      kind: 'response', protocol: u.protocol as 'http' | 'sip', frame: u.frame, stream: u.stream, status: u.status, peer: null,
      firstFrame: u.firstFrame ?? u.frame, incomplete: u.incomplete === true, afterHole: afterHole(u.stream, u.server, u.firstFrame ?? u.frame),
    });
  }
  return out;
}

interface Difference {
  label: string;
  text: string;
  /** Set when tshark's known behaviour explains it: a RULES key, or "known" (a KNOWN entry). */
  why?: Rule | 'known';
  /** Counts against the agreement (a tshark message authcap does not match). */
  disagrees: boolean;
}

function compare(file: string, oracle: OracleLine[], ours: Ours[]): Difference[] {
  const diffs: Difference[] = [];
  const used = new Set<Ours>();
  // Frames where tshark shows more than one HTTP request (pipelining within one segment).
  const requestsPerFrame = new Map<number, number>();
  for (const o of oracle) if (o.kind === 'http-request') requestsPerFrame.set(o.frame, (requestsPerFrame.get(o.frame) ?? 0) + 1);
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
      diffs.push({ label, disagrees: true, text: `tshark has ${kind === 'request' ? `${o.method} ${o.uri}` : o.status} in stream ${o.stream}; authcap has nothing at that frame` });
      continue;
    }
    used.add(m);
    if (o.stream !== null && m.stream !== o.stream) diffs.push({ label, disagrees: true, text: `stream ${m.stream} vs tshark ${o.stream}` });
    if (kind === 'request' && protocol === 'http' && m.uri !== o.uri) diffs.push({ label, disagrees: true, text: `uri ${m.uri} vs tshark ${o.uri}` });
    if (protocol === 'http') {
      const theirs = kind === 'request' ? o.response_in ?? null : o.request_in ?? null;
      if (theirs !== null && m.peer !== theirs) {
        const shared = kind === 'request' && (requestsPerFrame.get(o.frame) ?? 0) > 1;
        diffs.push({
          label, disagrees: true, text: `${kind === 'request' ? `${o.method} ${o.uri}` : o.status} paired with ${m.peer} vs tshark ${theirs}`,
          ...(shared ? { why: 'pipelinedFrame' as const } : {}),
        });
      }
    }
  }
  // What authcap found that tshark did not (HTTP only: tshark decodes HTTP on known ports and heuristics only).
  for (const m of ours) {
    if (used.has(m) || m.protocol !== 'http') continue;
    const why: Rule | undefined = m.incomplete ? 'spansHole' : m.afterHole ? 'afterHole' : undefined;
    diffs.push({
      label: `${m.frame}:${m.kind}`, disagrees: false, ...(why ? { why } : {}),
      text: `authcap has ${m.kind === 'request' ? `${m.method} ${m.uri}` : m.status} in stream ${m.stream}; tshark has nothing`,
    });
  }
  for (const d of diffs) if (!d.why && KNOWN[file]?.[d.label]) d.why = 'known';
  return diffs;
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
  const documented: string[] = [];
  const perRule = new Map<Rule | 'known', number>();
  for (const f of files) {
    const oracle = readFileSync(join(CORPUS, 'oracle', `${f}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OracleLine);
    const { report } = await analyze([join(CORPUS, f)]);
    const ours = ourMessages(report.exchanges, (report.unpairedResponses as never[]) ?? [], holesOf(report.findings));
    const diffs = compare(f, oracle, ours);
    total += oracle.length;
    agreed += oracle.length - diffs.filter((d) => d.disagrees).length;
    for (const d of diffs) {
      const line = `${f} ${d.label}: ${d.text}`;
      if (!d.why) {
        failures.push(line);
        continue;
      }
      perRule.set(d.why, (perRule.get(d.why) ?? 0) + 1);
      documented.push(`${line}  [${d.why === 'known' ? `KNOWN: ${KNOWN[f][d.label]}` : d.why}]`);
    }
  }
  t.diagnostic(`agreement: ${agreed}/${total} tshark messages over ${files.length} captures; ${documented.length} documented differences`);
  for (const [rule, text] of Object.entries(RULES)) t.diagnostic(`rule ${rule} explains ${perRule.get(rule as Rule) ?? 0}: ${text}`);
  t.diagnostic(`KNOWN explains ${perRule.get('known') ?? 0} (${Object.values(KNOWN).reduce((n, k) => n + Object.keys(k).length, 0)} entries)`);
  for (const d of documented) t.diagnostic(`documented: ${d}`);
  // A KNOWN entry that no longer matches anything is stale: authcap changed, or the oracle did.
  const stale = Object.entries(KNOWN).flatMap(([f, entries]) =>
    Object.keys(entries).filter((label) => !documented.some((d) => d.startsWith(`${f} ${label}: `))).map((label) => `${f} ${label}`),
  );
  assert.deepEqual(stale, [], `KNOWN entries that explain nothing any more:\n${stale.join('\n')}`);
  // Any disagreement not explained by a rule or a KNOWN entry (with the reason tshark is wrong) is a bug.
  for (const f of failures) t.diagnostic(`UNEXPLAINED ${f}`);
  assert.deepEqual(failures, [], `disagreements with tshark:\n${failures.join('\n')}`);
});
