// Hostile application-layer conversations for the fuzz suite, written as correct TCP/UDP so the damage
// reaches the protocol parsers and checks: HTTP start lines, thousands of headers, 1 MB header lines,
// chunk sizes, Content-Length lies, compression bombs and garbage, hostile credentials and challenges,
// pairing confusion, SIP over UDP/TCP, TLS record and handshake lengths (with a key log, so the
// decryption path runs on garbage), TCP chaos, connection floods and protocol confusion.

import { createHash } from 'node:crypto';
import { gzipSync, deflateRawSync } from 'node:zlib';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { TcpSession, ethernet, ipv4Fragments, udp, udpFrame, type Side } from '../lib/packets.js';
import type { Rng } from './rng.js';
import { getBombs, T0 } from './bases.js';

export interface Scenario {
  name: string;
  weight: number;
  build(r: Rng): { packets: WrittenPacket[]; keylog?: string };
}

const SERVER_IP = '203.0.113.77';

type Msg = [Side, Buffer | string];

function b(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}

function session(r: Rng, port = 80, at = T0 + r.next() * 300): TcpSession {
  const client = `10.66.${r.int(250)}.${1 + r.int(250)}:${1024 + r.int(60000)}`;
  return new TcpSession(client, `${SERVER_IP}:${port}`, { time: at, step: 0.0005, isn: [r.u32(), r.u32()], mss: r.pick([1460, 1460, 536, 8960]) });
}

/** Writes messages on a TCP connection with a random opening and ending. */
function tcpConversation(r: Rng, msgs: Msg[], port = 80): WrittenPacket[] {
  const s = session(r, port);
  if (r.chance(0.9)) s.handshake();
  const total = msgs.reduce((n, [, m]) => n + m.length, 0);
  const tiny = total < 3000 && r.chance(0.1) ? r.pick([1, 3, 7]) : undefined;
  const coalesce = r.chance(0.2);
  let pending: Buffer[] = [];
  let pendingSide: Side | null = null;
  const flush = () => {
    if (pendingSide && pending.length) s.send(pendingSide, Buffer.concat(pending), { mss: tiny });
    pending = [];
  };
  for (const [side, m] of msgs) {
    if (!coalesce) {
      s.send(side, b(m), { mss: tiny });
      continue;
    }
    if (side !== pendingSide) flush();
    pendingSide = side;
    pending.push(b(m));
  }
  flush();
  const end = r.int(10);
  if (end < 7) s.close(r.chance(0.8) ? 'client' : 'server');
  else if (end === 7) s.rst(r.chance(0.5) ? 'client' : 'server');
  else if (end === 8) s.fin('client');
  return s.packets;
}

function req(method: string, uri: string, headers: string[], body: Buffer | string = '', version = 'HTTP/1.1'): Buffer {
  return Buffer.concat([b(`${method} ${uri} ${version}\r\nHost: hostile.example.net\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`), b(body)]);
}

function res(status: string, headers: string[], body: Buffer | string = ''): Buffer {
  return Buffer.concat([b(`HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`), b(body)]);
}

const cl = (x: Buffer | string) => `Content-Length: ${b(x).length}`;
const b64 = (s: string | Buffer) => b(s).toString('base64');
const b64u = (s: string) => Buffer.from(s, 'latin1').toString('base64url');

// ---------------------------------------------------------------- hostile values

function jwt(payload: string): string {
  return `${b64u('{"alg":"HS256","typ":"JWT"}')}.${b64u(payload)}.c2ln`;
}

