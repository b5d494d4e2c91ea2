// The second thread (--threads 2) and the third (--threads 3: the reading on a thread of its own): what
// the front end posts arrives intact, the report is the same byte for byte as on one thread, and
// exchanges stay in request-frame order even when a request completes long after it began.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeContext, Message } from '../../src/types.js';
import { DEFAULT_LIMITS } from '../../src/types.js';
import { BatchWriter, FindingsWriter, readBatch, readFindings } from '../../src/backend/wire.js';
import type { SeqFinding } from '../../src/backend/backend.js';
import type { StubFinding } from '../../src/report/findings-spill.js';
import type { BackendItem } from '../../src/backend/backend.js';
import { ExchangeBuilder, toRequestJson, toResponseJson } from '../../src/exchanges/builder.js';
import { writePcap } from '../lib/capture-writer.js';
import { TcpSession, interleave } from '../lib/packets.js';
import { allSamples, sampleBytes } from '../lib/samples.js';
import { runCli } from '../lib/run-cli.js';
import { message } from '../lib/message.js';
import { findingJsonText, stubText } from '../lib/stub-text.js';
import { LAZY_HEADERS } from '../../src/protocols/http.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-threads-'));

function item(req: Message, res: Message | null, extra: Partial<BackendItem> = {}, ex: Record<string, unknown> = {}): BackendItem {
  const ctx: ExchangeContext = {
    exchange: {
      id: `x${req.frame}`,
      protocol: req.protocol,
      stream: req.protocol === 'sip' ? null : 7,
      client: '192.0.2.1:40000',
      server: '198.51.100.2:80',
      request: toRequestJson(req),
      response: res ? toResponseJson(res) : null,
      transport: req.protocol === 'sip' ? 'udp' : 'tcp',
      ...ex,
    },
    req,
    res,
    clientIp: '192.0.2.1',
    clientPort: 40000,
    serverIp: '198.51.100.2',
    serverPort: 80,
    transport: req.protocol === 'sip' ? 'udp' : 'tcp',
    time: req.time,
  };
  return { ctx, kept: true, seq: 3, watermark: 10, ...extra };
}

test('a batch posted to the worker arrives with the same messages, bodies and exchanges', () => {
  // Bodies as views into one larger buffer (as the parser hands them over), a decoded body that differs.
  const pool = Buffer.from('....user=alice&password=secret\u0000....{"ok":true}....', 'latin1');
  const items: BackendItem[] = [
    item(
      message({
        kind: 'request', frame: 5, method: 'POST', uri: '/api?x=1', contentLength: 27,
        // Strings of every kind the binary form distinguishes: ASCII, latin1 bytes (0x80-0xff, as header
        // values are decoded), other Unicode, and a lone surrogate (not valid UTF-8).
        headers: [['Host', 'a'], ['Content-Type', 'application/x-www-form-urlencoded'], ['Authorization', 'Basic YTpi'], ['X-Name', 'caf\u00e9\u00ff'], ['X-Wide', '\u4e2d\u{1f600}'], ['X-Odd', 'a\ud800b'], ['X-Empty', '']],
        body: pool.subarray(4, 31), anomalies: ['content-length: twice'],
      }),
      message({
        kind: 'response', frame: 9, status: 200, reason: 'OK', chunked: true, trailers: [['X-T', '1']],
        headers: [['Content-Encoding', 'gzip']], body: Buffer.from([0x1f, 0x8b, 1, 2]), decodedBody: pool.subarray(35, 46), bodyLength: 4,
      }),
      { kept: false, seq: 11, watermark: Infinity },
      { tls: true, interim: [{ frame: 8, status: 100 }] },
    ),
    item(message({ kind: 'request', frame: 12, method: 'GET', uri: '/', incomplete: true, bodyTruncated: true }), null, { watermark: -Infinity }),
    item(message({ protocol: 'sip', kind: 'request', frame: 20, method: 'REGISTER', uri: 'sip:x', version: 'SIP/2.0', headers: [['Call-ID', 'c']] }), null, {}, { stream: null }),
    // A head kept as text (lazyHeaders): the worker makes its fields; checked below.
    item(message({ kind: 'request', frame: 30, method: 'GET', uri: '/', headers: LAZY_HEADERS, rawHead: 'GET / HTTP/1.1\r\nHost:  a \r\nX-Caf\u00e9: \u00ff\r\n' }), null),
  ];
  const w = new BatchWriter();
  for (const i of items) w.add(i);
  assert.equal(w.size, 4);
  assert.equal(w.bodyBytes, 27 + 4 + 11);
  const posted = structuredClone(w.take()); // what postMessage does to it
  assert.equal(w.size, 0);
  const got = readBatch(posted);
  const lazy = items.pop()!;
  const made = got.pop()!;
  assert.deepStrictEqual(made.ctx.req.headers, [['Host', 'a'], ['X-Caf\u00e9', '\u00ff']]);
  assert.equal(made.ctx.req.rawHead, undefined);
  const { headers: _h, rawHead: _r, ...rest } = lazy.ctx.req;
  const { headers: _h2, ...madeRest } = made.ctx.req;
  assert.deepStrictEqual(madeRest, rest);
  for (let i = 0; i < items.length; i++) {
    const have = got[i];
    assert.deepStrictEqual(have, items[i], `item ${i}`);
    assert.ok(Buffer.isBuffer(have.ctx.req.body));
  }
  // What the checks rely on: the exchange shares the messages' headers, the undecoded body is the body.
  assert.equal(got[0].ctx.exchange.request.headers, got[0].ctx.req.headers);
  assert.equal(got[1].ctx.req.decodedBody, got[1].ctx.req.body);
  assert.notEqual(got[0].ctx.res!.decodedBody, got[0].ctx.res!.body);
});

