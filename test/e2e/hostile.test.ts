// Hostile and damaged input through the built CLI, as a user meets it: inputs that cannot be read give
// one clear line and exit 2; a capture damaged part-way is analysed up to the damage and says so with a
// capture.* finding, quickly even when 20 MB long; every --max-* limit that is hit is reported, never
// silent; and a capture written slowly to stdin is reported completely when the pipe closes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { PcapngBuilder, pcapHeader, pcapRecord, writePcap, writePcapng, type WrittenPacket } from '../lib/capture-writer.js';
import { TcpSession, ethernet, interleave, ipv4Fragments, udp, udpFrame } from '../lib/packets.js';
import { CLI } from '../lib/paths.js';
import { runCli, runJson, type CliResult } from '../lib/run-cli.js';
import { SAMPLE_KEY, allSamples, sampleBytes } from '../lib/samples.js';
import { writeSynthetic } from '../lib/synthetic.js';

const DIR = mkdtempSync(join(tmpdir(), 'authcap-hostile-'));
const T = 1_715_680_000;

function file(name: string, bytes: Buffer | string): string {
  const p = join(DIR, name);
  writeFileSync(p, bytes);
  return p;
}

/** Exit 2, nothing on stdout, exactly one line on stderr matching `re`. */
function oneLineError(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^authcap: /);
  assert.doesNotMatch(lines[0], /internal error|at .*\.js:\d+/);
  assert.match(lines[0], re);
}

/** A small readable HTTP conversation: GET refused 401, with its handshake and close. */
function refusedGet(client = '10.1.1.1:40000', server = '10.2.2.2:80', time = T): WrittenPacket[] {
  const s = new TcpSession(client, server, { time, isn: [1000, 5000] });
  s.handshake();
  s.send('client', 'GET /private HTTP/1.1\r\nHost: api.example.net\r\n\r\n');
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="api"\r\nContent-Length: 0\r\n\r\n');
  s.close();
  return s.packets;
}

/** Offsets of the records of a little-endian µs pcap. */
function recordOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let o = 24; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8)) out.push(o);
  return out;
}

const codes = (report: any) => report.findings.map((f: any) => f.code as string);
const count = (report: any, code: string) => codes(report).filter((c: string) => c === code).length;

// ---------------------------------------------------------------- unreadable input: one line, exit 2

test('a missing file: one line naming it, exit 2', () => {
  oneLineError(runCli([join(DIR, 'no-such.pcap')]), /no-such\.pcap.*no such file/);
});

test('a directory: one line, exit 2', () => {
  const d = join(DIR, 'a-directory');
  mkdirSync(d, { recursive: true });
  oneLineError(runCli([d]), /a-directory.*is a directory/);
});

test(
  'an unreadable file (chmod 000): one line, exit 2',
  { skip: process.getuid?.() === 0 ? 'running as root: root reads a chmod 000 file anyway, so there is nothing to refuse' : false },
  () => {
    const p = file('unreadable.pcap', writePcap(refusedGet()));
    chmodSync(p, 0o000);
    oneLineError(runCli([p]), /unreadable\.pcap.*permission denied/);
  },
);

test('not a capture (a text file, an empty file, gzip of text): one line, exit 2', () => {
  oneLineError(runCli([file('notes.txt', 'GET / HTTP/1.1\r\nHost: x\r\n\r\nthis is a text file, not a capture\n')]), /notes\.txt.*not a pcap or pcapng file/);
  oneLineError(runCli([file('empty.pcap', Buffer.alloc(0))]), /empty\.pcap.*empty/);
  oneLineError(runCli([file('text.gz', gzipSync('just some text that is long enough\n'))]), /text\.gz.*not a pcap or pcapng file/);
});

test('a pcapng section of an unknown major version: one line naming the version, exit 2', () => {
  const b = new PcapngBuilder().section({ major: 2, minor: 0 });
  b.interface({ linkType: 1 });
  for (const p of refusedGet()) b.epb(p);
  oneLineError(runCli([file('v2.pcapng', b.toBuffer())]), /v2\.pcapng.*version 2\.0/);
});

