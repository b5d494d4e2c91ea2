// TLS checks on real handshakes: ClientHello then server RST (the OpenSRS allow-list symptom), a
// handshake_failure alert, traffic left encrypted (one finding per server name), a key log without the
// connection's key, a TCP gap, non-TLS answers and oversized records.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { KeyLog } from '../../src/protocols/tls/keylog.js';
import { createTlsChecks } from '../../src/checks/tls.js';
import { TcpSession, interleave } from '../lib/packets.js';
import { writePcap } from '../lib/capture-writer.js';
import { driveTls, type DrivenConnection } from './harness.js';
import { HAVE_TSHARK, tsharkFields } from './tshark.js';
import { opensrsRequest, runTls, toPcap, unauthorizedResponse } from './live.js';

function tshark(pcap: Buffer, filter: string, fields: string[], extra: string[] = []): string[][] {
  return tsharkFields(pcap, filter, fields, { extra }) ?? [];
}

function check(conns: DrivenConnection[], decrypted = false) {
  const c = createTlsChecks();
  const per = conns.flatMap((x) => c.connection(x.summary, { events: x.events, decrypted: decrypted && x.tls.handshake.decrypting }));
  return [...per, ...c.finish()];
}

const base = { request: opensrsRequest(), response: unauthorizedResponse() };