test("the worker's findings come back as they were: stubs in binary form, anything else cloned", () => {
  const stub = (o: Partial<StubFinding>): StubFinding => ({
    code: 'http.unauthorized', severity: 'info', message: '', exchange: 'x7', stream: 3, frames: [41], filter: '',
    evidence: { client: '192.0.2.1' }, textRef: [0, 812], ...o,
  });
  const list: SeqFinding[] = [
    { seq: 4, order: 0, finding: stub({}) },
    { seq: 4, order: 1, finding: stub({ code: 'auth.missing', severity: 'error', exchange: null, stream: null, frames: [], evidence: {}, textRef: [812, 1] }) },
    // Not plain stubs: a whole finding, and a stub whose evidence holds more than the client.
    { seq: 9, finding: { code: 'tcp.gap', severity: 'warning', message: 'm', exchange: null, stream: 2, frames: [5, 6], filter: 'tcp.stream eq 2', evidence: { bytes: 3, gaps: [{ at: 1 }] } } },
    { seq: 9, order: 2, finding: stub({ evidence: { client: 'a', user: 'b' } }) },
    { seq: 10, finding: stub({ evidence: { src: '\u00e9\ud800', }, exchange: 'caf\u00e9', frames: [2 ** 40] }) },
  ];
  const fw = new FindingsWriter();
  for (const sf of list) fw.add(sf);
  const wire = fw.take();
  assert.equal(wire.count, 3);
  assert.deepEqual(wire.others.map((o) => o.at), [2, 3]);
  const back = readFindings(structuredClone(wire));
  assert.deepStrictEqual(back, list);
  // Absent keys stay absent (not present as undefined): `order` is optional.
  assert.equal('order' in back[4], false);
});

