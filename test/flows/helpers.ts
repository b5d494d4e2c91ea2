// Test helpers for the TCP flow stage: turn the Ethernet/IPv4/IPv6/TCP frames written by test/lib/packets.ts
// into DecodedPacket objects (a tiny local decoder, so these tests do not depend on the real decode stage),
// a recording TcpStreamHandler, and a way to ask tshark for its tcp.stream numbers on the same frames.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitTime, writePcap, type WrittenPacket } from '../lib/capture-writer.js';
import type {
  DecodedPacket, Direction, StreamChunk, TcpConnection, TcpConnectionSummary, TcpGap, TcpStreamHandler,
} from '../../src/types.js';

function ipv6Text(b: Buffer): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (>= 2) of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Decode one Ethernet frame carrying IPv4 or IPv6 and TCP (no VLAN, no IPv6 extension headers). */
export function decodeFrame(w: WrittenPacket, frame: number): DecodedPacket {
  const d = w.data;
  const type = d.readUInt16BE(12);
  let off = 14;
  let src: string, dst: string, ipVersion: 4 | 6, proto: number, end: number;
  if (type === 0x0800) {
    const ihl = (d[off] & 0x0f) * 4;
    ipVersion = 4;
    proto = d[off + 9];
    src = [...d.subarray(off + 12, off + 16)].join('.');
    dst = [...d.subarray(off + 16, off + 20)].join('.');
    end = off + d.readUInt16BE(off + 2);
    off += ihl;
  } else if (type === 0x86dd) {
    ipVersion = 6;
    proto = d[off + 6];
    src = ipv6Text(d.subarray(off + 8, off + 24));
    dst = ipv6Text(d.subarray(off + 24, off + 40));
    end = off + 40 + d.readUInt16BE(off + 4);
    off += 40;
  } else throw new Error(`not IP: ethertype ${type.toString(16)}`);
  if (proto !== 6) throw new Error('not TCP');
  const hl = (d[off + 12] >> 4) * 4;
  const wireEnd = end; // as the IP header says
  const capEnd = Math.min(end, d.length);
  // header longer than the segment: tshark's "Short segment", passed on numbered-only (tcp.short)
  const short = off + hl > wireEnd;
  const { sec, nsec } = splitTime(w.time);
  return {
    frame,
    input: 0,
    time: { sec, nsec, digits: 6 },
    ipVersion,
    src,
    dst,
    transport: 'tcp',
    srcPort: d.readUInt16BE(off),
    dstPort: d.readUInt16BE(off + 2),
    tcp: {
      seq: d.readUInt32BE(off + 4),
      ack: d.readUInt32BE(off + 8),
      flags: d[off + 13],
      window: d.readUInt16BE(off + 14),
      headerLength: hl,
      ...(short ? { short: true } : {}),
    },
    payload: short ? Buffer.alloc(0) : d.subarray(off + hl, capEnd),
    missingBytes: Math.max(0, wireEnd - capEnd),
  };
}

/** Decode a list of frames, numbering them 1.. as Wireshark does. */
export function decodeAll(frames: WrittenPacket[]): DecodedPacket[] {
  return frames.map((w, i) => decodeFrame(w, i + 1));
}

export type Event =
  | { ev: 'data'; stream: number; dir: Direction; chunk: StreamChunk }
  | { ev: 'gap'; stream: number; dir: Direction; gap: TcpGap }
  | { ev: 'end'; stream: number; dir: Direction; how: 'fin' | 'rst'; frame: number }
  | { ev: 'close'; stream: number; summary: TcpConnectionSummary };

/** A handler factory that records every call, in order, for assertions. */
export class Recorder {
  events: Event[] = [];
  conns: TcpConnection[] = [];
  factory = (conn: TcpConnection): TcpStreamHandler => {
    this.conns.push(conn);
    const stream = conn.stream;
    const ev = this.events;
    return {
      data(dir, chunk) {
        // the handler owns chunk.data: check the tracker did not hand over a view of a reused buffer
        ev.push({ ev: 'data', stream, dir, chunk: { ...chunk, data: Buffer.from(chunk.data) } });
      },
      gap(dir, gap) { ev.push({ ev: 'gap', stream, dir, gap }); },
      end(dir, how, frame) { ev.push({ ev: 'end', stream, dir, how, frame }); },
      close(summary) { ev.push({ ev: 'close', stream, summary }); },
    };
  };

  /** The bytes delivered for one stream and direction, concatenated. */
  text(stream: number, dir: Direction): string {
    return Buffer.concat(
      this.events.flatMap((e) => (e.ev === 'data' && e.stream === stream && e.dir === dir ? [e.chunk.data] : [])),
    ).toString('latin1');
  }

  of<K extends Event['ev']>(kind: K, stream?: number): Extract<Event, { ev: K }>[] {
    return this.events.filter((e) => e.ev === kind && (stream === undefined || e.stream === stream)) as Extract<Event, { ev: K }>[];
  }

  summary(stream: number): TcpConnectionSummary {
    const c = this.of('close', stream);
    if (c.length !== 1) throw new Error(`stream ${stream}: ${c.length} close calls`);
    return c[0].summary;
  }
}

export const HAVE_TSHARK = existsSync('/usr/bin/tshark') || existsSync('/usr/local/bin/tshark');

/** tshark's tcp.stream for each frame (index = frame - 1), or null when tshark is not installed. */
export function tsharkStreams(frames: WrittenPacket[]): number[] | null {
  if (!HAVE_TSHARK) return null;
  const dir = mkdtempSync(join(tmpdir(), 'authcap-flows-'));
  try {
    const f = join(dir, 'f.pcap');
    writeFileSync(f, writePcap(frames));
    const out = execFileSync('tshark', ['-n', '-r', f, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const res: number[] = [];
    for (const line of out.split('\n')) {
      if (!line.trim()) continue;
      const [n, s] = line.split('\t');
      res[Number(n) - 1] = Number(s);
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
