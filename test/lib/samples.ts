// The sample captures in samples/: one problem from the support seeds each, written with authcap's own
// writer. Deterministic: the same bytes every time (scripts/make-samples.ts writes them; a test checks the
// committed files are what this code makes).

import { createHash } from 'node:crypto';
import { writePcap, type WrittenPacket } from './capture-writer.js';
import { ACK, RST, SYN, TcpSession, interleave, udpFrame } from './packets.js';

export interface Sample {
  name: string;
  description: string;
  /** Extra command-line arguments the sample is meant to be run with (e.g. --key). */
  args: string[];
  packets: WrittenPacket[];
}

/** The OpenSRS-style signing key the XML API samples use (documented in samples/README.md). */
export const SAMPLE_KEY = 'd41d8cd98f00b204e9800998ecf8427e';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** md5(md5(body + key) + key), lower-case hex: how OpenSRS signs a request. */
export function opsSignature(body: Buffer, key = SAMPLE_KEY): string {
  return md5(Buffer.concat([Buffer.from(md5(Buffer.concat([body, Buffer.from(key)]))), Buffer.from(key)]));
}

const T0 = Date.UTC(2024, 4, 14, 9, 30, 0) / 1000; // 2024-05-14T09:30:00Z

function crlf(lines: string[]): string {
  return lines.join('\r\n');
}

function httpRequest(method: string, uri: string, headers: [string, string][], body: Buffer | string = '', version = 'HTTP/1.1'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const hs = headers.map(([k, v]) => `${k}: ${v}`);
  if (b.length || method === 'POST' || method === 'PUT') hs.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(crlf([`${method} ${uri} ${version}`, ...hs, '', '']), 'latin1'), b]);
}

function httpResponse(status: number, reason: string, headers: [string, string][], body = ''): Buffer {
  const b = Buffer.from(body, 'latin1');
  const hs = headers.map(([k, v]) => `${k}: ${v}`);
  hs.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(crlf([`HTTP/1.1 ${status} ${reason}`, ...hs, '', '']), 'latin1'), b]);
}

/** One TCP connection: handshake, request, response, close. */
function oneShot(client: string, server: string, t: number, req: Buffer, res: Buffer | null, isn = 1000): WrittenPacket[] {
  const s = new TcpSession(client, server, { time: t, step: 0.002, isn: [isn, isn * 7 + 11] });
  s.handshake();
  s.send('client', req);
  if (res) s.send('server', res);
  s.close();
  return s.packets;
}

// ---------------------------------------------------------------- SMS gateway (sybase365 seed)

