// Runs a REAL TLS session with Node's tls module on loopback through a recording proxy: captures the
// bytes each side wrote (in order) and the client's key log lines, and writes them as a pcap with
// TcpSession, so the TLS stage can be tested on genuine records of any suite.

import net from 'node:net';
import tls from 'node:tls';
import { TEST_CERT, TEST_KEY } from './fixture-cert.js';
import { TcpSession } from '../lib/packets.js';
import { writePcap } from '../lib/capture-writer.js';

export interface Recorded {
  from: 'client' | 'server';
  data: Buffer;
}

export interface LiveOptions {
  /** OpenSSL cipher list for both sides (TLS 1.2 names, or TLS 1.3 suite names via ciphersuites). */
  ciphers?: string;
  /** Client-side cipher list when it must differ from the server's (handshake failure tests). */
  clientCiphers?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  clientMaxVersion?: tls.SecureVersion;
  serverSecureOptions?: number;
  clientSecureOptions?: number;
  servername?: string;
  /** Session to resume (from a previous run's `session`). */
  session?: Buffer;
  request: Buffer;
  response: Buffer;
  /** Also write the server's response in pieces of this size (more records). */
  responseWrite?: number;
}

export interface LiveResult {
  records: Recorded[];
  keylog: string;
  session: Buffer | null;
  /** Plaintext each side received. */
  serverGot: Buffer;
  clientGot: Buffer;
  error: string | null;
  cipher: string | null;
  protocol: string | null;
  /** The client resumed `session`. */
  reused: boolean;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as net.AddressInfo).port)));
}

export async function runTls(o: LiveOptions): Promise<LiveResult> {
  const records: Recorded[] = [];
  const serverGotParts: Buffer[] = [];
  const tlsServer = tls.createServer({
    key: TEST_KEY, cert: TEST_CERT, ciphers: o.ciphers, minVersion: o.minVersion, maxVersion: o.maxVersion,
    secureOptions: o.serverSecureOptions,
    // the same ticket keys in every run, so a later run can resume an earlier session
    ticketKeys: Buffer.alloc(48, 7),
  });
  tlsServer.on('secureConnection', (sock) => {
    let n = 0;
    sock.on('data', (d: Buffer) => {
      serverGotParts.push(d);
      n += d.length;
      if (n >= o.request.length) {
        if (o.responseWrite) for (let i = 0; i < o.response.length; i += o.responseWrite) sock.write(o.response.subarray(i, i + o.responseWrite));
        else sock.write(o.response);
        sock.end();
      }
    });
    sock.on('error', () => {});
  });
  tlsServer.on('tlsClientError', () => {});
  const tlsPort = await listen(tlsServer);

  const proxy = net.createServer((down) => {
    const up = net.connect(tlsPort, '127.0.0.1');
    down.on('data', (d: Buffer) => { records.push({ from: 'client', data: Buffer.from(d) }); up.write(d); });
    up.on('data', (d: Buffer) => { records.push({ from: 'server', data: Buffer.from(d) }); down.write(d); });
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  const proxyPort = await listen(proxy);

  const keylog: string[] = [];
  let session: Buffer | null = null;
  const clientGotParts: Buffer[] = [];
  let error: string | null = null;
  let cipher: string | null = null;
  let protocol: string | null = null;
  let reused = false;
  await new Promise<void>((resolve) => {
    const c = tls.connect({
      host: '127.0.0.1', port: proxyPort, servername: o.servername ?? 'rr-n1-tor.opensrs.net', rejectUnauthorized: false,
      ciphers: o.clientCiphers ?? o.ciphers, minVersion: o.minVersion, maxVersion: o.clientMaxVersion ?? o.maxVersion,
      secureOptions: o.clientSecureOptions, session: o.session,
    });
    c.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
    c.on('session', (s: Buffer) => { session = s; });
    c.on('secureConnect', () => {
      cipher = c.getCipher().standardName;
      protocol = c.getProtocol();
      reused = c.isSessionReused();
      c.write(o.request);
    });
    c.on('data', (d: Buffer) => clientGotParts.push(d));
    c.on('error', (e) => { error = e.message; resolve(); });
    c.on('close', () => resolve());
  });
  // let the proxy see the last bytes and FINs
  await new Promise((r) => setTimeout(r, 30));
  await new Promise((r) => proxy.close(() => r(null)));
  await new Promise((r) => tlsServer.close(() => r(null)));
  return {
    records, keylog: keylog.join(''), session, serverGot: Buffer.concat(serverGotParts), clientGot: Buffer.concat(clientGotParts), error, cipher, protocol, reused,
  };
}

export interface PcapOptions {
  client?: string;
  server?: string;
  mss?: number;
  /** How the connection ends: FIN both ways (default) or a server RST after the records. */
  ending?: 'close' | 'server-rst' | 'none';
  /** Write only the first n recorded chunks. */
  take?: number;
  time?: number;
}

/** The recorded session as a pcap; returns the frame numbers (1-based) of each recorded chunk's segments. */
export function toPcap(records: Recorded[], o: PcapOptions = {}): { pcap: Buffer; frames: number[][]; session: TcpSession } {
  const s = new TcpSession(o.client ?? '192.0.2.10:51234', o.server ?? '198.51.100.7:443', { mss: o.mss, time: o.time });
  s.handshake();
  const frames: number[][] = [];
  for (const r of records.slice(0, o.take ?? records.length)) frames.push(s.frameNumbers(s.send(r.from, r.data)));
  if (o.ending === 'server-rst') s.rst('server');
  else if (o.ending !== 'none') s.close('server');
  return { pcap: writePcap(s.packets), frames, session: s };
}

/** An HTTP POST of an XML body with a trailing NUL, as in the OpenSRS article. */
export function opensrsRequest(host = 'rr-n1-tor.opensrs.net:55443', padTo = 0): Buffer {
  let xml =
    "<?xml version='1.0' encoding='UTF-8' standalone='no' ?>\n<!DOCTYPE OPS_envelope SYSTEM 'ops.dtd'>\n<OPS_envelope>\n" +
    '<header>\n<version>0.9</version>\n</header>\n<body>\n<data_block>\n<dt_assoc>\n<item key="protocol">XCP</item>\n' +
    '<item key="action">LOOKUP</item>\n<item key="object">DOMAIN</item>\n<item key="attributes">\n<dt_assoc>\n' +
    '<item key="domain">acmeinc.biz</item>\n</dt_assoc>\n</item>\n</dt_assoc>\n</data_block>\n</body>\n</OPS_envelope>\n';
  if (padTo > xml.length) xml += `<!--${'x'.repeat(padTo - xml.length)}-->\n`;
  const body = Buffer.concat([Buffer.from(xml, 'latin1'), Buffer.from([0])]);
  const head =
    `POST / HTTP/1.0\r\nHost: ${host}\r\nContent-Type: text/xml\r\nX-Username: test\r\n` +
    `X-Signature: c9fd4c8fde71912c63cc4ba83bbb6bc1\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export function unauthorizedResponse(): Buffer {
  const body = '<?xml version=\'1.0\' encoding="UTF-8" standalone="no" ?>\n<OPS_envelope><body><data_block><dt_assoc>' +
    '<item key="response_text">Authentication Error</item><item key="response_code">401</item>' +
    '</dt_assoc></data_block></body></OPS_envelope>\n';
  return Buffer.from(`HTTP/1.0 401 Unauthorized\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
}