function hostileAuthorization(r: Rng): string {
  switch (r.int(5)) {
    case 0:
      return 'Basic ' + r.pick(['', '!!!', '====', b64(r.bytes(30)), b64('nocolon'), b64(':'), b64('\u0000:\u0000'), 'a'.repeat(100000), b64('u'.repeat(100000) + ':p'), b64('alice:pw') + ' trailing', ' ' + b64('alice:pw')]);
    case 1:
      return 'Digest ' + r.pick([
        '', 'username=', 'username="unterminated', 'a=b,'.repeat(10000), ',,,,,', '"""""', 'username=\\"x\\"',
        'username="u", realm="r", nonce="n", uri="/x", response="zz", nc=zz, qop=auth-int, cnonce="c"',
        'username="u", realm="r", nonce="n", uri="/x", response="' + 'f'.repeat(10000) + '"',
        'algorithm=SHA-512-256, username*=UTF-8\'\'%C3%A4%ZZ, userhash=true, realm="r", nonce="n", uri="/", response="00"',
        'username="u", nc=ffffffffffffffffff, qop=auth, algorithm=MD5-sess, realm="r", nonce="n", uri="/", response="' + '0'.repeat(32) + '"',
        'username="' + 'x'.repeat(200000) + '"',
        'username="u", realm="hostile", nonce="abc", uri="/h", algorithm=UNKNOWN, response="' + '1'.repeat(32) + '"',
      ]);
    case 2:
      return 'Bearer ' + r.pick([
        jwt('{"exp":1e400}'), jwt('{"exp":-1e20}'), jwt('{"exp":"soon"}'), jwt('{"exp":1e15}'), jwt('{"exp":8640000000001}'),
        jwt('{"exp":' + '9'.repeat(400) + '}'), jwt('['.repeat(100000)), jwt('{"exp":null,"nbf":[],"iat":{}}'), jwt('not json'),
        jwt('{"exp":1715680000.5,"sub":"' + 'x'.repeat(100000) + '"}'), '!!!.@@@.###', 'a.b.c.d.e', '.'.repeat(100000), 'x'.repeat(1 << 20), '',
      ]);
    case 3: {
      const t = Buffer.alloc(r.pick([8, 12, 32, 64, 200]));
      Buffer.from('NTLMSSP\0').copy(t);
      if (t.length >= 12) t.writeUInt32LE(r.pick([1, 2, 3, 0xffffffff]), 8);
      for (let i = 12; i + 8 <= t.length; i += 8) {
        t.writeUInt16LE(r.pick([0, 8, 0xffff]), i);
        t.writeUInt16LE(r.pick([0, 8, 0xffff]), i + 2);
        t.writeUInt32LE(r.pick([0, 8, t.length, 0xfffffff0]), i + 4);
      }
      return r.pick(['NTLM ', 'Negotiate ']) + r.pick([b64(t), b64(r.bytes(100)), '!!!', '']);
    }
    default:
      return r.pick(['', ' ', 'Hawk id=', 'AWS4-HMAC-SHA256 Credential=', '\u00ff\u00fe', 'Basic', 'Digest', 'Bearer', 'basic ' + b64('a:b'), 'x'.repeat(70000)]);
  }
}

function hostileChallenge(r: Rng): string {
  return r.pick([
    'Digest realm="hostile", nonce="abc", stale=TRUE, qop="auth,auth-int", algorithm=MD5-sess',
    'Digest ' + 'x=y,'.repeat(20000),
    'Digest realm="unterminated, nonce=',
    'Basic', 'Basic realm=', '', ',', 'Bearer error="invalid_token", error_description="' + 'x'.repeat(50000) + '"',
    'Basic realm="a", Digest realm="b", nonce="c", Bearer realm="d"',
    'Newauth realm="apps", type=1, title="Login to \\"apps\\""',
    'NTLM ' + b64(r.bytes(r.pick([0, 10, 100]))),
    'Digest realm="r", nonce="' + 'n'.repeat(100000) + '", stale=maybe',
  ]);
}

// ---------------------------------------------------------------- HTTP scenarios

function startLines(r: Rng): Msg[] {
  const reqLine = r.pick([
    'GET', 'GET /', 'GET / HTTP/1.1 extra', 'GET / HTTP/9.9', ' GET / HTTP/1.1', 'GET\t/\tHTTP/1.1', '\r\n\r\nGET / HTTP/1.1', 'G\u00e9T / HTTP/1.1',
    'GET /' + 'a'.repeat(100000) + ' HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM', 'HTTP/1.1 200 OK', 'REGISTER sip:x SIP/2.0', 'CONNECT host:443 HTTP/1.1', 'GET / HTTP/1.1\n',
    'POST /%zz%00? HTTP/1.0', 'A'.repeat(40) + ' / HTTP/1.1', 'get / http/1.1', 'GET / HTTP/1.',
  ]);
  const resLine = r.pick([
    'HTTP/1.1 401', 'HTTP/1.1 99999999999 X', 'HTTP/1.1 -1 X', 'HTTP/1.1 0 X', 'HTTP/1.1 401 ' + 'U'.repeat(100000), 'HTTP/1.1 abc', 'HTTP/2 401',
    'ICY 200 OK', 'HTTP/1.1 401 Unauthorized\n', 'HTTP/1.1 4O1 Unauthorized', 'HTTP/1.1 401 \u0000\u0001', 'HTTP/1.1  401  Unauthorized',
  ]);
  const msgs: Msg[] = [['client', r.chance(0.2) ? r.bytes(r.pick([1, 50, 3000])) : `${reqLine}\r\nHost: x\r\n\r\n`]];
  if (r.chance(0.3)) msgs.push(['server', 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(r.pick([1, 1000]))]);
  msgs.push(['server', r.chance(0.2) ? r.bytes(r.pick([1, 50, 3000])) : `${resLine}\r\nContent-Length: 0\r\n\r\n`]);
  if (r.chance(0.5)) msgs.push(['client', req('GET', '/after', [])], ['server', res('401 Unauthorized', ['WWW-Authenticate: Basic realm="h"', 'Content-Length: 0'])]);
  return msgs;
}