function smsForm(fields: [string, string][]): string {
  return fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

function smsGateway(): Sample {
  const server = '203.0.113.10:80';
  const host: [string, string] = ['Host', 'messaging.example.net'];
  const ok = (user: string, pass: string, to: string, text: string) =>
    httpRequest('POST', `/${user}/${user}.sms`, [host, ['User-Agent', 'smsclient/2.1'], ['Content-Type', 'application/x-www-form-urlencoded']], smsForm([['user', user], ['password', pass], ['to', to], ['text', text]]));
  const accepted = httpResponse(200, 'OK', [['Content-Type', 'text/plain']], 'ID: 4711\n');
  const refused = httpResponse(401, 'Unauthorized', [['Content-Type', 'text/html'], ['WWW-Authenticate', 'Basic realm="SMS Gateway"']], '<html><body>401 - ERROR: Access Denied</body></html>');
  const a = oneShot('198.51.100.23:40110', server, T0, ok('customerabc', 's3cret-abc', '+15555550100', 'Your code is 1234'), accepted, 1000);
  const b = oneShot('198.51.100.99:52001', server, T0 + 0.5, ok('customerdef', 's3cret-def', '+15555550101', 'Meeting at 10'), accepted, 2000);
  const c = oneShot('198.51.100.23:40112', server, T0 + 60, ok('customerabc', 's3cret-abc', '+15555550102', 'Your code is 5678'), accepted, 3000);
  // The refused POST: the application lost the user field (the seed's '-' in the access log).
  const bad = httpRequest(
    'POST',
    '/customerzzz/customerzzz.sms',
    [host, ['User-Agent', 'smsclient/2.2'], ['Content-Type', 'application/x-www-form-urlencoded']],
    smsForm([['password', 's3cret-zzz'], ['to', '+15555550103'], ['text', 'Hello']]),
    'HTTP/1.0',
  );
  const d = oneShot('192.0.2.44:33001', server, T0 + 120, bad, refused, 4000);
  const e = oneShot('192.0.2.44:33002', server, T0 + 180, bad, refused, 5000);
  return {
    name: 'sms-gateway-missing-user',
    description: 'SMS gateway: two POSTs from 192.0.2.44 lack the `user` form field and get 401, next to accepted POSTs that carry it.',
    args: [],
    packets: interleave(a, b, c, d, e),
  };
}

function getNotPost(): Sample {
  const server = '203.0.113.10:80';
  const host: [string, string] = ['Host', 'messaging.example.net'];
  const post = httpRequest('POST', '/api/send', [host, ['Content-Type', 'application/x-www-form-urlencoded']], smsForm([['user', 'customerabc'], ['password', 's3cret-abc'], ['to', '+15555550100'], ['text', 'hi']]));
  const get = httpRequest('GET', `/api/send?${smsForm([['user', 'customerabc'], ['password', 's3cret-abc'], ['to', '+15555550100'], ['text', 'hi']])}`, [host]);
  const a = oneShot('198.51.100.23:40200', server, T0, post, httpResponse(200, 'OK', [], 'ID: 1\n'), 1100);
  const b = oneShot('198.51.100.23:40201', server, T0 + 10, get, httpResponse(405, 'Method Not Allowed', [['Allow', 'POST']], 'Use POST\n'), 1200);
  return {
    name: 'get-not-post',
    description: 'The same SMS request sent as GET with the credentials in the query string: 405, while the POST is accepted.',
    args: [],
    packets: interleave(a, b),
  };
}

// ---------------------------------------------------------------- OpenSRS XML API (opensrs seed)

function opsEnvelope(domain: string): string {
  return [
    "<?xml version='1.0' encoding='UTF-8' standalone='no' ?>",
    "<!DOCTYPE OPS_envelope SYSTEM 'ops.dtd'>",
    '<OPS_envelope>',
    '<header>',
    '<version>0.9</version>',
    '</header>',
    '<body>',
    '<data_block>',
    '<dt_assoc>',
    '<item key="protocol">XCP</item>',
    '<item key="action">LOOKUP</item>',
    '<item key="object">DOMAIN</item>',
    '<item key="attributes">',
    '<dt_assoc>',
    `<item key="domain">${domain}</item>`,
    '</dt_assoc>',
    '</item>',
    '</dt_assoc>',
    '</data_block>',
    '</body>',
    '</OPS_envelope>',
  ].join('\n');
}

function opsReply(code: number, text: string, success: boolean): string {
  return [
    "<?xml version='1.0' encoding=\"UTF-8\" standalone=\"no\" ?>",
    '<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">',
    '<OPS_envelope>',
    '<header>',
    '<version>0.9</version>',
    '</header>',
    '<body>',
    '<data_block>',
    '<dt_assoc>',
    '<item key="protocol">XCP</item>',
    `<item key="response_text">${text}</item>`,
    '<item key="action">REPLY</item>',
    `<item key="is_success">${success ? 1 : 0}</item>`,
    `<item key="response_code">${code}</item>`,
    '</dt_assoc>',
    '</data_block>',
    '</body>',
    '</OPS_envelope>',
  ].join('\n');
}

const OPS_SERVER = '216.40.33.39:55000';

function opsRequest(body: Buffer, signature: string | null, user = 'resellerx'): Buffer {
  const hs: [string, string][] = [['Content-Type', 'text/xml'], ['X-Username', user]];
  if (signature !== null) hs.push(['X-Signature', signature]);
  return httpRequest('POST', '/', hs, body, 'HTTP/1.0');
}

function opsOk(): Buffer {
  return httpResponse(200, 'OK', [['Content-Type', 'text/xml']], opsReply(200, 'Command completed successfully', true));
}

function ops401(): Buffer {
  return httpResponse(401, 'Unauthorized', [['Content-Type', 'text/xml']], opsReply(400, 'Authentication failed', false));
}

/** An accepted, correctly signed request first, then the faulty one. */
function opsPair(name: string, description: string, faulty: Buffer, answer: Buffer = ops401()): Sample {
  const good = Buffer.from(opsEnvelope('acmeinc.biz'));
  const a = oneShot('198.51.100.7:41000', OPS_SERVER, T0, opsRequest(good, opsSignature(good)), opsOk(), 6000);
  const b = oneShot('198.51.100.7:41001', OPS_SERVER, T0 + 30, faulty, answer, 6100);
  return { name, description, args: ['--key', SAMPLE_KEY], packets: interleave(a, b) };
}

function opsSamples(): Sample[] {
  const body = Buffer.from(opsEnvelope('example.org'));
  const withNul = Buffer.concat([body, Buffer.from([0])]);
  const single = md5(Buffer.concat([body, Buffer.from(SAMPLE_KEY)]));
  return [
    opsPair(
      'opensrs-trailing-nul',
      'XML API POST whose HTTP library appended a NUL to the body: the signature was computed without it, so the server refuses it.',
      opsRequest(withNul, opsSignature(body)),
    ),
    opsPair('opensrs-uppercase-signature', 'XML API POST with the right signature in upper case.', opsRequest(body, opsSignature(body).toUpperCase())),
    opsPair('opensrs-single-md5', 'XML API POST signed with one MD5 instead of two.', opsRequest(body, single)),
    opsPair('opensrs-missing-signature', 'XML API POST without the X-Signature header.', opsRequest(body, null)),
    opsPair('opensrs-empty-body', 'XML API POST with a signature header but no XML content.', opsRequest(Buffer.alloc(0), opsSignature(Buffer.alloc(0)))),
    {
      name: 'opensrs-invalid-ip',
      description: 'XML API answers response_code 555 "invalid ip address": the client address is not allow-listed (behind NAT it differs from the one quoted).',
      args: ['--key', SAMPLE_KEY],
      packets: oneShot(
        '10.20.30.40:41500',
        OPS_SERVER,
        T0,
        opsRequest(body, opsSignature(body)),
        httpResponse(200, 'OK', [['Content-Type', 'text/xml']], opsReply(555, 'Connection refused: invalid ip address [123.123.119.150]', false)),
        6200,
      ),
    },
  ];
}

// ---------------------------------------------------------------- Basic and Digest challenges

function basicChallenge(): Sample {
  const s = new TcpSession('198.51.100.50:45000', '203.0.113.80:80', { time: T0, step: 0.003, isn: [7000, 9000] });
  s.handshake();
  const host: [string, string] = ['Host', 'api.example.net'];
  const challenge = httpResponse(401, 'Unauthorized', [['WWW-Authenticate', 'Basic realm="reports"']], 'Authentication required\n');
  s.send('client', httpRequest('GET', '/reports/daily', [host]));
  s.send('server', challenge);
  // Wrong password: refused again.
  s.send('client', httpRequest('GET', '/reports/daily', [host, ['Authorization', `Basic ${Buffer.from('alice:wrong-pass').toString('base64')}`]]));
  s.send('server', challenge);
  s.close();
  // Another client gets in with the right one.
  const t = new TcpSession('198.51.100.51:45100', '203.0.113.80:80', { time: T0 + 5, step: 0.003, isn: [7100, 9100] });
  t.handshake();
  t.send('client', httpRequest('GET', '/reports/daily', [host, ['Authorization', `Basic ${Buffer.from('bob:right-pass').toString('base64')}`]]));
  t.send('server', httpResponse(200, 'OK', [['Content-Type', 'text/csv']], 'date,count\n2024-05-14,3\n'));
  t.close();
  return {
    name: 'basic-rejected-after-retry',
    description: 'Basic challenge answered with a wrong password and refused again; another user is accepted.',
    args: [],
    packets: interleave(s.packets, t.packets),
  };
}

/** RFC 7616 / 2617 Digest response (MD5, qop=auth). */
export function digestResponse(o: { user: string; realm: string; password: string; method: string; uri: string; nonce: string; nc: string; cnonce: string; qop?: string }): string {
  const ha1 = md5(`${o.user}:${o.realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  return o.qop ? md5(`${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`) : md5(`${ha1}:${o.nonce}:${ha2}`);
}

/** The password the Digest samples use (documented in samples/README.md). */
export const SAMPLE_PASSWORD = 'Circle Of Life';

function digestChallenge(): Sample {
  const s = new TcpSession('198.51.100.60:46000', '203.0.113.81:8080', { time: T0, step: 0.003, isn: [8000, 9900] });
  s.handshake();
  const host: [string, string] = ['Host', 'sip-admin.example.net:8080'];
  const realm = 'admin@example.net';
  const nonce = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
  const chal = (stale: boolean) =>
    httpResponse(401, 'Unauthorized', [['WWW-Authenticate', `Digest realm="${realm}", qop="auth", algorithm=MD5, nonce="${nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"${stale ? ', stale=true' : ''}`]]);
  const auth = (password: string, nc: string) => {
    const r = digestResponse({ user: 'Mufasa', realm, password, method: 'GET', uri: '/dir/index.html', nonce, nc, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', qop: 'auth' });
    return `Digest username="Mufasa", realm="${realm}", uri="/dir/index.html", algorithm=MD5, nonce="${nonce}", nc=${nc}, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="${r}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
  };
  s.send('client', httpRequest('GET', '/dir/index.html', [host]));
  s.send('server', chal(false));
  s.send('client', httpRequest('GET', '/dir/index.html', [host, ['Authorization', auth('Circle of Life', '00000001')]]));
  s.send('server', chal(false));
  s.close();
  const t = new TcpSession('198.51.100.61:46100', '203.0.113.81:8080', { time: T0 + 3, step: 0.003, isn: [8100, 9800] });
  t.handshake();
  t.send('client', httpRequest('GET', '/dir/index.html', [host]));
  t.send('server', chal(false));
  t.send('client', httpRequest('GET', '/dir/index.html', [host, ['Authorization', auth(SAMPLE_PASSWORD, '00000001')]]));
  t.send('server', httpResponse(200, 'OK', [['Content-Type', 'text/html']], '<html>ok</html>'));
  t.close();
  return {
    name: 'digest-wrong-password',
    description: 'HTTP Digest: one client answers the challenge with a wrong password (refused again), another with the right one. Run with --password to verify the responses.',
    args: ['--password', SAMPLE_PASSWORD],
    packets: interleave(s.packets, t.packets),
  };
}

// ---------------------------------------------------------------- SIP

function sip(lines: string[], body = ''): string {
  return `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function sipRegister(): Sample {
  const phone = '192.0.2.101:5060';
  const phone2 = '192.0.2.102:5060';
  const registrar = '203.0.113.5:5060';
  const realm = 'sip.example.net';
  const nonce = '4f5a1c2b3d';
  const reg = (from: string, user: string, cseq: number, branch: string, callId: string, auth?: string) =>
    sip([
      `REGISTER sip:${realm} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${realm}>;tag=ab${cseq}`,
      `To: <sip:${user}@${realm}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user}@${from}>`,
      ...(auth ? [`Authorization: ${auth}`] : []),
      'Expires: 3600',
    ]);
  const resp = (status: string, req: string, extra: string[] = []) => {
    const via = /^Via: .*$/m.exec(req)![0];
    const pick = (h: string) => new RegExp(`^${h}: .*$`, 'm').exec(req)![0];
    return sip([`SIP/2.0 ${status}`, via, pick('From'), `${pick('To')};tag=srv1`, pick('Call-ID'), pick('CSeq'), ...extra]);
  };
  const chal = `WWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"`;
  const r1 = reg(phone, '1001', 1, 'z9hG4bK-1a', 'c1@192.0.2.101');
  const ha = digestResponse({ user: '1001', realm, password: SAMPLE_PASSWORD, method: 'REGISTER', uri: `sip:${realm}`, nonce, nc: '00000001', cnonce: 'abcdef', qop: 'auth' });
  const r2 = reg(phone, '1001', 2, 'z9hG4bK-1b', 'c1@192.0.2.101', `Digest username="1001", realm="${realm}", nonce="${nonce}", uri="sip:${realm}", response="${ha}", algorithm=MD5, cnonce="abcdef", qop=auth, nc=00000001`);
  const p1 = reg(phone2, '1002', 1, 'z9hG4bK-2a', 'c2@192.0.2.102');
  const pk: WrittenPacket[] = [];
  let t = T0;
  const add = (from: string, to: string, text: string) => {
    pk.push({ time: t, data: udpFrame(from, to, text) });
    t += 0.05;
  };
  add(phone, registrar, r1);
  add(registrar, phone, resp('401 Unauthorized', r1, [chal]));
  add(phone, registrar, r2);
  add(registrar, phone, resp('200 OK', r2, [`Contact: <sip:1001@${phone}>;expires=3600`]));
  // The second phone never answers the challenge (wrong config: no credentials set), and retries without them.
  add(phone2, registrar, p1);
  add(registrar, phone2, resp('401 Unauthorized', p1, [chal]));
  t += 30;
  const p2 = reg(phone2, '1002', 2, 'z9hG4bK-2b', 'c2@192.0.2.102');
  add(phone2, registrar, p2);
  add(registrar, phone2, resp('401 Unauthorized', p2, [chal]));
  return {
    name: 'sip-register-unanswered',
    description: 'SIP REGISTER over UDP: phone 1001 answers the Digest challenge and registers; phone 1002 never sends credentials.',
    args: ['--password', SAMPLE_PASSWORD],
    packets: pk,
  };
}

// ---------------------------------------------------------------- network level

/** A minimal TLS 1.2 ClientHello with an SNI. */
export function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni);
  const sniExt = Buffer.alloc(9 + name.length);
  sniExt.writeUInt16BE(0, 0); // server_name
  sniExt.writeUInt16BE(5 + name.length, 2);
  sniExt.writeUInt16BE(3 + name.length, 4);
  sniExt[6] = 0;
  sniExt.writeUInt16BE(name.length, 7);
  name.copy(sniExt, 9);
  const exts = sniExt;
  const random = createHash('sha256').update(sni).digest();
  const suites = Buffer.from([0x00, 0x04, 0xc0, 0x2f, 0x00, 0x2f]);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    random,
    Buffer.from([0x00]), // session id
    suites,
    Buffer.from([0x01, 0x00]), // compression
    Buffer.from([exts.length >> 8, exts.length & 0xff]),
    exts,
  ]);
  const hs = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}