test('minPendingFrame: requests waiting for an answer and requests being assembled hold the watermark', () => {
  const b = new ExchangeBuilder({ onExchange: () => undefined, onUnpaired: () => undefined });
  const path = { transport: 'tcp' as const, stream: 0, clientIp: '192.0.2.1', clientPort: 1, serverIp: '192.0.2.2', serverPort: 80 };
  assert.equal(b.minPendingFrame(), Infinity);
  const slot = b.assembling.add(3);
  assert.equal(b.minPendingFrame(), 3);
  b.httpRequest(path, message({ kind: 'request', frame: 7, method: 'GET', uri: '/' }));
  assert.equal(b.minPendingFrame(), 3);
  b.assembling.done(slot);
  assert.equal(b.minPendingFrame(), 7);
  b.httpResponse(path, message({ kind: 'response', frame: 8, status: 200, reason: 'OK' }));
  assert.equal(b.minPendingFrame(), Infinity);
  // A request never answered does not let answered ones pile up behind it.
  b.httpRequest({ ...path, stream: 1 }, message({ kind: 'request', frame: 10, method: 'GET', uri: '/' }));
  for (let f = 11; f < 5000; f += 2) {
    b.httpRequest(path, message({ kind: 'request', frame: f, method: 'GET', uri: '/' }));
    b.httpResponse(path, message({ kind: 'response', frame: f + 1, status: 200, reason: 'OK' }));
  }
  assert.equal(b.minPendingFrame(), 10);
  b.closeStream(1);
  assert.equal(b.minPendingFrame(), Infinity);
});

test('--threads 2 and 3 write the same report as --threads 1 on every sample, redacted and not', () => {
  for (const s of allSamples()) {
    const f = join(dir, `${s.name}.pcap`);
    writeFileSync(f, sampleBytes(s));
    for (const extra of [[], ['--show-secrets']]) {
      const one = runCli([f, ...s.args, ...extra, '--format', 'json', '--threads', '1']);
      assert.ok(one.stdout.length > 100, `${s.name}: a report`);
      for (const threads of ['2', '3']) {
        const more = runCli([f, ...s.args, ...extra, '--format', 'json', '--threads', threads]);
        assert.equal(more.code, one.code, `${s.name} ${extra} threads ${threads}: exit code`);
        assert.equal(more.stdout, one.stdout, `${s.name} ${extra} threads ${threads}: same bytes`);
      }
    }
  }
});

test('--threads 3: filters, stdin (read here, on two threads) and -o give what one thread gives', () => {
  const s = allSamples().find((x) => x.name === 'digest-wrong-password') ?? allSamples()[0];
  const f = join(dir, `${s.name}-three.pcap`);
  writeFileSync(f, sampleBytes(s));
  const one = runCli([f, ...s.args, '--format', 'json', '--threads', '1']);
  const stream = JSON.parse(one.stdout).exchanges[0].stream as number;
  for (const filter of [['--stream', String(stream)], ['--since', '2000-01-01T00:00:00Z'], ['--port', '1']]) {
    const a = runCli([f, ...s.args, ...filter, '--format', 'json', '--threads', '1']);
    const b = runCli([f, ...s.args, ...filter, '--format', 'json', '--threads', '3']);
    assert.equal(b.stdout, a.stdout, `${filter}: same report`);
  }
  const piped = runCli(['-', ...s.args, '--format', 'json', '--threads', '3'], { input: sampleBytes(s) });
  const pipedOne = runCli(['-', ...s.args, '--format', 'json', '--threads', '1'], { input: sampleBytes(s) });
  assert.equal(piped.code, one.code);
  assert.ok(piped.stdout.length > 100);
  assert.equal(piped.stdout, pipedOne.stdout, 'stdin: the same bytes');
  const out = join(dir, 'three.json');
  const r = runCli([f, ...s.args, '--format', 'json', '--threads', '3', '-o', out]);
  assert.equal(r.code, one.code);
  assert.equal(readFileSync(out, 'utf8'), one.stdout, '-o: the same bytes in the file');
});

test('--threads 3: what cannot be read is one line and exit 2, as on one thread, and no report file is left', () => {
  const session = new TcpSession('10.0.0.1:40000', '192.0.2.1:80');
  session.handshake();
  const f = join(dir, 'user0.pcap');
  writeFileSync(f, writePcap(session.packets, { linkType: 147 }));
  const out = join(dir, 'never.json');
  const one = runCli([f, '--format', 'json', '--threads', '1']);
  const three = runCli([f, '--format', 'json', '--threads', '3', '-o', out]);
  assert.equal(one.code, 2);
  assert.equal(three.code, 2);
  assert.equal(three.stderr, one.stderr, 'the same one-line message');
  assert.match(three.stderr, /^authcap: cannot read '.*user0\.pcap': link type 147 is not supported/);
  assert.equal(existsSync(out), false);
});