function manyHeaders(r: Rng): Msg[] {
  const n = r.pick([1000, 5000, 20000]);
  const kind = r.int(6);
  const hs: string[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 0) hs.push(`X-H${i}: v${i}`);
    else if (kind === 1) hs.push(`Authorization: Basic ${b64(`u${i}:p${i}`)}`);
    else if (kind === 2) hs.push(`WWW-Authenticate: Digest realm="r${i}", nonce="n${i}"`);
    else if (kind === 3) hs.push(i % 2 ? ' folded continuation' : `X-F${i}: start`);
    else if (kind === 4) hs.push(r.pick([': empty-name', 'NoColon', 'X:', 'Content-Length: 0', 'Cookie: a=b']));
    else hs.push(`Set-Cookie: s${i}=${'c'.repeat(50)}`);
  }
  return r.chance(0.5)
    ? [['client', req('GET', '/many', hs)], ['server', res('401 Unauthorized', ['WWW-Authenticate: Basic realm="h"', 'Content-Length: 0'])]]
    : [['client', req('GET', '/many', [])], ['server', res('401 Unauthorized', [...hs.filter((h) => !h.startsWith('Content-Length')), 'Content-Length: 0'])]];
}

function hugeHeader(r: Rng): Msg[] {
  const big = 'a'.repeat(1 << 20);
  switch (r.int(5)) {
    case 0: return [['client', req('GET', '/big', [`X-Big: ${big}`])], ['server', res('401 Unauthorized', ['Content-Length: 0'])]];
    case 1: return [['client', req('GET', `/${big}`, [])], ['server', res('414 URI Too Long', ['Content-Length: 0'])]];
    case 2: return [['client', req('GET', '/big', [`Authorization: Digest username="${big}"`])], ['server', res('401 Unauthorized', ['Content-Length: 0'])]];
    case 3: return [['client', `GET /big HTTP/1.1\r\nX-Never-Ends: ${big}`]];
    default: return [['client', req('GET', '/big', [])], ['server', res('401 Unauthorized', [`WWW-Authenticate: Basic realm="${big}"`, 'Content-Length: 0'])]];
  }
}

function chunked(r: Rng): Msg[] {
  const chunks: string[] = [];
  for (let i = r.range(1, 6); i > 0; i--) {
    chunks.push(r.pick([
      '5\r\nhello\r\n', 'zz\r\n', 'ffffffffffffffffffff\r\nabc\r\n', '-5\r\nhello\r\n', '0x10\r\n', '1;' + 'e='.repeat(10000) + '\r\nx\r\n', '10\r\nshort\r\n',
      '5\r\nhelloXX', '\r\n', ' 5 \r\nhello\r\n', '7fffffffffffffff\r\n', '100000\r\n' + 'y'.repeat(5000), '1\r\n\u0000\r\n',
    ]));
  }
  const end = r.pick(['0\r\n\r\n', '0\r\n' + 'X-T: v\r\n'.repeat(r.pick([1, 5000])) + '\r\n', '', '0\r\n', '0;ext\r\nContent-Length: 5\r\n\r\n']);
  const te = r.pick(['chunked', 'gzip, chunked', 'chunked, chunked', 'Chunked', 'chunked;q=1', 'identity']);
  const extra = r.chance(0.3) ? ['Content-Length: 10'] : [];
  const body = chunks.join('') + end;
  return r.chance(0.5)
    ? [['client', req('POST', '/chunked', [`Transfer-Encoding: ${te}`, ...extra], body)], ['server', res('401 Unauthorized', ['Content-Length: 0'])], ['client', req('GET', '/next', [])]]
    : [['client', req('GET', '/chunked', [])], ['server', res('401 Unauthorized', [`Transfer-Encoding: ${te}`, ...extra], body)], ['client', req('GET', '/next', [])], ['server', res('200 OK', ['Content-Length: 2'], 'ok')]];
}

function contentLength(r: Rng): Msg[] {
  const v = () => r.pick(['99999999999999999999', '-5', 'NaN', 'abc', '1e3', '0x10', ' 5', '5 5', '', '9007199254740993', '4294967296', '18446744073709551616', '5, 6', '+5', '5']);
  const hs = [`Content-Length: ${v()}`];
  if (r.chance(0.4)) hs.push(`Content-Length: ${v()}`);
  const body = 'x'.repeat(r.pick([0, 3, 5, 6, 1000]));
  const msgs: Msg[] = [];
  switch (r.int(4)) {
    case 0:
      msgs.push(['client', req('POST', '/cl', hs, body)], ['client', req('POST', '/cl2', ['Content-Length: 2'], 'ab')]);
      msgs.push(['server', res('401 Unauthorized', [`Content-Length: ${v()}`], body)], ['server', res('200 OK', ['Content-Length: 0'])]);
      break;
    case 1:
      // HEAD, 204 and 304 responses that announce a body they must not have
      msgs.push(['client', req('HEAD', '/h', [])], ['server', res('401 Unauthorized', ['Content-Length: 1000'])]);
      msgs.push(['client', req('GET', '/h2', [])], ['server', res(r.pick(['204 No Content', '304 Not Modified']), ['Content-Length: 50'])]);
      msgs.push(['client', req('GET', '/h3', [])], ['server', res('401 Unauthorized', ['Content-Length: 0'])]);
      break;
    case 2:
      // close-delimited response body of a 401
      msgs.push(['client', req('GET', '/close', [])], ['server', b(`HTTP/1.0 401 Unauthorized\r\n\r\n${'z'.repeat(r.pick([0, 10, 100000]))}`)]);
      break;
    default:
      msgs.push(['client', req('POST', '/big-cl', ['Content-Length: 1099511627776'], 'tiny')], ['server', res('401 Unauthorized', ['Content-Length: 18446744073709551615'], 'x')]);
  }
  return msgs;
}

