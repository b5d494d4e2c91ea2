// The fuzz suite's starting material: the samples (test/lib/samples.ts) plus a few extra captures that
// reach other decoders (IPv6, VLAN + chunked gzip, IPv4-fragmented SIP), the containers they can be
// written in (pcap LE/BE/ns, pcapng, gzip of either), and compression bombs built once, streaming.

import { gzipSync, createGzip, createDeflate, createBrotliCompress, constants as zc } from 'node:zlib';
import { writePcap, writePcapng, type WrittenPacket } from '../lib/capture-writer.js';
import { TcpSession, ethernet, ipv4Fragments, udp, interleave } from '../lib/packets.js';
import { allSamples, sampleBytes, type Sample } from '../lib/samples.js';

export type Container = 'pcap' | 'pcap-be' | 'pcap-ns' | 'pcapng' | 'pcapng-be' | 'pcap.gz' | 'pcapng.gz';

export interface Base {
  name: string;
  packets: WrittenPacket[];
  /** The container this base is normally written in. */
  container: Container;
}

export const T0 = Date.UTC(2024, 4, 14, 9, 30, 0) / 1000;

export function serialize(packets: WrittenPacket[], container: Container): Buffer {
  switch (container) {
    case 'pcap': return writePcap(packets);
    case 'pcap-be': return writePcap(packets, { bigEndian: true });
    case 'pcap-ns': return writePcap(packets, { nanos: true });
    case 'pcapng': return writePcapng(packets);
    case 'pcapng-be': return writePcapng(packets, { linkType: 1 }, true);
    case 'pcap.gz': return gzipSync(writePcap(packets));
    case 'pcapng.gz': return gzipSync(writePcapng(packets));
  }
}

export function isGzip(c: Container): boolean {
  return c.endsWith('.gz');
}

