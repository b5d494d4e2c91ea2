// A realistic Report for the reporter tests: accepted and refused HTTP/SIP exchanges carrying
// Basic, Digest, Bearer, cookie, API-key and X-Signature secrets, findings whose evidence holds
// secrets under SECRET_EVIDENCE_KEYS, and the 401 summary the checks stage would produce.

import type { Exchange, Finding, Report, UnauthorizedSummary } from '../../src/types.js';

export const BASIC_PASSWORD = 'S3cretBasicPw!';
export const BASIC_TOKEN = Buffer.from(`alice:${BASIC_PASSWORD}`).toString('base64');
export const DIGEST_RESPONSE = '6629fae49393a05397450978507c4ef1';
export const EXPECTED_DIGEST = '0a4f113b6d5c7e8f9a0b1c2d3e4f5a6b';
export const SIGNATURE = 'c9fd4c8fde71912c63cc4ba83bbb6bc1';
export const SIGNATURE_UPPER = SIGNATURE.toUpperCase();
export const EXPECTED_SIGNATURE = 'e787cc1d1951dfec4827cede7b1a0933';
export const QUERY_PASSWORD = 'PwInQuery77';
export const COOKIE_SESSION = 'sess7fh3k2l9q';
export const SET_COOKIE_SESSION = 'newSess9x8y7z';
export const API_KEY = 'ak_live_51HxYzQ';
export const BEARER = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.dGVzdHNpZw';
export const EVIDENCE_PASSWORD = 'EvPassw0rd!';
export const NESTED_SECRET = 'nestedSecretValue42';

/** Every secret in the fixture; none may appear in a redacted rendering. */
export const SECRETS = [
  BASIC_PASSWORD, BASIC_TOKEN, DIGEST_RESPONSE, EXPECTED_DIGEST, SIGNATURE, SIGNATURE_UPPER, EXPECTED_SIGNATURE,
  QUERY_PASSWORD, COOKIE_SESSION, SET_COOKIE_SESSION, API_KEY, BEARER, EVIDENCE_PASSWORD, NESTED_SECRET,
];

const DAY = '2024-05-01T';

interface XOpts {
  id: string;
  t: string; // "10:00:00.100000"
  stream: number | null;
  client: string;
  server: string;
  method: string;
  uri: string;
  headers: [string, string][];
  status: number;
  reason: string;
  resHeaders?: [string, string][];
  frame: number;
  bodyLength?: number;
  credentials?: Exchange['request']['credentials'];
  protocol?: 'http' | 'sip';
}

function addMs(t: string, ms: number): string {
  const [h, m, s] = t.split(':');
  const total = Number(h) * 3600 + Number(m) * 60 + Number(s) + ms / 1000;
  const hh = String(Math.floor(total / 3600)).padStart(2, '0');
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const ss = (total % 60).toFixed(6).padStart(9, '0');
  return `${hh}:${mm}:${ss}`;
}

export function exchange(o: XOpts): Exchange {
  const protocol = o.protocol ?? 'http';
  return {
    id: o.id,
    protocol,
    stream: o.stream,
    client: o.client,
    server: o.server,
    request: {
      frame: o.frame,
      time: `${DAY}${o.t}Z`,
      method: o.method,
      uri: o.uri,
      version: protocol === 'sip' ? 'SIP/2.0' : '1.1',
      headers: o.headers,
      bodyLength: o.bodyLength ?? 0,
      credentials: o.credentials ?? null,
    },
    response: {
      frame: o.frame + 2,
      time: `${DAY}${addMs(o.t, 35)}Z`,
      status: o.status,
      reason: o.reason,
      headers: o.resHeaders ?? [['Content-Type', 'text/plain'], ['Content-Length', '0']],
      bodyLength: 0,
    },
    transport: o.stream === null ? 'udp' : 'tcp',
  };
}

const SMS = '198.51.100.7:80';
const OPS = '198.51.100.20:55443';
const FORM: [string, string][] = [['Host', 'messaging.example.com'], ['Content-Type', 'application/x-www-form-urlencoded']];