function compressed(r: Rng): Msg[] {
  const bombs = getBombs();
  const enc = r.pick(['gzip', 'deflate', 'br', 'x-gzip', 'gzip, gzip', 'identity, gzip', 'compress', 'zstd', 'GZIP', 'gzip, br', 'deflate, gzip', 'gzip;q=1']);
  const gz = gzipSync(Buffer.from('hello '.repeat(100)));
  const body = r.pick([
    bombs.gzip, bombs.gzip, bombs.deflate, bombs.br, r.bytes(r.pick([1, 10, 5000])), gz.subarray(0, gz.length >> 1),
    Buffer.concat([gz, r.bytes(20)]), deflateRawSync(Buffer.from('raw deflate, no zlib header')), Buffer.alloc(0), gzipSync(gz), Buffer.concat([gz, gz]),
  ]);
  const framing = r.int(3);
  const wrap = (h: string[]): [string[], Buffer] => {
    if (framing === 0) return [[...h, cl(body)], body];
    if (framing === 1) {
      const parts: Buffer[] = [];
      for (let o = 0; o < body.length; o += 16384) {
        const c = body.subarray(o, o + 16384);
        parts.push(b(`${c.length.toString(16)}\r\n`), c, b('\r\n'));
      }
      parts.push(b('0\r\n\r\n'));
      return [[...h, 'Transfer-Encoding: chunked'], Buffer.concat(parts)];
    }
    return [[...h, `Content-Length: ${Math.max(0, body.length - 7)}`], body]; // lies about its length
  };
  if (r.chance(0.5)) {
    const [h, bd] = wrap([`Content-Encoding: ${enc}`, 'Content-Type: text/xml', `X-Signature: ${createHash('md5').update(body.subarray(0, 64)).digest('hex')}`]);
    return [['client', req('POST', '/api', h, bd)], ['server', res('401 Unauthorized', ['Content-Length: 0'])]];
  }
  const [h, bd] = wrap([`Content-Encoding: ${enc}`, 'Content-Type: text/xml', 'WWW-Authenticate: Basic realm="bomb"']);
  return [['client', req('GET', '/api', [])], ['server', res('401 Unauthorized', h, bd)]];
}

function authFlow(r: Rng): Msg[] {
  const proxy = r.chance(0.2);
  const hAuth = proxy ? 'Proxy-Authorization' : 'Authorization';
  const hChal = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  const status = proxy ? '407 Proxy Authentication Required' : '401 Unauthorized';
  const msgs: Msg[] = [
    ['client', req('GET', '/h/secure', [])],
    ['server', res(status, [`${hChal}: ${hostileChallenge(r)}`, 'Content-Length: 0'])],
  ];
  const tries = r.pick([1, 1, 2, 5]);
  for (let i = 0; i < tries; i++) {
    const hs = [`${hAuth}: ${hostileAuthorization(r)}`];
    if (r.chance(0.1)) for (let k = 0; k < 100; k++) hs.push(`${hAuth}: ${hostileAuthorization(r).slice(0, 1000)}`);
    msgs.push(['client', req(r.pick(['GET', 'POST']), r.pick(['/h/secure', '/h/secure?user=a&password=b', '/h/%zz']), hs, r.chance(0.3) ? 'user=a&password=b' : '')]);
    msgs.push(['server', res(r.chance(0.7) ? status : '200 OK', [`${hChal}: ${hostileChallenge(r)}`, 'Content-Length: 0'])]);
  }
  return msgs;
}

function forms(r: Rng): Msg[] {
  const body = r.pick([
    () => 'a=1&'.repeat(100000), () => '%zz&%&&&&=&==', () => 'user=' + '%00'.repeat(1000) + '&password=' + 'p'.repeat(200000),
    () => '{"a":'.repeat(50000) + '1' + '}'.repeat(50000), () => '['.repeat(200000),
    () => `<?xml version="1.0"?><OPS_envelope><body><data_block><dt_assoc>${'<item key="response_code">555</item>'.repeat(20000)}<item key="response_text">invalid ip address [${'9'.repeat(5000)}]</item></dt_assoc></data_block></body></OPS_envelope>`,
    () => '<a>'.repeat(100000), () => 'x'.repeat(1000) + '\u0000'.repeat(1 << 20), () => '\u0000'.repeat(5000),
    () => '--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nalice\r\n--b--'.repeat(1000),
  ])();
  const sig = r.pick(['', 'X-Signature: zz', `X-Signature: ${'A'.repeat(1 << 16)}`, `X-Signature: ${createHash('md5').update('x').digest('hex').toUpperCase()}`, 'X-Signature:', 'X-Username: ']);
  const ct = r.pick(['application/x-www-form-urlencoded', 'text/xml', 'application/json', 'multipart/form-data; boundary=b', 'multipart/form-data; boundary=', 'application/x-www-form-urlencoded; charset=utf-7']);
  const msgs: Msg[] = [
    ['client', req('POST', '/h/form', [`Content-Type: ${ct}`, ...(sig ? [sig] : []), cl(body)], body)],
    ['server', res(r.pick(['401 Unauthorized', '200 OK']), ['Content-Type: text/xml', cl(r.chance(0.5) ? body.slice(0, 70000) : '')], r.chance(0.5) ? body.slice(0, 70000) : '')],
  ];
  if (r.chance(0.3)) msgs.push(['client', req('GET', `/h/form?${'k=v&'.repeat(50000)}`, [])], ['server', res('405 Method Not Allowed', ['Content-Length: 0'])]);
  return msgs;
}