test('--threads 2 and 3: the gate (--fail-on, --ignore, --baseline) decides as with one thread', () => {
  const s = allSamples().find((x) => x.name === 'digest-wrong-password') ?? allSamples()[0];
  const f = join(dir, `${s.name}-gate.pcap`);
  writeFileSync(f, sampleBytes(s));
  const base = join(dir, 'baseline.json');
  // A baseline that knows the first half of the findings: the rest must still be reported.
  const full = JSON.parse(runCli([f, ...s.args, '--format', 'json', '--threads', '1']).stdout);
  assert.ok(full.findings.length >= 2, 'the sample has findings to gate on');
  writeFileSync(base, JSON.stringify({ ...full, findings: full.findings.slice(0, full.findings.length >> 1) }));
  for (const gate of [['--fail-on', 'warning'], ['--fail-on', 'none'], ['--ignore', 'http', '--ignore', 'auth.*'], ['--baseline', base]]) {
    const one = runCli([f, ...s.args, ...gate, '--format', 'json', '--threads', '1']);
    for (const threads of ['2', '3']) {
      const more = runCli([f, ...s.args, ...gate, '--format', 'json', '--threads', threads]);
      assert.equal(more.code, one.code, `${gate} threads ${threads}: exit code`);
      assert.equal(more.stdout, one.stdout, `${gate} threads ${threads}: same report`);
    }
  }
});

test('a request that completes long after it began is still listed in request-frame order', () => {
  // One upload is cut off (the connection is reset in its body) after 20,000 frames of other traffic:
  // its exchange is reported with the frame of its last byte, which is far behind the others.
  const slow = new TcpSession('10.9.0.1:50000', '192.0.2.80:80', { time: 1_700_000_000, step: 0.000001 });
  slow.handshake();
  slow.send('client', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nfirst part', { ackEach: false });
  const busy: TcpSession[] = [];
  for (let c = 0; c < 50; c++) {
    const s = new TcpSession(`10.9.1.${c + 1}:40000`, '192.0.2.80:80', { time: 1_700_000_000.01, step: 0.00002 });
    s.handshake();
    for (let r = 0; r < 100; r++) {
      s.send('client', `GET /item/${c}/${r} HTTP/1.1\r\nHost: x\r\n\r\n`, { ackEach: false });
      s.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { ackEach: false });
    }
    s.close();
    busy.push(s);
  }
  const end = new TcpSession('10.9.0.1:50000', '192.0.2.80:80', { time: 1_700_000_010 });
  end.nextSeq = { ...slow.nextSeq };
  end.rst('client');
  const f = join(dir, 'late.pcap');
  writePcap_(f, interleave(slow.packets, ...busy.map((s) => s.packets), end.packets));
  for (const threads of ['1', '2', '3']) {
    const r = runCli([f, '--format', 'json', '--threads', threads]);
    const report = JSON.parse(r.stdout);
    const frames: number[] = report.exchanges.map((x: { request: { frame: number } }) => x.request.frame);
    assert.equal(frames.length, 5001, `threads ${threads}: every exchange`);
    const upload = report.exchanges.find((x: { request: { uri: string } }) => x.request.uri === '/upload');
    assert.equal(upload.request.incomplete, true);
    assert.equal(report.exchanges[0], upload, `threads ${threads}: the cut-off upload began first and is listed first`);
    assert.deepEqual(frames, [...frames].sort((a, b) => a - b), `threads ${threads}: request-frame order`);
  }
});

function writePcap_(file: string, packets: Parameters<typeof writePcap>[0]): void {
  writeFileSync(file, writePcap(packets));
}