test('a capture whose only link type is unsupported: one line naming the link type, exit 2', () => {
  // LINKTYPE_USER0 (147): packets authcap cannot decode at all, in pcap and in pcapng.
  const packets = refusedGet().map((p) => ({ ...p, data: p.data.subarray(14) }));
  oneLineError(runCli([file('user0.pcap', writePcap(packets, { linkType: 147 }))]), /user0\.pcap.*link type 147/);
  oneLineError(runCli([file('user0.pcapng', writePcapng(packets, { linkType: 147 }))]), /user0\.pcapng.*link type 147/);
});

// ---------------------------------------------------------------- damage: analysed up to it, and said

test('a capture cut inside its last record: capture.truncated, and the findings from before the cut are all there', () => {
  const sms = allSamples().find((s) => s.name === 'sms-gateway-missing-user')!;
  const whole = sampleBytes(sms);
  const full = runJson([file('sms-whole.pcap', whole)]);
  const refused = count(full.report, 'http.unauthorized');
  assert.ok(refused >= 2, `the sample shows its two refused POSTs (got ${refused})`);
  assert.equal(count(full.report, 'capture.truncated'), 0);

  const offs = recordOffsets(whole);
  const last = offs[offs.length - 1];
  const lastLen = whole.readUInt32LE(last + 8);
  for (const [what, at] of [['inside its data', last + 16 + (lastLen >> 1)], ['inside its header', last + 7]] as const) {
    const cut = runJson([file(`sms-cut-${at}.pcap`, whole.subarray(0, at))]);
    assert.equal(cut.code, 1, what);
    assert.equal(count(cut.report, 'capture.truncated'), 1, `${what}: ${codes(cut.report).join(', ')}`);
    assert.equal(count(cut.report, 'http.unauthorized'), refused, `${what}: the refusals before the cut are still reported`);
    assert.equal(cut.report.stats.packets, offs.length - 1, `${what}: every whole record was read`);
    const f = cut.report.findings.find((x: any) => x.code === 'capture.truncated');
    assert.deepEqual(f.frames, [offs.length - 1], 'the finding names the last good frame');
  }
});

test('a gzip-compressed capture cut short: capture.truncated, the packets before the cut analysed', () => {
  const sms = allSamples().find((s) => s.name === 'sms-gateway-missing-user')!;
  const z = gzipSync(sampleBytes(sms));
  const cut = z.subarray(0, Math.floor(z.length * 0.9));
  // what a reader can recover from the cut stream: its complete records are all to be analysed
  const recovered = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const whole = recordOffsets(recovered).filter((o) => o + 16 + recovered.readUInt32LE(o + 8) <= recovered.length).length;
  const r = runJson([file('sms-cut.pcap.gz', cut)]);
  assert.ok([0, 1].includes(r.code));
  assert.ok(codes(r.report).includes('capture.truncated'), codes(r.report).join(', '));
  assert.ok(whole > 10);
  assert.equal(r.report.stats.packets, whole, 'every record before the cut is analysed');
});

// Node's Gunzip finds a bad checksum in the same native call that produces the last output and then drops
// that output (a small file lost everything, a large one its last chunk). src/capture/gzip.ts parses the gzip
// header itself, inflates the raw deflate data (no checksum check) and compares its own CRC-32 and size of
// the output with the trailer: every packet reaches the analysis, then capture.malformed reports the trailer.
test('a gzip-compressed capture whose CRC is wrong: every packet analysed, then capture.malformed', async () => {
  // The damage is in the gzip trailer, after the last byte of capture data: nothing may be lost.
  const sms = allSamples().find((s) => s.name === 'sms-gateway-missing-user')!;
  const small = sampleBytes(sms);
  const p = join(DIR, 'crc-big.pcap');
  const w = await writeSynthetic(p, 2 << 20);
  for (const [name, raw, packets] of [['crc-small.pcap.gz', small, recordOffsets(small).length], ['crc-big.pcap.gz', readFileSync(p), w.packets]] as const) {
    const z = Buffer.from(gzipSync(raw));
    z.writeUInt32LE(~z.readUInt32LE(z.length - 8) >>> 0, z.length - 8);
    const r = runCli([file(name, z), '--format', 'json']);
    assert.ok([0, 1].includes(r.code), `${name}: exit ${r.code}: ${r.stderr}`);
    const report = JSON.parse(r.stdout);
    assert.equal(report.stats.packets, packets, `${name}: every packet read`);
    assert.equal(count(report, 'capture.truncated'), 0, `${name}: not cut short: ${codes(report).join(', ')}`);
    assert.equal(count(report, 'capture.malformed'), 1, `${name}: the bad CRC is reported`);
  }
});