test('ClientHello answered by a server RST: tls.reset-after-hello names server, SNI, frames and the allow-list', async () => {
  const r = await runTls({ ...base, ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
  assert.equal(r.records[0].from, 'client');
  const { pcap, frames, session } = toPcap(r.records, { take: 1, ending: 'server-rst', server: '216.40.33.39:55443' });
  const rstFrame = session.packets.length;
  const findings = check(driveTls(pcap));
  const f = findings.find((x) => x.code === 'tls.reset-after-hello');
  assert.ok(f, JSON.stringify(findings));
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.frames, [frames[0].at(-1), rstFrame]);
  assert.equal(f.filter, 'tcp.stream eq 0');
  assert.match(f.message, /216\.40\.33\.39:55443/);
  assert.match(f.message, /rr-n1-tor\.opensrs\.net/);
  assert.match(f.message, /allow-list/);
  assert.match(f.message, /104/);
  assert.equal(f.evidence.how, 'rst');
  assert.equal(f.evidence.sni, 'rr-n1-tor.opensrs.net');
  assert.ok(!findings.some((x) => x.code === 'tls.encrypted' || x.code === 'tls.alert'));
  if (HAVE_TSHARK) {
    // tshark (told the port is TLS) sees the ClientHello with the same SNI at the same frame
    const rows = tshark(pcap, 'tls.handshake.type == 1', ['frame.number', 'tls.handshake.extensions_server_name'], ['-d', 'tcp.port==55443,tls']);
    assert.deepEqual(rows, [[String(frames[0].at(-1)), 'rr-n1-tor.opensrs.net']]);
  }
});

test('ClientHello answered by a server FIN also counts; a server that answers does not', async () => {
  const r = await runTls({ ...base, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  const s = new TcpSession('192.0.2.10:51234', '198.51.100.7:443');
  s.handshake();
  const ch = s.send('client', r.records[0].data);
  s.fin('server');
  const fin = s.packets.length;
  s.rst('client');
  const f = check(driveTls(writePcap(s.packets))).find((x) => x.code === 'tls.reset-after-hello');
  assert.ok(f);
  assert.deepEqual(f.frames, [ch.at(-1)! + 1, fin]);
  assert.equal(f.evidence.how, 'fin');

  // a full session with a server RST at the end: the server answered, no finding
  const full = toPcap(r.records, { ending: 'server-rst' });
  assert.ok(!check(driveTls(full.pcap)).some((x) => x.code === 'tls.reset-after-hello'));
});

test('a server that answers the ClientHello with plain text: malformed event, no reset-after-hello', async () => {
  const r = await runTls({ ...base, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  const s = new TcpSession('192.0.2.10:51234', '198.51.100.7:443');
  s.handshake();
  s.send('client', r.records[0].data);
  const [bad] = s.send('server', 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  s.rst('server');
  const [c] = driveTls(writePcap(s.packets));
  const m = c.events.find((e) => e.type === 'malformed');
  assert.ok(m && m.type === 'malformed');
  assert.equal(m.from, 'server');
  assert.equal(m.frame, bad + 1);
  assert.match(m.reason, /not a TLS record.*HTTP/);
  assert.ok(!check([c]).some((x) => x.code === 'tls.reset-after-hello'));
});

test('a record over 16 KiB + 2048 is malformed and stops that direction', () => {
  const s = new TcpSession('192.0.2.10:51234', '198.51.100.7:443');
  s.handshake();
  const hdr = Buffer.from([23, 3, 3, 0x48, 0x01]); // 18433 bytes
  const [f] = s.send('client', Buffer.concat([hdr, Buffer.alloc(100)]));
  const [c] = driveTls(writePcap(s.packets), { keylog: KeyLog.parse('') });
  const m = c.events.filter((e) => e.type === 'malformed');
  assert.equal(m.length, 1);
  assert.equal(m[0].frame, f + 1);
  assert.match(m[0].type === 'malformed' ? m[0].reason : '', /18433 bytes/);
});

test('a fatal handshake_failure alert from the server: tls.alert with its evidence (tshark agrees)', async () => {
  const r = await runTls({ ...base, ciphers: 'AES256-SHA', clientCiphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  assert.ok(r.error, 'the live handshake failed');
  const { pcap, frames } = toPcap(r.records);
  const findings = check(driveTls(pcap));
  const f = findings.find((x) => x.code === 'tls.alert');
  assert.ok(f, JSON.stringify(findings));
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.evidence, { name: 'handshake_failure', description: 40, level: 'fatal', from: 'server', encrypted: false, server: '198.51.100.7:443', sni: 'rr-n1-tor.opensrs.net' });
  const serverChunk = r.records.findIndex((x) => x.from === 'server');
  assert.deepEqual(f.frames, [frames[0].at(-1), frames[serverChunk].at(-1)]);
  assert.match(f.message, /cipher suite/);
  assert.ok(!findings.some((x) => x.code === 'tls.reset-after-hello'), 'an alert is an answer');
  if (HAVE_TSHARK) assert.deepEqual(tshark(pcap, 'tls.alert_message', ['frame.number', 'tls.alert_message.desc']), [[String(frames[serverChunk].at(-1)), '40']]);
});

test('without keys: one tls.encrypted per server name, listing both streams, with the SSLKEYLOGFILE hint', async () => {
  const a = await runTls({ ...base, ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3' });
  const b = await runTls({ ...base, ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3' });
  const other = await runTls({ ...base, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', servername: 'api.example.com' });
  const pa = toPcap(a.records, { client: '192.0.2.10:50001' }).session.packets;
  const pb = toPcap(b.records, { client: '192.0.2.10:50002', time: 1_700_000_000.0005 }).session.packets;
  const po = toPcap(other.records, { client: '192.0.2.10:50003', server: '203.0.113.5:443', time: 1_700_000_001 }).session.packets;
  const conns = driveTls(writePcap(interleave(pa, pb, po)));
  assert.equal(conns.length, 3);
  for (const c of conns) {
    assert.ok(c.events.some((e) => e.type === 'application-data' && e.from === 'client'));
    assert.ok(!c.events.some((e) => e.type === 'undecryptable'), 'no key log: nothing to explain per connection');
  }
  const enc = check(conns).filter((x) => x.code === 'tls.encrypted');
  assert.equal(enc.length, 2);
  const opensrs = enc.find((x) => (x.evidence.serverNames as string[])[0] === 'rr-n1-tor.opensrs.net')!;
  assert.deepEqual(opensrs.evidence.streams, [0, 1]);
  assert.equal(opensrs.severity, 'info');
  assert.equal(opensrs.filter, 'tcp.stream in {0 1}');
  assert.match(String(opensrs.evidence.hint), /SSLKEYLOGFILE/);
  assert.match(String(opensrs.evidence.hint), /--keylog/);
  const ex = enc.find((x) => (x.evidence.serverNames as string[])[0] === 'api.example.com')!;
  assert.deepEqual(ex.evidence.streams, [2]);
  assert.equal(ex.filter, 'tcp.stream eq 2');
});

test('a key log without this connection\'s client random: undecryptable with the random, tls.undecrypted', async () => {
  for (const [ciphers, v] of [['ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2'], ['TLS_AES_128_GCM_SHA256', 'TLSv1.3']] as const) {
    const a = await runTls({ ...base, ciphers, minVersion: v, maxVersion: v });
    const b = await runTls({ ...base, ciphers, minVersion: v, maxVersion: v });
    const { pcap } = toPcap(a.records);
    const random = a.records[0].data.subarray(11, 43).toString('hex');
    const conns = driveTls(pcap, { keylog: KeyLog.parse(b.keylog) });
    const und = conns[0].events.filter((e) => e.type === 'undecryptable');
    assert.equal(und.length, 1, 'said once');
    assert.equal(und[0].type === 'undecryptable' && und[0].reason.startsWith(`no key for client random ${random}`), true, JSON.stringify(und));
    assert.equal(conns[0].plain.client.length, 0);
    const findings = check(conns, true);
    const f = findings.find((x) => x.code === 'tls.undecrypted');
    assert.ok(f);
    assert.equal(f.severity, 'warning');
    assert.match(f.message, new RegExp(random));
    assert.ok(!findings.some((x) => x.code === 'tls.encrypted'));
  }
});

test('a wrong secret for the right client random is reported, not skipped', async () => {
  const a = await runTls({ ...base, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  const random = a.records[0].data.subarray(11, 43).toString('hex');
  const conns = driveTls(toPcap(a.records).pcap, { keylog: KeyLog.parse(`CLIENT_RANDOM ${random} ${'ab'.repeat(48)}\n`) });
  const und = conns[0].events.filter((e) => e.type === 'undecryptable');
  assert.equal(und.length, 1);
  assert.match(und[0].type === 'undecryptable' ? und[0].reason : '', /does not decrypt/);
});

test('a TCP gap inside the encrypted request stops decryption of that direction and says why', async () => {
  const req = opensrsRequest(undefined, 20_000);
  const r = await runTls({ request: req, response: unauthorizedResponse(), ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  const { frames, session } = toPcap(r.records, { mss: 500 });
  const longest = frames.reduce((m, f) => (f.length > m.length ? f : m));
  const drop = longest[10] - 1; // 0-based packet index
  const [c] = driveTls(writePcap(session.packets.filter((_, i) => i !== drop)), { keylog: KeyLog.parse(r.keylog) });
  const und = c.events.filter((e) => e.type === 'undecryptable');
  assert.equal(und.length, 1);
  assert.match(und[0].type === 'undecryptable' ? und[0].reason : '', /were not captured/);
  // everything before the gap decrypted, nothing after it
  const got = Buffer.concat(c.plain.client.map((x) => x.data));
  assert.ok(got.length < req.length && req.subarray(0, got.length).equals(got));
  assert.ok(Buffer.concat(c.plain.server.map((x) => x.data)).equals(unauthorizedResponse()), 'the other direction still decrypts');
});

test('the corpus: zeek handshake_failure and protocol_version captures give tls.alert at tshark\'s frames', () => {
  const dir = '/work/shared/corpus';
  const cases: [string, string, number, number[][]][] = [
    ['zeek-tls_tls-1.2-handshake-failure.pcap', 'handshake_failure', 40, [[4, 6]]],
    ['zeek-tls_tls13draft16-ff52.a01-aborted.pcap', 'protocol_version', 70, [[4, 6], [14, 16]]],
  ];
  for (const [file, name, desc, frames] of cases) {
    if (!existsSync(join(dir, file))) continue;
    const findings = check(driveTls(readFileSync(join(dir, file)))).filter((x) => x.code === 'tls.alert');
    assert.deepEqual(findings.map((x) => x.frames), frames);
    for (const f of findings) {
      assert.equal(f.evidence.name, name);
      assert.equal(f.evidence.description, desc);
      assert.equal(f.evidence.from, 'server');
    }
  }
});