export function fixtureExchanges(): Exchange[] {
  return [
    exchange({ id: 'x1', t: '10:00:00.100000', stream: 0, client: '192.0.2.10:50001', server: SMS, method: 'POST', uri: '/customerabc/customerabc.sms', headers: [...FORM, ['Content-Length', '62']], status: 200, reason: 'OK', frame: 4, bodyLength: 62, credentials: { kind: 'form', user: 'customerabc', fields: ['user', 'password'] } }),
    exchange({ id: 'x2', t: '10:00:10.100000', stream: 1, client: '192.0.2.10:50002', server: SMS, method: 'POST', uri: '/customerabc/customerabc.sms', headers: [...FORM, ['Content-Length', '62']], status: 200, reason: 'OK', frame: 14, bodyLength: 62, credentials: { kind: 'form', user: 'customerabc', fields: ['user', 'password'] } }),
    exchange({ id: 'x3', t: '10:00:20.100000', stream: 2, client: '192.0.2.10:50003', server: SMS, method: 'POST', uri: '/customerabc/customerabc.sms', headers: [...FORM, ['Content-Length', '40']], status: 401, reason: 'Unauthorized', resHeaders: [['WWW-Authenticate', 'Basic realm="sms"'], ['Content-Length', '477']], frame: 24, bodyLength: 40, credentials: { kind: 'form', user: null, fields: ['password'] } }),
    exchange({ id: 'x4', t: '10:00:30.100000', stream: 3, client: '192.0.2.10:50004', server: SMS, method: 'POST', uri: '/customerabc/customerabc.sms', headers: [...FORM, ['Content-Length', '40']], status: 401, reason: 'Unauthorized', frame: 34, bodyLength: 40, credentials: { kind: 'form', user: null, fields: ['password'] } }),
    exchange({ id: 'x5', t: '10:00:40.100000', stream: 4, client: '203.0.113.5:40000', server: OPS, method: 'POST', uri: '/', headers: [['Content-Type', 'text/xml'], ['X-Username', 'resellr'], ['X-Signature', SIGNATURE], ['Content-Length', '505']], status: 200, reason: 'OK', frame: 44, bodyLength: 505, credentials: { kind: 'header', user: 'resellr', fields: ['X-Username', 'X-Signature'] } }),
    exchange({ id: 'x6', t: '10:00:50.100000', stream: 5, client: '203.0.113.5:40001', server: OPS, method: 'POST', uri: '/', headers: [['Content-Type', 'text/xml'], ['X-Username', 'resellr'], ['X-Signature', SIGNATURE_UPPER], ['Content-Length', '506']], status: 401, reason: 'Unauthorized', frame: 54, bodyLength: 506, credentials: { kind: 'header', user: 'resellr', fields: ['X-Username', 'X-Signature'] } }),
    exchange({ id: 'x7', t: '10:01:00.100000', stream: 6, client: '192.0.2.10:50005', server: SMS, method: 'GET', uri: `/customerabc/customerabc.sms?user=customerabc&password=${QUERY_PASSWORD}`, headers: [['Host', 'messaging.example.com']], status: 401, reason: 'Unauthorized', frame: 64, credentials: { kind: 'query', user: 'customerabc', fields: ['user', 'password'] } }),
    exchange({ id: 'x8', t: '10:01:10.100000', stream: 7, client: '192.0.2.20:51000', server: '198.51.100.9:8080', method: 'GET', uri: '/admin/status', headers: [['Host', 'admin.example.com'], ['Authorization', `Basic ${BASIC_TOKEN}`], ['Cookie', `theme=dark; session=${COOKIE_SESSION}`], ['X-API-Key', API_KEY]], status: 200, reason: 'OK', resHeaders: [['Set-Cookie', `session=${SET_COOKIE_SESSION}; Path=/; HttpOnly`], ['Content-Length', '0']], frame: 74, credentials: { kind: 'basic', user: 'alice', fields: [] } }),
    exchange({ id: 'x9', t: '10:01:20.100000', stream: null, protocol: 'sip', client: '192.0.2.50:5060', server: '198.51.100.30:5060', method: 'REGISTER', uri: 'sip:example.com', headers: [['Via', 'SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK776'], ['From', '<sip:bob@example.com>;tag=1'], ['Authorization', `Digest username="bob", realm="example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:example.com", response="${DIGEST_RESPONSE}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`]], status: 401, reason: 'Unauthorized', resHeaders: [['WWW-Authenticate', 'Digest realm="example.com", nonce="ae9f2b11", algorithm=MD5, qop="auth"']], frame: 84, credentials: { kind: 'digest', user: 'bob', fields: ['username', 'realm', 'nonce', 'uri', 'response'] } }),
    exchange({ id: 'x10', t: '10:01:30.100000', stream: 8, client: '192.0.2.20:51001', server: '198.51.100.9:8080', method: 'GET', uri: '/api/v1/me', headers: [['Host', 'admin.example.com'], ['Authorization', `Bearer ${BEARER}`]], status: 401, reason: 'Unauthorized', frame: 94, credentials: { kind: 'bearer', user: null, fields: [] } }),
  ];
}