function pairing(r: Rng): Msg[] {
  switch (r.int(6)) {
    case 0: return Array.from({ length: r.pick([100, 2000]) }, (_, i) => ['client', req('GET', `/p/${i}`, [])] as Msg);
    case 1: return Array.from({ length: r.pick([100, 500]) }, () => ['server', res('401 Unauthorized', ['Content-Length: 0'])] as Msg);
    case 2: return [['client', req('POST', '/p', ['Expect: 100-continue', 'Content-Length: 3'], 'abc')], ['server', 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(1000)], ['server', res('401 Unauthorized', ['Content-Length: 0'])]];
    case 3: return [['client', req('GET', '/ws', ['Upgrade: websocket', 'Connection: Upgrade'])], ['server', res('101 Switching Protocols', ['Upgrade: websocket'])], ['client', r.bytes(2000)], ['server', r.bytes(2000)], ['client', req('GET', '/after-upgrade', [])]];
    case 4: return [['client', req('CONNECT', 'tls.example.net:443', [])], ['server', res('200 Connection established', [])], ['client', r.bytes(517)], ['server', r.bytes(3000)]];
    default: return [['server', res('401 Unauthorized', ['Content-Length: 0'])], ['client', req('GET', '/late', [])], ['client', 'GET /\r\n'], ['server', 'raw http/0.9 answer']];
  }
}

// ---------------------------------------------------------------- SIP

function sipText(r: Rng, first: string, headers: string[], body = ''): string {
  const hs = [...headers];
  const clv = r.chance(0.7) ? String(Buffer.byteLength(body)) : r.pick(['99999999999', '-1', 'abc', '', String(body.length + 10), '0']);
  hs.push(`${r.chance(0.2) ? 'l' : 'Content-Length'}: ${clv}`);
  if (r.chance(0.1)) hs.push('Content-Length: 3');
  return `${first}\r\n${hs.join('\r\n')}\r\n\r\n${body}`;
}

function sipHeaders(r: Rng, cseq: number, auth?: string): string[] {
  const via = r.chance(0.1) ? Array.from({ length: r.pick([100, 1000]) }, (_, i) => `Via: SIP/2.0/UDP 10.0.${i >> 8 & 255}.${i & 255};branch=z9hG4bK${i}`) : ['Via: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bK-h' + cseq];
  const hs = [...via, 'From: <sip:9001@hostile.example>;tag=h1', 'To: <sip:9001@hostile.example>'];
  if (r.chance(0.9)) hs.push(`${r.chance(0.2) ? 'i' : 'Call-ID'}: ${r.pick(['hostile@192.0.2.201', '', 'x'.repeat(5000)])}`);
  if (r.chance(0.9)) hs.push(`CSeq: ${r.pick([`${cseq} REGISTER`, 'abc REGISTER', '1', '99999999999999999999 REGISTER', `${cseq} INVITE`, ''])}`);
  if (auth !== undefined) hs.push(`Authorization: ${auth}`);
  return hs;
}