test('a bogus record length in the middle of a 20 MB capture: capture.malformed, in under 5 s', async () => {
  const p = join(DIR, 'big.pcap');
  const w = await writeSynthetic(p, 20 << 20);
  const big = readFileSync(p);
  let o = 24;
  let frames = 0;
  while (o < big.length / 2) {
    o += 16 + big.readUInt32LE(o + 8);
    frames++;
  }
  for (const bogus of [0x7ffffff0, 100_000]) {
    big.writeUInt32LE(bogus, o + 8);
    const damaged = file(`big-bogus-${bogus}.pcap`, big);
    const t0 = performance.now();
    const r = runJson([damaged], { timeoutMs: 60_000 });
    const ms = performance.now() - t0;
    assert.ok([0, 1].includes(r.code), `exit ${r.code}: ${r.stderr}`);
    const f = r.report.findings.find((x: any) => x.code === 'capture.malformed');
    assert.ok(f, `capture.malformed expected, got ${[...new Set(codes(r.report))].join(', ')}`);
    assert.ok(r.report.stats.packets >= frames && r.report.stats.packets < w.packets, `read the ${frames} records before the damage (${r.report.stats.packets} of ${w.packets})`);
    assert.ok(ms < 5000, `bogus length ${bogus}: took ${ms.toFixed(0)} ms`);
  }
});

test('a bogus block length in the middle of a pcapng capture: capture.malformed, earlier findings kept', () => {
  const packets = interleave(refusedGet('10.1.1.1:40000', '10.2.2.2:80', T), refusedGet('10.1.1.9:40009', '10.2.2.2:80', T + 10));
  const b = writePcapng(packets);
  // blocks: SHB, IDB, then one EPB per packet; damage the EPB of the last packet
  let o = 0;
  for (let i = 0; i < 2 + packets.length - 1; i++) o += b.readUInt32LE(o + 4);
  b.writeUInt32LE(0xfffffff0, o + 4);
  const r = runJson([file('bogus-block.pcapng', b)]);
  assert.equal(r.code, 1);
  assert.equal(count(r.report, 'capture.malformed'), 1, codes(r.report).join(', '));
  assert.equal(count(r.report, 'http.unauthorized'), 2);
  assert.equal(r.report.stats.packets, packets.length - 1);
});

// ---------------------------------------------------------------- limits: hit means reported

interface LimitHit {
  how: string;
}

/** How the report tells that limit `name` (as in --max-<name>) was hit, or null when it does not. */
function limitReported(report: any, name: string): LimitHit | null {
  const f = report.findings.find((x: any) => x.code === 'limit.reached' && (x.evidence?.limit === name || x.message.includes(`--max-${name}`)));
  if (f) {
    assert.match(f.message, new RegExp(`--max-${name}\\b`), 'limit.reached says which option raises it');
    assert.equal(f.evidence.limit, name, 'evidence.limit names the limit');
    return { how: `limit.reached: ${f.message}` };
  }
  const m = report.findings.find((x: any) => x.code === 'http.malformed' && /larger than|limit/i.test(x.message));
  if (m) return { how: `http.malformed: ${m.message}` };
  const stat = Object.entries(report.stats).find(([k, v]) => (v as number) > 0 && /limit|truncat|dropped|evict|skipped/i.test(k));
  if (stat) return { how: `stats.${stat[0]} = ${stat[1]}` };
  return null;
}

function limitCase(name: string, packets: WrittenPacket[], args: string[]): any {
  const r = runJson([file(`limit-${name}.pcap`, writePcap(packets)), ...args]);
  assert.ok([0, 1].includes(r.code), `exit ${r.code}: ${r.stderr}`);
  const hit = limitReported(r.report, name);
  assert.ok(hit, `--max-${name} was hit but the report does not say so; findings: ${codes(r.report).join(', ') || 'none'}; stats: ${JSON.stringify(r.report.stats)}`);
  return r.report;
}