function ipv6Session(): WrittenPacket[] {
  const s = new TcpSession('[2001:db8::10]:50400', '[2001:db8:1::80]:8080', { time: T0 + 1, isn: [4000, 8000] });
  s.handshake();
  s.send('client', 'GET /v6/status HTTP/1.1\r\nHost: v6.example.net\r\n\r\n');
  s.send('server', 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="v6"\r\nContent-Length: 0\r\n\r\n');
  s.send('client', `GET /v6/status HTTP/1.1\r\nHost: v6.example.net\r\nAuthorization: Basic ${Buffer.from('v6:pw').toString('base64')}\r\n\r\n`);
  s.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  s.close();
  return s.packets;
}

function vlanChunkedGzip(): WrittenPacket[] {
  const s = new TcpSession('198.51.100.70:47000', '203.0.113.70:80', { time: T0 + 2, isn: [0xfffff000, 0xffffff00], mss: 536 });
  s.link = (ip) => ethernet(ip, { vlans: [10, 20], qinq: true });
  s.handshake();
  const body = 'user=alice&password=pw&text=' + 'x'.repeat(1500);
  s.send('client', `POST /form HTTP/1.1\r\nHost: v.example.net\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const z = gzipSync(Buffer.from('<html>' + 'refused '.repeat(400) + '</html>'));
  const half = z.length >> 1;
  const chunked = Buffer.concat([
    Buffer.from('HTTP/1.1 401 Unauthorized\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nWWW-Authenticate: Bearer realm="v"\r\n\r\n'),
    Buffer.from(`${half.toString(16)}\r\n`), z.subarray(0, half), Buffer.from(`\r\n${(z.length - half).toString(16)};ext=1\r\n`), z.subarray(half),
    Buffer.from('\r\n0\r\nX-Trailer: t\r\n\r\n'),
  ]);
  s.send('server', chunked);
  s.close();
  return s.packets;
}

function fragmentedSip(): WrittenPacket[] {
  const body = 'v=0\r\n' + 'a=x-filler:' + 'y'.repeat(3000) + '\r\n';
  const text = [
    'INVITE sip:2000@sip.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.150:5060;branch=z9hG4bK-frag',
    'From: <sip:1500@sip.example.net>;tag=f1',
    'To: <sip:2000@sip.example.net>',
    'Call-ID: frag@192.0.2.150',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
  const dgram = udp(Buffer.from(text), { sport: 5060, dport: 5060 });
  const frags = ipv4Fragments(dgram, { src: '192.0.2.150', dst: '203.0.113.5', proto: 17, id: 0x4242 }, 1480);
  const reply = [
    'SIP/2.0 407 Proxy Authentication Required',
    'Via: SIP/2.0/UDP 192.0.2.150:5060;branch=z9hG4bK-frag',
    'From: <sip:1500@sip.example.net>;tag=f1',
    'To: <sip:2000@sip.example.net>;tag=s1',
    'Call-ID: frag@192.0.2.150',
    'CSeq: 1 INVITE',
    'Proxy-Authenticate: Digest realm="sip.example.net", nonce="abc", algorithm=MD5',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const out: WrittenPacket[] = frags.map((f, i) => ({ time: T0 + 3 + i * 0.0001, data: ethernet(f) }));
  const r = udp(Buffer.from(reply), { sport: 5060, dport: 5060 });
  out.push({ time: T0 + 3.01, data: ethernet(ipv4Fragments(r, { src: '203.0.113.5', dst: '192.0.2.150', proto: 17, id: 7 }, 65528)[0]) });
  return out;
}

let cache: Base[] | null = null;
let smsCache: Sample | null = null;

/** The sms-gateway sample: two refused POSTs among accepted ones (the "nothing lost" witness). */
export function smsSample(): Sample {
  smsCache ??= allSamples().find((s) => s.name === 'sms-gateway-missing-user')!;
  return smsCache;
}

export function bases(): Base[] {
  if (cache) return cache;
  const samples = allSamples();
  const out: Base[] = samples.map((s) => ({ name: s.name, packets: s.packets, container: 'pcap' as Container }));
  const byName = (n: string) => samples.find((s) => s.name === n)!;
  out.push({ name: 'sms-gateway/pcapng', packets: byName('sms-gateway-missing-user').packets, container: 'pcapng' });
  out.push({ name: 'digest/pcapng-be', packets: byName('digest-wrong-password').packets, container: 'pcapng-be' });
  out.push({ name: 'sip-register/pcapng', packets: byName('sip-register-unanswered').packets, container: 'pcapng' });
  out.push({ name: 'sms-gateway/pcap.gz', packets: byName('sms-gateway-missing-user').packets, container: 'pcap.gz' });
  out.push({ name: 'opensrs-trailing-nul/pcapng.gz', packets: byName('opensrs-trailing-nul').packets, container: 'pcapng.gz' });
  out.push({ name: 'basic/pcap-be', packets: byName('basic-rejected-after-retry').packets, container: 'pcap-be' });
  out.push({ name: 'tls/pcap-ns', packets: byName('tls-reset-after-hello').packets, container: 'pcap-ns' });
  out.push({ name: 'ipv6-basic', packets: ipv6Session(), container: 'pcap' });
  out.push({ name: 'vlan-chunked-gzip', packets: vlanChunkedGzip(), container: 'pcap' });
  out.push({ name: 'fragmented-sip', packets: fragmentedSip(), container: 'pcap' });
  out.push({ name: 'mixed', packets: interleave(ipv6Session(), fragmentedSip(), byName('tcp-refused-and-filtered').packets), container: 'pcapng' });
  cache = out;
  return out;
}

/** Bytes of a sample as the CLI tests write it. */
export { sampleBytes };

// ---------------------------------------------------------------- compression bombs

export interface Bombs {
  /** 100 MiB of zeros, gzip level 9 (~100 KiB). */
  gzip: Buffer;
  /** 100 MiB of zeros, zlib (deflate) level 9. */
  deflate: Buffer;
  /** 100 MiB of zeros, brotli. */
  br: Buffer;
  /** How many bytes each expands to. */
  expandsTo: number;
}

let bombs: Bombs | null = null;

/** Compresses `total` zero bytes through `z` without ever holding them: one 1 MiB buffer written repeatedly. */
export async function streamZeros(z: NodeJS.ReadWriteStream, total: number): Promise<Buffer> {
  const zero = Buffer.alloc(1 << 20);
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  for (let left = total; left > 0; left -= zero.length) {
    const piece = left >= zero.length ? zero : zero.subarray(0, left);
    if (!z.write(piece)) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}

/** Builds the bombs once per process (about a second of CPU). */
export async function prepareBombs(): Promise<Bombs> {
  if (bombs) return bombs;
  const n = 100 << 20;
  const [gzip, deflate, br] = await Promise.all([
    streamZeros(createGzip({ level: 9 }), n),
    streamZeros(createDeflate({ level: 9 }), n),
    streamZeros(createBrotliCompress({ params: { [zc.BROTLI_PARAM_QUALITY]: 4 } }), n),
  ]);
  bombs = { gzip, deflate, br, expandsTo: n };
  return bombs;
}

export function getBombs(): Bombs {
  if (!bombs) throw new Error('prepareBombs() was not awaited');
  return bombs;
}