function sipUdp(r: Rng): { packets: WrittenPacket[] } {
  const phone = `192.0.2.${200 + r.int(50)}:5060`;
  const registrar = '203.0.113.55:5060';
  const out: WrittenPacket[] = [];
  let t = T0 + r.next() * 300;
  const send = (from: string, to: string, text: string | Buffer) => {
    const data = b(text).subarray(0, 65000);
    if (data.length > 1400) {
      // large SIP over UDP: IPv4 fragments
      const [fa, fp] = from.split(':');
      const [ta, tp] = to.split(':');
      for (const f of ipv4Fragments(udp(data, { sport: +fp, dport: +tp }), { src: fa, dst: ta, proto: 17, id: r.int(65536) }, 1480)) out.push({ time: (t += 0.0001), data: ethernet(f) });
      return;
    }
    out.push({ time: (t += 0.01), data: udpFrame(from, to, data) });
  };
  const first = r.pick(['REGISTER sip:hostile.example SIP/2.0', 'REGISTER', 'REGISTER sip:x SIP/3.0', 'INVITE sip:' + 'a'.repeat(3000) + ' SIP/2.0', 'OPTIONS * SIP/2.0']);
  const resp = r.pick(['SIP/2.0 401 Unauthorized', 'SIP/2.0 4011 X', 'SIP/2.0 401', 'SIP/2.0 407 Proxy Authentication Required', 'SIP/2.0 -1 X', 'SIP/2.0 200 OK']);
  const chal = `WWW-Authenticate: ${hostileChallenge(r).slice(0, 20000)}`;
  send(phone, registrar, sipText(r, first, sipHeaders(r, 1)));
  send(registrar, phone, sipText(r, resp, [...sipHeaders(r, 1), chal]));
  for (let i = 2; i < 2 + r.pick([1, 2, 4]); i++) {
    send(phone, registrar, sipText(r, first, sipHeaders(r, i, hostileAuthorization(r).slice(0, 30000))));
    send(registrar, phone, sipText(r, resp, [...sipHeaders(r, i), chal]));
  }
  if (r.chance(0.3)) send(phone, registrar, r.pick([Buffer.from('\r\n\r\n'), Buffer.from('jaK\0'), r.bytes(20), Buffer.alloc(0), b(sipText(r, first, sipHeaders(r, 9)) + sipText(r, resp, sipHeaders(r, 9)))]));
  return { packets: out };
}

function sipTcp(r: Rng): Msg[] {
  const msgs: Msg[] = [];
  for (let i = 1; i <= r.pick([1, 3, 10]); i++) {
    msgs.push(['client', sipText(r, 'REGISTER sip:hostile.example SIP/2.0', sipHeaders(r, i, r.chance(0.5) ? hostileAuthorization(r).slice(0, 5000) : undefined), r.chance(0.3) ? 'v=0\r\n' : '')]);
    msgs.push(['server', sipText(r, r.pick(['SIP/2.0 401 Unauthorized', 'SIP/2.0 200 OK']), [...sipHeaders(r, i), `WWW-Authenticate: ${hostileChallenge(r).slice(0, 5000)}`])]);
  }
  return msgs;
}

// ---------------------------------------------------------------- TLS

function tlsRecord(r: Rng, type: number, body: Buffer, lie: boolean): Buffer {
  const h = Buffer.from([type, 3, r.chance(0.8) ? 3 : r.int(256), 0, 0]);
  h.writeUInt16BE(lie ? r.pick([0, 1, body.length - 1, body.length + 1, 0x4000, 0x4001, 0xffff]) & 0xffff : Math.min(body.length, 0xffff), 3);
  return Buffer.concat([h, body]);
}

function handshake(type: number, body: Buffer, lie: boolean, r: Rng): Buffer {
  const len = lie ? r.pick([0, 1, body.length + 1, 0xffffff]) : body.length;
  return Buffer.concat([Buffer.from([type, len >> 16, (len >> 8) & 255, len & 255]), body]);
}