function tlsResetAfterHello(): Sample {
  const s = new TcpSession('198.51.100.7:42000', '216.40.33.39:55443', { time: T0, step: 0.02, isn: [9100, 19100] });
  s.handshake();
  s.send('client', clientHello('rr-n1-tor.opensrs.net'), { ackEach: false });
  s.rst('server');
  return {
    name: 'tls-reset-after-hello',
    description: "HTTPS to the XML API port: the server resets the connection right after the ClientHello (openssl's write:errno=104): the client IP is not allow-listed.",
    args: [],
    packets: s.packets,
  };
}

function tcpRefused(): Sample {
  const s = new TcpSession('198.51.100.7:42100', '216.40.33.39:55443', { time: T0, step: 0.01, isn: [9200, 0] });
  s.push(s.segment('client', SYN, undefined, { options: Buffer.from([2, 4, 5, 0xb4]) }));
  s.nextSeq.client = (s.nextSeq.client + 1) >>> 0;
  s.push(s.segment('server', RST | ACK, undefined, { seq: 0, ack: s.nextSeq.client }));
  // The firewalled attempt: three SYNs, no answer.
  const f = new TcpSession('198.51.100.7:42101', '216.40.33.40:55443', { time: T0 + 1, step: 1, isn: [9300, 0] });
  for (let i = 0; i < 3; i++) f.push(f.segment('client', SYN), T0 + 1 + [0, 1, 3][i]);
  return {
    name: 'tcp-refused-and-filtered',
    description: 'One connection refused (SYN answered by RST: port closed, errno 111) and one whose SYNs are never answered (firewall).',
    args: [],
    packets: interleave(s.packets, f.packets),
  };
}

export function allSamples(): Sample[] {
  return [smsGateway(), getNotPost(), ...opsSamples(), basicChallenge(), digestChallenge(), sipRegister(), tlsResetAfterHello(), tcpRefused()];
}

export function sampleBytes(s: Sample): Buffer {
  return writePcap(s.packets);
}

export { ACK };