test('findings written away by the worker read back as the text the writer would have made', async () => {
  const { FindingsSpill, FindingsReader, isStub } = await import('../../src/report/findings-spill.js');
  const spillDir = mkdtempSync(join(tmpdir(), 'authcap-findings-'));
  const findings = [
    { code: 'auth.missing', severity: 'error', message: 'no credentials \u202e here', exchange: 'x1', stream: 3, frames: [5, 7], filter: 'tcp.stream eq 3', evidence: { client: '192.0.2.1', password: 'hunter22' } },
    { code: 'tcp.gap', severity: 'warning', message: 'x'.repeat(600_000), exchange: null, stream: null, frames: [], filter: '', evidence: { clientIp: '192.0.2.9' } },
    { code: 'http.unauthorized', severity: 'info', message: 'token abcd1234secret seen', exchange: 'x2', stream: 4, frames: [9], filter: '', evidence: {} },
  ] as const;
  const secrets: Record<string, string[]> = { x2: ['abcd1234secret'] };
  for (const redact of [true, false]) {
    const spill = new FindingsSpill(spillDir, redact, (id) => secrets[id] ?? []);
    const stubs = findings.map((f) => spill.add(structuredClone(f) as never));
    const reader = new FindingsReader(spill.close());
    for (let i = 0; i < findings.length; i++) {
      const f = findings[i] as never;
      assert.ok(isStub(stubs[i]));
      assert.equal(stubText(reader, stubs[i].textRef), findingJsonText(f, redact, secrets[(findings[i].exchange ?? '') as string] ?? []), `finding ${i} redact=${redact}`);
      // What the gate reads survives in the stub.
      assert.equal(stubs[i].code, findings[i].code);
      assert.equal(stubs[i].severity, findings[i].severity);
      assert.equal(stubs[i].exchange, findings[i].exchange);
      assert.deepEqual(stubs[i].frames, findings[i].frames.slice(0, 1));
    }
    assert.equal(stubs[0].evidence.client, '192.0.2.1');
    assert.equal(stubs[1].evidence.clientIp, '192.0.2.9');
    reader.close();
    if (redact) {
      assert.doesNotMatch(stubText(new FindingsReader(spill.file), stubs[0].textRef), /hunter22/);
      assert.doesNotMatch(stubText(new FindingsReader(spill.file), stubs[2].textRef), /abcd1234secret/);
    }
  }
});

test("the worker's heap limit follows the input size, and running out of it is a clear error", async () => {
  const { RemoteBackend, workerHeapLimitMb } = await import('../../src/backend/remote.js');
  const { getHeapStatistics } = await import('node:v8');
  assert.equal(workerHeapLimitMb(null), undefined);
  assert.equal(workerHeapLimitMb(0), 1024);
  assert.equal(workerHeapLimitMb(1 << 30), 1024 + 512);
  assert.equal(workerHeapLimitMb(200 * (1 << 20) + 1), 1024 + 101);
  // Never above V8's own limit: none is given instead.
  assert.equal(workerHeapLimitMb(getHeapStatistics().heap_size_limit * 2), undefined);

  // Exchanges held behind a watermark that never moves (up to the reorder bound) fill a tiny heap.
  const b = new RemoteBackend({ options: { limits: DEFAULT_LIMITS }, filtering: false, keepExchanges: false, redact: true }, { heapLimitMb: 8 });
  const headers: [string, string][] = Array.from({ length: 40 }, (_, i) => [`X-Filler-${i}`, 'v'.repeat(60)]);
  const run = async () => {
    for (let i = 1; i < 200_000; i++) {
      b.exchange(item(message({ kind: 'request', frame: i, method: 'GET', uri: `/${i}`, headers }), null, { watermark: -Infinity }));
      await b.pace();
    }
    await b.finish(0);
  };
  // The CLI prints an InputError's message as it is, on one line, and exits with 2.
  await assert.rejects(run(), { name: 'InputError', message: 'authcap: the analysis worker ran out of memory (heap limit 8 MB): run again with --threads 1' });
  b.dispose();
});