function clientHelloBody(r: Rng, random: Buffer, lie: boolean): Buffer {
  const sni = Buffer.from(r.pick(['api.example.net', 'x'.repeat(300), '', '\u0000\u00ff']), 'latin1');
  const sniExt = Buffer.alloc(9 + sni.length);
  sniExt.writeUInt16BE(0, 0);
  sniExt.writeUInt16BE(lie ? r.int(65536) : 5 + sni.length, 2);
  sniExt.writeUInt16BE(lie ? r.int(65536) : 3 + sni.length, 4);
  sniExt[6] = 0;
  sniExt.writeUInt16BE(lie ? r.int(65536) : sni.length, 7);
  sni.copy(sniExt, 9);
  const alpn = Buffer.from([0, 16, 0, 5, 0, 3, 2, 0x68, 0x32]);
  const exts = Buffer.concat([sniExt, r.chance(0.5) ? alpn : Buffer.alloc(0), r.chance(0.2) ? r.bytes(r.int(100)) : Buffer.alloc(0)]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(lie && r.chance(0.5) ? r.int(65536) : exts.length);
  const suites = r.chance(0.9) ? Buffer.from([0, 4, 0xc0, 0x2f, 0x13, 0x01]) : Buffer.from([0xff, 0xff, 0xc0]);
  const sid = r.chance(0.9) ? Buffer.from([0]) : Buffer.concat([Buffer.from([255]), r.bytes(10)]);
  return Buffer.concat([Buffer.from([3, 3]), random, sid, suites, Buffer.from([1, 0]), extLen, exts]);
}

function serverHelloBody(r: Rng): Buffer {
  const suite = r.pick([[0xc0, 0x2f], [0x13, 0x01], [0x00, 0x2f], [0xff, 0xff]]);
  return Buffer.concat([Buffer.from([3, 3]), r.bytes(32), Buffer.from([0]), Buffer.from(suite), Buffer.from([0, 0, 0])]);
}

function tls(r: Rng): { packets: WrittenPacket[]; keylog?: string } {
  const random = r.bytes(32);
  const lie = r.chance(0.6);
  const ch = handshake(1, clientHelloBody(r, random, lie && r.chance(0.5)), lie && r.chance(0.3), r);
  const msgs: Msg[] = [];
  if (r.chance(0.15)) msgs.push(['client', Buffer.concat([Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01]), r.bytes(45)])]); // SSLv2 hello
  else if (r.chance(0.2)) {
    // the handshake cut into many tiny records
    const recs: Buffer[] = [];
    for (let o = 0; o < ch.length; o += 1) recs.push(tlsRecord(r, 22, ch.subarray(o, o + 1), false));
    msgs.push(['client', Buffer.concat(recs)]);
  } else msgs.push(['client', tlsRecord(r, r.chance(0.9) ? 22 : r.pick([0, 20, 21, 23, 24, 255]), ch, lie && r.chance(0.5))]);
  switch (r.int(5)) {
    case 0: msgs.push(['server', tlsRecord(r, 21, Buffer.from(r.pick([[2, 40], [1, 0], [2], [2, 40, 0, 0], [9, 255]])), lie)]); break; // alert
    case 1: msgs.push(['server', res('400 Bad Request', ['Content-Length: 0'])]); break;
    case 2: break; // silence, then the ending (often a reset)
    default: {
      // ServerHello, CCS, and "encrypted" records of garbage: decrypted with the key log, they must fail cleanly
      msgs.push(['server', Buffer.concat([tlsRecord(r, 22, handshake(2, serverHelloBody(r), false, r), false), tlsRecord(r, 20, Buffer.from([1]), false)])]);
      msgs.push(['client', Buffer.concat([tlsRecord(r, 20, Buffer.from([1]), false), tlsRecord(r, 22, r.bytes(40), lie), tlsRecord(r, 23, r.bytes(r.pick([0, 8, 24, 100, 17000])), lie)])]);
      msgs.push(['server', Buffer.concat([tlsRecord(r, 22, r.bytes(40), false), tlsRecord(r, 23, r.bytes(200), lie)])]);
    }
  }
  const hex = (x: Buffer) => x.toString('hex');
  const keylog = r.chance(0.6)
    ? [
        `CLIENT_RANDOM ${hex(random)} ${hex(r.bytes(48))}`,
        `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${hex(random)} ${hex(r.bytes(32))}`,
        `SERVER_HANDSHAKE_TRAFFIC_SECRET ${hex(random)} ${hex(r.bytes(32))}`,
        `CLIENT_TRAFFIC_SECRET_0 ${hex(random)} ${hex(r.bytes(r.pick([32, 48, 1, 0])))}`,
        `SERVER_TRAFFIC_SECRET_0 ${hex(random)} ${hex(r.bytes(32))}`,
        'garbage line', `CLIENT_RANDOM ${hex(random)} zz`,
      ].join('\n')
    : undefined;
  return { packets: tcpConversation(r, msgs, r.pick([443, 443, 55443, 8443])), keylog };
}

// ---------------------------------------------------------------- TCP

function tcpChaos(r: Rng): { packets: WrittenPacket[] } {
  const s = session(r);
  const game = r.int(6);
  if (game === 0) {
    // SYN carrying data, data after FIN, data after RST
    s.push(s.segment('client', 0x02, b(req('GET', '/syn-data', []))));
    s.nextSeq.client = (s.nextSeq.client + 1) >>> 0;
    s.push(s.segment('server', 0x12));
    s.nextSeq.server = (s.nextSeq.server + 1) >>> 0;
    s.fin('client');
    s.send('client', req('GET', '/after-fin', []));
    s.rst('server');
    s.send('server', res('401 Unauthorized', ['Content-Length: 0']));
  } else if (game === 1) {
    // the same 4-tuple reused by new connections with new ISNs
    for (let k = 0; k < r.pick([2, 3, 50]); k++) {
      s.nextSeq.client = r.u32();
      s.nextSeq.server = r.u32();
      s.handshake();
      s.send('client', req('GET', `/reuse/${k}`, []));
      s.send('server', res('401 Unauthorized', ['Content-Length: 0']));
      if (r.chance(0.7)) s.close();
    }
  } else if (game === 2) {
    // capture starts mid-stream: the middle of a body, then a whole exchange
    s.send('server', 'lo world, the end of a body that started before the capture\r\n');
    s.send('client', req('GET', '/mid', []));
    s.send('server', res('401 Unauthorized', ['Content-Length: 0']));
  } else if (game === 3) {
    // overlapping retransmissions with different bytes, and a 2^31 jump then back
    s.handshake();
    const data = b(req('POST', '/overlap', ['Content-Length: 20'], 'A'.repeat(20)));
    const base = s.nextSeq.client;
    s.push(s.segment('client', 0x18, data.subarray(0, 30)));
    s.push(s.segment('client', 0x18, Buffer.alloc(40, 0x42), { seq: (base + 10) >>> 0 }));
    s.push(s.segment('client', 0x18, Buffer.alloc(10, 0x43), { seq: (base + 0x80000000) >>> 0 }));
    s.push(s.segment('client', 0x18, data.subarray(30), { seq: (base + 30) >>> 0 }));
    s.nextSeq.client = (base + data.length) >>> 0;
    s.send('server', res('401 Unauthorized', ['Content-Length: 0']));
  } else if (game === 4) {
    // a big out-of-order burst: the segments of a 3 MB request, shuffled
    s.handshake();
    const body = Buffer.alloc(r.pick([300000, 3 << 20]), 0x61);
    const data = Buffer.concat([req('POST', '/burst', [cl(body)]), body]);
    const segs: Buffer[] = [];
    const base = s.nextSeq.client;
    for (let o = 0; o < data.length; o += 1460) segs.push(s.segment('client', 0x18, data.subarray(o, o + 1460), { seq: (base + o) >>> 0 }));
    for (let i = segs.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [segs[i], segs[j]] = [segs[j], segs[i]];
    }
    for (const x of segs) s.push(x);
    s.nextSeq.client = (base + data.length) >>> 0;
    s.send('server', res('401 Unauthorized', ['Content-Length: 0']));
  } else {
    // simultaneous open, SYN retransmissions with different ISNs, RST storm
    s.push(s.segment('client', 0x02));
    s.push(s.segment('server', 0x02));
    s.nextSeq.client = r.u32();
    s.push(s.segment('client', 0x02));
    for (let k = 0; k < r.pick([1, 100]); k++) s.push(s.segment(r.chance(0.5) ? 'client' : 'server', 0x04, undefined, { seq: r.u32() }));
  }
  return { packets: s.packets };
}

