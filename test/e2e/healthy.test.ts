// False positives: healthy authenticated traffic must give no error and no warning.
// Basic with the normal challenge round-trip, Digest done right, bearer tokens that are valid at the
// packet's time, API-key headers, keep-alive and pipelined requests, and public pages with no auth.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../lib/capture-writer.js';
import { TcpSession, interleave } from '../lib/packets.js';
import { digestResponse } from '../lib/samples.js';
import { runJson } from '../lib/run-cli.js';

const T = 1_715_680_000; // 2024-05-14

function req(method: string, uri: string, headers: string[], body = ''): string {
  const hs = [...headers];
  if (body || method === 'POST') hs.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${method} ${uri} HTTP/1.1\r\nHost: api.example.net\r\n${hs.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}

function res(status: string, headers: string[] = [], body = ''): string {
  return `HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function jwt(exp: number): string {
  const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub: 'svc-reports', exp })}.c2lnbmF0dXJl`;
}

test('healthy authenticated traffic yields no error or warning', () => {
  // Basic: challenge, then the right credentials, accepted; then keep-alive requests with credentials.
  const a = new TcpSession('198.51.100.1:50000', '203.0.113.9:80', { time: T, isn: [100, 200] });
  a.handshake();
  a.send('client', req('GET', '/reports', []));
  a.send('server', res('401 Unauthorized', ['WWW-Authenticate: Basic realm="r"']));
  const basic = `Authorization: Basic ${Buffer.from('alice:pw-alice').toString('base64')}`;
  a.send('client', req('GET', '/reports', [basic]));
  a.send('server', res('200 OK', ['Content-Type: text/plain'], 'ok'));
  a.send('client', req('POST', '/reports', [basic, 'Content-Type: application/json'], '{"q":1}') + req('GET', '/reports?page=2', [basic]));
  a.send('server', res('201 Created', [], '{}') + res('200 OK', [], 'page2'));
  a.close();
  // Digest done right.
  const d = new TcpSession('198.51.100.2:50001', '203.0.113.9:80', { time: T + 1, isn: [300, 400] });
  d.handshake();
  const nonce = 'abc123';
  d.send('client', req('GET', '/admin', []));
  d.send('server', res('401 Unauthorized', [`WWW-Authenticate: Digest realm="adm", qop="auth", nonce="${nonce}", algorithm=MD5`]));
  const r = digestResponse({ user: 'bob', realm: 'adm', password: 'pw-bob', method: 'GET', uri: '/admin', nonce, nc: '00000001', cnonce: 'cn', qop: 'auth' });
  d.send('client', req('GET', '/admin', [`Authorization: Digest username="bob", realm="adm", nonce="${nonce}", uri="/admin", response="${r}", qop=auth, nc=00000001, cnonce="cn", algorithm=MD5`]));
  d.send('server', res('200 OK', [], 'admin'));
  d.close();
  // Bearer token valid for an hour after the packet; API key header.
  const b = new TcpSession('198.51.100.3:50002', '203.0.113.9:80', { time: T + 2, isn: [500, 600] });
  b.handshake();
  b.send('client', req('GET', '/v1/items', [`Authorization: Bearer ${jwt(T + 3600)}`]));
  b.send('server', res('200 OK', [], '[]'));
  b.send('client', req('GET', '/v1/other', ['X-API-Key: 0123456789abcdef']));
  b.send('server', res('200 OK', [], '[]'));
  b.close();
  // Public pages, no auth anywhere.
  const p = new TcpSession('198.51.100.4:50003', '203.0.113.10:80', { time: T + 3, isn: [700, 800] });
  p.handshake();
  p.send('client', req('GET', '/', []));
  p.send('server', res('200 OK', ['Content-Type: text/html'], '<html></html>'));
  p.send('client', req('GET', '/missing', []));
  p.send('server', res('404 Not Found', [], 'nope'));
  p.close();

  const dir = mkdtempSync(join(tmpdir(), 'authcap-healthy-'));
  const f = join(dir, 'healthy.pcap');
  writeFileSync(f, writePcap(interleave(a.packets, d.packets, b.packets, p.packets)));
  const { code, report } = runJson([f, '--password', 'pw-bob', '--fail-on', 'warning']);
  const loud = report.findings.filter((x: any) => x.severity !== 'info');
  assert.deepEqual(loud.map((x: any) => `${x.code}: ${x.message}`), []);
  assert.equal(code, 0);
  assert.equal(report.stats.httpRequests, 10);
  assert.equal(report.exchanges.length, 10);
  assert.ok(report.exchanges.every((x: any) => x.response !== null), 'every request paired');
  // The two challenge round-trips are reported, as info.
  assert.equal(report.findings.filter((x: any) => x.code === 'http.unauthorized').length, 2);
});
