// TLS handshake message framing (messages split across records, several per record) and the
// ClientHello / ServerHello fields authcap needs: randoms, SNI, versions, ALPN, suite, extensions.

import { HRR_RANDOM, HS_CLIENT_HELLO, HS_SERVER_HELLO, isGrease, versionName } from './tables.js';

/** Hello messages larger than this are not kept (a ClientHello is a few hundred bytes, rarely > 2 KiB). */
const MAX_KEPT = 64 << 10;

/**
 * Splits a handshake byte stream into messages. Bodies of ClientHello/ServerHello are kept (bounded);
 * other messages are only counted through, so a large Certificate costs no memory.
 */
export class HandshakeScanner {
  private head = Buffer.alloc(4);
  private headLen = 0;
  private type = -1;
  private remaining = 0;
  private body: Buffer | null = null;
  private bodyLen = 0;

  constructor(private readonly onMessage: (type: number, body: Buffer | null) => void) {}

  feed(data: Buffer): void {
    let p = 0;
    while (p < data.length) {
      if (this.type < 0) {
        const n = Math.min(4 - this.headLen, data.length - p);
        data.copy(this.head, this.headLen, p, p + n);
        this.headLen += n;
        p += n;
        if (this.headLen < 4) return;
        this.type = this.head[0];
        this.remaining = this.head.readUIntBE(1, 3);
        const keep = (this.type === HS_CLIENT_HELLO || this.type === HS_SERVER_HELLO) && this.remaining <= MAX_KEPT;
        this.body = keep ? Buffer.alloc(this.remaining) : null;
        this.bodyLen = 0;
      }
      const n = Math.min(this.remaining, data.length - p);
      if (this.body) data.copy(this.body, this.bodyLen, p, p + n);
      this.bodyLen += n;
      this.remaining -= n;
      p += n;
      if (this.remaining === 0) {
        const t = this.type, b = this.body;
        this.type = -1;
        this.headLen = 0;
        this.body = null;
        this.onMessage(t, b);
      }
    }
  }

  /** True between messages (no partial message pending). */
  get idle(): boolean {
    return this.type < 0 && this.headLen === 0;
  }
}

export interface ClientHelloInfo {
  random: Buffer;
  legacyVersion: number;
  versions: string[];
  sni: string | null;
  alpn: string[];
  cipherSuites: number;
  earlyData: boolean;
}

export interface ServerHelloInfo {
  random: Buffer;
  /** Negotiated version (supported_versions extension when present). */
  version: number;
  cipherSuite: number;
  encryptThenMac: boolean;
  helloRetry: boolean;
}

class Reader {
  constructor(public b: Buffer, public p = 0, public end = b.length) {}
  need(n: number): void {
    if (this.p + n > this.end) throw new RangeError('short');
  }
  u8(): number { this.need(1); return this.b[this.p++]; }
  u16(): number { this.need(2); const v = this.b.readUInt16BE(this.p); this.p += 2; return v; }
  bytes(n: number): Buffer { this.need(n); const v = this.b.subarray(this.p, this.p + n); this.p += n; return v; }
  vec(lenBytes: 1 | 2): Reader {
    const n = lenBytes === 1 ? this.u8() : this.u16();
    this.need(n);
    const r = new Reader(this.b, this.p, this.p + n);
    this.p += n;
    return r;
  }
  get left(): number { return this.end - this.p; }
}

function extensions(r: Reader, f: (type: number, data: Reader) => void): void {
  if (r.left < 2) return; // TLS 1.0-1.2 hellos may have no extensions
  const ex = r.vec(2);
  while (ex.left >= 4) {
    const t = ex.u16();
    f(t, ex.vec(2));
  }
}

/** Parse a ClientHello body; null when it is malformed. */
export function parseClientHello(body: Buffer): ClientHelloInfo | null {
  try {
    const r = new Reader(body);
    const legacyVersion = r.u16();
    const random = Buffer.from(r.bytes(32));
    r.vec(1); // session id
    const suites = r.vec(2);
    let cipherSuites = 0;
    while (suites.left >= 2) if (!isGrease(suites.u16())) cipherSuites++;
    r.vec(1); // compression methods
    let sni: string | null = null;
    const alpn: string[] = [];
    let versions: string[] = [];
    let earlyData = false;
    extensions(r, (t, e) => {
      if (t === 0x0000) {
        const list = e.vec(2);
        while (list.left >= 3) {
          const nameType = list.u8();
          const name = list.vec(2);
          if (nameType === 0 && sni === null) sni = name.b.toString('latin1', name.p, name.end);
        }
      } else if (t === 0x0010) {
        const list = e.vec(2);
        while (list.left >= 1) {
          const p = list.vec(1);
          alpn.push(p.b.toString('latin1', p.p, p.end));
        }
      } else if (t === 0x002b) {
        const list = e.vec(1);
        const v: string[] = [];
        while (list.left >= 2) {
          const x = list.u16();
          if (!isGrease(x)) v.push(versionName(x));
        }
        versions = v;
      } else if (t === 0x002a) {
        earlyData = true;
      }
    });
    if (versions.length === 0) versions = [versionName(legacyVersion)];
    return { random, legacyVersion, versions, sni, alpn, cipherSuites, earlyData };
  } catch {
    return null;
  }
}

/** Parse a ServerHello body; null when it is malformed. */
export function parseServerHello(body: Buffer): ServerHelloInfo | null {
  try {
    const r = new Reader(body);
    let version = r.u16();
    const random = Buffer.from(r.bytes(32));
    r.vec(1);
    const cipherSuite = r.u16();
    r.u8();
    let encryptThenMac = false;
    extensions(r, (t, e) => {
      if (t === 0x002b && e.left >= 2) version = e.u16();
      else if (t === 0x0016) encryptThenMac = true;
    });
    return { random, version, cipherSuite, encryptThenMac, helloRetry: random.equals(HRR_RANDOM) };
  } catch {
    return null;
  }
}