function streamFlood(r: Rng): { packets: WrittenPacket[] } {
  const n = r.pick([2000, 6000]);
  const out: WrittenPacket[] = [];
  const t = T0 + r.next() * 300;
  for (let k = 0; k < n; k++) {
    const s = new TcpSession(`10.77.${(k >> 8) & 255}.${k & 255}:${1024 + (k % 60000)}`, `${SERVER_IP}:80`, { time: t + k * 0.0001, step: 0.00001, isn: [k * 7919, k * 104729] });
    s.handshake();
    if (r.chance(0.5)) s.send('client', `GET /f/${k} HTTP/1.1\r\n\r\n`, { ackEach: false });
    out.push(...s.packets);
  }
  return { packets: out };
}

function confusion(r: Rng): Msg[] {
  return r.pick([
    (): Msg[] => [['client', req('GET', '/on-tls-port', [])], ['server', res('401 Unauthorized', ['Content-Length: 0'])]],
    (): Msg[] => [['client', tlsRecord(r, 22, handshake(1, clientHelloBody(r, r.bytes(32), false), false, r), false)], ['server', res('400 Bad Request', ['Content-Length: 0'])]],
    (): Msg[] => [['client', sipText(r, 'REGISTER sip:x SIP/2.0', sipHeaders(r, 1))], ['server', res('401 Unauthorized', ['Content-Length: 0'])]],
    (): Msg[] => [['client', r.bytes(5000)], ['server', r.bytes(5000)]],
    (): Msg[] => [['client', req('GET', '/then-tls', [])], ['client', tlsRecord(r, 22, r.bytes(100), true)], ['server', res('401 Unauthorized', ['Content-Length: 0'])]],
    (): Msg[] => [['server', 'SIP/2.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'], ['client', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n']],
  ])();
}

const tcpMsgs = (f: (r: Rng) => Msg[], port?: (r: Rng) => number) => (r: Rng) => ({ packets: tcpConversation(r, f(r), port ? port(r) : 80) });

export const SCENARIOS: Scenario[] = [
  { name: 'http.start-line', weight: 5, build: tcpMsgs(startLines) },
  { name: 'http.many-headers', weight: 2, build: tcpMsgs(manyHeaders) },
  { name: 'http.huge-header', weight: 1, build: tcpMsgs(hugeHeader) },
  { name: 'http.chunked', weight: 5, build: tcpMsgs(chunked) },
  { name: 'http.content-length', weight: 5, build: tcpMsgs(contentLength) },
  { name: 'http.compressed', weight: 3, build: tcpMsgs(compressed) },
  { name: 'http.auth', weight: 6, build: tcpMsgs(authFlow) },
  { name: 'http.forms', weight: 2, build: tcpMsgs(forms) },
  { name: 'http.pairing', weight: 3, build: tcpMsgs(pairing) },
  { name: 'sip.udp', weight: 6, build: sipUdp },
  { name: 'sip.tcp', weight: 2, build: tcpMsgs(sipTcp, () => 5060) },
  { name: 'tls.records', weight: 5, build: tls },
  { name: 'tcp.chaos', weight: 4, build: tcpChaos },
  { name: 'tcp.stream-flood', weight: 0.5, build: streamFlood },
  { name: 'protocol.confusion', weight: 3, build: tcpMsgs(confusion, (r) => r.pick([80, 443, 5060, 8080])) },
];