test('--max-body: a body longer than the limit is reported', () => {
  const s = new TcpSession('10.3.0.1:41000', '10.3.0.2:80', { time: T });
  s.handshake();
  const body = 'a'.repeat(5000);
  s.send('client', `POST /api HTTP/1.1\r\nHost: h\r\nContent-Type: text/xml\r\nX-Username: r\r\nX-Signature: 0123456789abcdef0123456789abcdef\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  s.close();
  const report = limitCase('body', s.packets, ['--max-body', '100', '--key', SAMPLE_KEY]);
  assert.equal(report.exchanges[0].request.bodyLength, 5000, 'the true length is still recorded');
});

test('--max-header: a header block longer than the limit is reported', () => {
  const s = new TcpSession('10.3.1.1:41000', '10.3.1.2:80', { time: T });
  s.handshake();
  s.send('client', `GET /x HTTP/1.1\r\nHost: h\r\nX-Big: ${'b'.repeat(4000)}\r\n\r\n`);
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  s.close();
  limitCase('header', s.packets, ['--max-header', '1024']);
});

test('--max-header: a SIP datagram whose header block is longer than the limit is reported', () => {
  const text = `REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nCall-ID: a@b\r\nCSeq: 1 REGISTER\r\nX-Pad: ${'p'.repeat(2000)}\r\nContent-Length: 0\r\n\r\n`;
  limitCase('header', [{ time: T, data: udpFrame('192.0.2.1:5060', '203.0.113.5:5060', text) }], ['--max-header', '1024']);
});

test('--max-decompressed: a compressed body that expands past the limit is reported', () => {
  const s = new TcpSession('10.3.2.1:41000', '10.3.2.2:80', { time: T });
  s.handshake();
  const z = gzipSync(Buffer.alloc(1 << 20));
  s.send('client', 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n');
  s.send('server', Buffer.concat([Buffer.from(`HTTP/1.1 401 Unauthorized\r\nContent-Encoding: gzip\r\nContent-Length: ${z.length}\r\n\r\n`), z]));
  s.close();
  limitCase('decompressed', s.packets, ['--max-decompressed', '1000']);
});

test('--max-reassembly: out-of-order bytes beyond the limit are reported', () => {
  const s = new TcpSession('10.3.3.1:41000', '10.3.3.2:80', { time: T });
  s.handshake();
  const body = 'c'.repeat(10000);
  const data = Buffer.from(`POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const base = s.nextSeq.client;
  const segs: Buffer[] = [];
  for (let o = 0; o < data.length; o += 1000) segs.push(s.segment('client', 0x18, data.subarray(o, o + 1000), { seq: (base + o) >>> 0 }));
  for (const x of [...segs.slice(1), segs[0]]) s.push(x); // the first segment arrives last
  s.nextSeq.client = (base + data.length) >>> 0;
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  s.close();
  limitCase('reassembly', s.packets, ['--max-reassembly', '2000']);
});

test('--max-streams: more open connections than the limit is reported', () => {
  const conns = Array.from({ length: 5 }, (_, i) => {
    const s = new TcpSession(`10.3.4.${i + 1}:4100${i}`, '10.3.4.99:80', { time: T + i * 0.0001, step: 0.01 });
    s.handshake();
    s.send('client', `GET /s${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
    s.send('server', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    s.close();
    return s.packets;
  });
  limitCase('streams', interleave(...conns), ['--max-streams', '2']);
});

test('--max-fragments: more IP fragment trains in flight than the limit is reported', () => {
  // Five SIP REGISTERs over UDP, each in three IPv4 fragments; all first fragments come first.
  const trains = Array.from({ length: 5 }, (_, i) => {
    const text = `REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.${i + 1}:5060;branch=z9hG4bK-${i}\r\nCall-ID: c${i}@x\r\nCSeq: 1 REGISTER\r\nX-Pad: ${'y'.repeat(3000)}\r\nContent-Length: 0\r\n\r\n`;
    return ipv4Fragments(udp(Buffer.from(text), { sport: 5060, dport: 5060 }), { src: `192.0.2.${i + 1}`, dst: '203.0.113.5', proto: 17, id: 100 + i }, 1480);
  });
  const order = [...trains.map((t) => t[0]), ...trains.flatMap((t) => t.slice(1))];
  limitCase('fragments', order.map((f, i) => ({ time: T + i * 0.001, data: ethernet(f) })), ['--max-fragments', '2']);
});

// ---------------------------------------------------------------- hostile content in the default view

test('ten 401s for 60 KB URIs and a 401 with 1000 challenges render as a table quickly', () => {
  // Found by the fuzz suite: long cells made the table take 6 s per exchange (a minute for these).
  const conns = Array.from({ length: 10 }, (_, k) => {
    const s = new TcpSession(`10.5.${k}.1:43000`, '10.5.0.2:80', { time: T + k });
    s.handshake();
    s.send('client', `GET /${k}${'a'.repeat(60_000)} HTTP/1.1\r\nHost: h\r\n\r\n`);
    s.send('server', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    s.close();
    return s.packets;
  });
  const c = new TcpSession('10.5.99.1:43000', '10.5.0.2:80', { time: T + 20 });
  c.handshake();
  c.send('client', 'GET /many HTTP/1.1\r\nHost: h\r\n\r\n');
  c.send('server', `HTTP/1.1 401 Unauthorized\r\n${Array.from({ length: 1000 }, (_, i) => `WWW-Authenticate: Digest realm="r${i}", nonce="n${i}"\r\n`).join('')}Content-Length: 0\r\n\r\n`);
  c.close();
  const p = file('long-cells.pcap', writePcap(interleave(...conns, c.packets)));
  for (const format of ['table', 'markdown', 'html', 'json']) {
    const t0 = performance.now();
    const r = runCli([p, '--format', format], { env: { COLUMNS: '80' } });
    const ms = performance.now() - t0;
    assert.equal(r.code, 1, `${format}: ${r.stderr}`);
    assert.ok(ms < 10_000, `--format ${format} took ${ms.toFixed(0)} ms`);
    // the terminal view clips long cells (the JSON report has them whole); the files may be bigger
    assert.ok(r.stdout.length < (format === 'table' ? 1 : 20) << 20, `--format ${format} printed ${r.stdout.length} bytes`);
  }
});

// ---------------------------------------------------------------- a slow writer on stdin

function slowStdin(chunks: Buffer[], gapMs: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, '-', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 }));
    let i = 0;
    const tick = () => {
      if (i < chunks.length) {
        child.stdin.write(chunks[i++]);
        setTimeout(tick, gapMs);
      } else child.stdin.end();
    };
    tick();
  });
}

function threeRefusals(): WrittenPacket[] {
  const s = new TcpSession('10.4.0.1:42000', '10.4.0.2:80', { time: T, isn: [100, 200] });
  s.handshake();
  for (let i = 0; i < 3; i++) {
    s.send('client', `GET /slow/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
    s.send('server', 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="slow"\r\nContent-Length: 0\r\n\r\n');
  }
  s.close();
  return s.packets;
}

test('a capture written slowly to stdin (one packet every 50 ms) is reported completely when the pipe closes', async () => {
  const packets = threeRefusals();
  assert.ok(packets.length >= 15);
  const chunks = [pcapHeader(), ...packets.map((p) => pcapRecord({}, p))];
  const r = await slowStdin(chunks, 50, ['--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms >= 50 * packets.length, 'it waited for the writer');
  const report = JSON.parse(r.stdout);
  assert.equal(report.stats.packets, packets.length);
  assert.deepEqual(report.exchanges.map((x: any) => [x.request.uri, x.response?.status]), [['/slow/0', 401], ['/slow/1', 401], ['/slow/2', 401]]);
  assert.equal(count(report, 'http.unauthorized'), 3);
  assert.equal(count(report, 'capture.truncated'), 0);
});

test('stdin closed in the middle of a record: capture.truncated, the rest reported', async () => {
  const packets = threeRefusals();
  const bytes = writePcap(packets);
  const cut = bytes.subarray(0, bytes.length - 20);
  const chunks = [cut.subarray(0, 500), cut.subarray(500, 1000), cut.subarray(1000)];
  const r = await slowStdin(chunks, 30, ['--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(count(report, 'capture.truncated'), 1);
  assert.equal(count(report, 'http.unauthorized'), 3);
  assert.equal(report.stats.packets, packets.length - 1);
});