function finding(f: Partial<Finding> & Pick<Finding, 'code' | 'severity' | 'message'>): Finding {
  return { exchange: null, stream: null, frames: [], filter: '', evidence: {}, ...f };
}

export function fixtureFindings(): Finding[] {
  return [
    finding({ code: 'http.unauthorized', severity: 'error', message: 'POST /customerabc/customerabc.sms answered 401: the request lacks the `user` field', exchange: 'x3', stream: 2, frames: [24, 26], filter: 'tcp.stream eq 2', evidence: { status: 401 } }),
    finding({ code: 'auth.field-missing', severity: 'error', message: 'the form lacks the `user` field that 2 accepted requests to this endpoint carry', exchange: 'x3', stream: 2, frames: [24], filter: 'tcp.stream eq 2', evidence: { field: 'user', where: 'form', acceptedWith: 2 } }),
    finding({ code: 'http.unauthorized', severity: 'error', message: 'POST /customerabc/customerabc.sms answered 401', exchange: 'x4', stream: 3, frames: [34, 36], filter: 'tcp.stream eq 3', evidence: {} }),
    finding({ code: 'auth.field-missing', severity: 'error', message: 'the form lacks the `user` field that 2 accepted requests to this endpoint carry', exchange: 'x4', stream: 3, frames: [34], filter: 'tcp.stream eq 3', evidence: { field: 'user', where: 'form', acceptedWith: 2 } }),
    finding({ code: 'body.trailing-nul', severity: 'error', message: 'the body ends in 1 NUL byte, which changes the MD5 signature computed over it', exchange: 'x6', stream: 5, frames: [54], filter: 'tcp.stream eq 5', evidence: { nulBytes: 1, signature: SIGNATURE_UPPER, expectedSignature: EXPECTED_SIGNATURE } }),
    finding({ code: 'signature.uppercase', severity: 'warning', message: `X-Signature ${SIGNATURE_UPPER} is upper case; the server expects lower case`, exchange: 'x6', stream: 5, frames: [54], filter: 'tcp.stream eq 5 && http.request', evidence: { header: 'X-Signature', computed: { key: NESTED_SECRET, rounds: 2 } } }),
    finding({ code: 'method.get-not-post', severity: 'error', message: 'GET with the credentials in its query string where POSTs to this path succeed', exchange: 'x7', stream: 6, frames: [64], filter: 'tcp.stream eq 6', evidence: { uri: `/customerabc/customerabc.sms?user=customerabc&password=${QUERY_PASSWORD}` } }),
    finding({ code: 'auth.digest-mismatch', severity: 'error', message: 'the Digest response from bob does not verify with the given password', exchange: 'x9', stream: null, frames: [84], filter: 'frame.number == 84', evidence: { password: EVIDENCE_PASSWORD, response: DIGEST_RESPONSE, expectedResponse: EXPECTED_DIGEST, realm: 'example.com' } }),
    finding({ code: 'auth.token-expired', severity: 'error', message: 'the bearer token expired at 2023-11-14T22:13:20Z, before the request', exchange: 'x10', stream: 8, frames: [94], filter: 'tcp.stream eq 8', evidence: { token: BEARER, exp: '2023-11-14T22:13:20Z' } }),
    finding({ code: 'tcp.refused', severity: 'error', message: 'SYN to 198.51.100.7:443 answered by RST: the port is closed', frames: [100, 101], stream: 9, filter: 'tcp.stream eq 9', evidence: { client: '192.0.2.99:41000', server: '198.51.100.7:443' } }),
    finding({ code: 'tls.encrypted', severity: 'info', message: 'HTTPS on 198.51.100.7:8443 cannot be inspected without keys', frames: [110], stream: 10, filter: 'tcp.stream eq 10', evidence: {} }),
  ];
}

export function fixtureUnauthorized(): UnauthorizedSummary {
  const r = (id: string, time: string, frame: number) => ({ time: `${DAY}${time}Z`, frame, exchange: id });
  return {
    accepted: 3,
    refused: 6,
    firstRefusal: r('x3', '10:00:20.135000', 26),
    groups: [
      { endpoint: 'POST /customerabc/customerabc.sms', server: SMS, host: 'messaging.example.com', client: '192.0.2.10', user: 'customerabc', accepted: 2, refused: 0, firstRefusal: null, lastRefusal: null, lastAcceptedBeforeRefusal: null, reasons: {} },
      { endpoint: 'POST /customerabc/customerabc.sms', server: SMS, host: 'messaging.example.com', client: '192.0.2.10', user: null, accepted: 0, refused: 2, firstRefusal: r('x3', '10:00:20.135000', 26), lastRefusal: r('x4', '10:00:30.135000', 36), lastAcceptedBeforeRefusal: r('x2', '10:00:10.135000', 16), reasons: { 'auth.field-missing': 2 } },
      { endpoint: 'POST /', server: OPS, host: null, client: '203.0.113.5', user: 'resellr', accepted: 1, refused: 1, firstRefusal: r('x6', '10:00:50.135000', 56), lastRefusal: r('x6', '10:00:50.135000', 56), lastAcceptedBeforeRefusal: r('x5', '10:00:40.135000', 46), reasons: { 'body.trailing-nul': 1 } },
      { endpoint: 'GET /customerabc/customerabc.sms', server: SMS, host: 'messaging.example.com', client: '192.0.2.10', user: 'customerabc', accepted: 0, refused: 1, firstRefusal: r('x7', '10:01:00.135000', 66), lastRefusal: r('x7', '10:01:00.135000', 66), lastAcceptedBeforeRefusal: null, reasons: { 'method.get-not-post': 1 } },
      { endpoint: 'REGISTER sip:example.com', server: '198.51.100.30:5060', host: null, client: '192.0.2.50', user: 'bob', accepted: 0, refused: 1, firstRefusal: r('x9', '10:01:20.135000', 86), lastRefusal: r('x9', '10:01:20.135000', 86), lastAcceptedBeforeRefusal: null, reasons: { 'auth.digest-mismatch': 1 } },
      { endpoint: 'GET /api/v1/me', server: '198.51.100.9:8080', host: 'admin.example.com', client: '192.0.2.20', user: null, accepted: 0, refused: 1, firstRefusal: r('x10', '10:01:30.135000', 96), lastRefusal: r('x10', '10:01:30.135000', 96), lastAcceptedBeforeRefusal: null, reasons: { 'auth.token-expired': 1 } },
    ],
  };
}

export function fixtureReport(): Report {
  return {
    tool: { name: 'authcap', version: '0.1.0' },
    inputs: [{ file: 'sms-401.pcap', format: 'pcap', linkTypes: [1], packets: 120, bytes: 48_213, firstTime: `${DAY}10:00:00.000000Z`, lastTime: `${DAY}10:01:40.000000Z` }],
    stats: { packets: 120, tcpStreams: 11, httpRequests: 9, httpResponses: 9, sipRequests: 1, sipResponses: 1 },
    exchanges: fixtureExchanges(),
    findings: fixtureFindings(),
    unauthorized: fixtureUnauthorized(),
  };
}

/** A report with nothing wrong: n accepted GETs. */
export function cleanReport(n = 3): Report {
  const exchanges: Exchange[] = [];
  for (let i = 0; i < n; i++) {
    exchanges.push(exchange({ id: `x${i + 1}`, t: `10:00:0${i}.000000`, stream: i, client: `192.0.2.10:5000${i}`, server: SMS, method: 'GET', uri: `/page/${i}`, headers: [['Host', 'www.example.com']], status: 200, reason: 'OK', frame: 4 + i * 10 }));
  }
  return {
    tool: { name: 'authcap', version: '0.1.0' },
    inputs: [{ file: 'ok.pcap', format: 'pcapng', linkTypes: [1], packets: 10 * n, bytes: 4000, firstTime: `${DAY}10:00:00.000000Z`, lastTime: `${DAY}10:00:09.000000Z` }],
    stats: { packets: 10 * n, tcpStreams: n, httpRequests: n, httpResponses: n, sipRequests: 0, sipResponses: 0 },
    exchanges,
    findings: [],
    unauthorized: { accepted: n, refused: 0, firstRefusal: null, groups: [] },
  };
}
