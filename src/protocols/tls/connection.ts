// One TLS connection over a reassembled TCP connection: frames records in both directions, reads the
// hellos and alerts, and with a key log decrypts TLS 1.0-1.3 application data into plaintext stream
// chunks that name the frame of the record that carried them. What it cannot decrypt, it says why (once).

import type { Direction, StreamChunk, TcpGap, Timestamp } from '../../types.js';
import { HandshakeScanner, parseClientHello, parseServerHello, type ClientHelloInfo, type ServerHelloInfo } from './handshake.js';
import type { KeyLog } from './keylog.js';
import { expandKeys12, Tls12Decryptor, Tls13Decryptor, type RecordDecryptor } from './record-cipher.js';
import {
  alertName, CT_ALERT, CT_APPLICATION_DATA, CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE, CT_HEARTBEAT,
  HS_CLIENT_HELLO, HS_FINISHED, HS_KEY_UPDATE, HS_SERVER_HELLO, MAX_RECORD, suiteInfo, versionName,
} from './tables.js';

export type TlsEvent =
  | { type: 'client-hello'; frame: number; time: Timestamp; sni: string | null; versions: string[]; alpn: string[]; cipherSuites: number }
  | { type: 'server-hello'; frame: number; time: Timestamp; version: string; cipher: string }
  | { type: 'alert'; frame: number; time: Timestamp; from: Direction; level: 'warning' | 'fatal' | 'unknown'; description: number; name: string; encrypted: boolean }
  | { type: 'application-data'; frame: number; from: Direction }
  | { type: 'undecryptable'; reason: string; frame: number }
  /** Added: bytes that cannot be TLS records (not TLS at all, or a record over the size bound); that direction is no longer parsed. */
  | { type: 'malformed'; frame: number; from: Direction; reason: string };

export interface TlsConnectionOptions {
  keylog?: KeyLog;
  onEvent(e: TlsEvent): void;
  onPlaintext(dir: Direction, chunk: StreamChunk): void;
  /** Added, optional: decrypted bytes of a direction were lost (TCP gap); streamOffset is in plaintext bytes. */
  onGap?(dir: Direction, g: TcpGap): void;
}

/** Alerts reported per connection at most (a peer cannot flood the report). */
const MAX_ALERT_EVENTS = 16;

/** Whether bytes look like the start of a TLS record: true/false, or null when fewer than 6 bytes are available. */
export function looksLikeTls(b: Buffer): boolean | null {
  if (b.length >= 1 && (b[0] < CT_CHANGE_CIPHER_SPEC || b[0] > CT_HEARTBEAT)) return false;
  if (b.length >= 2 && b[1] !== 3) return false;
  if (b.length >= 3 && b[2] > 4) return false;
  if (b.length >= 5 && b.readUInt16BE(3) > MAX_RECORD) return false;
  if (b.length < 6) return null;
  if (b[0] === CT_ALERT) return b[5] === 1 || b[5] === 2;
  return b[0] !== CT_HANDSHAKE || b[5] === HS_CLIENT_HELLO || b[5] === HS_SERVER_HELLO;
}

interface Side {
  dir: Direction;
  hdr: Buffer;
  hdrLen: number;
  /** Partial record body (only when a record spans chunks): at most one record. */
  body: Buffer | null;
  bodyLen: number;
  /** Parsing stopped (gap, malformed). */
  stopped: boolean;
  /** Records from this side are protected. */
  encrypted: boolean;
  dec: RecordDecryptor | null;
  /** TLS 1.3: which traffic secret dec uses. */
  phase: 'handshake' | 'application';
  /** TLS 1.3: switch keys after the current record ('application' after Finished, 'update' after KeyUpdate). */
  switchAfter: 'application' | 'update' | null;
  decryptedOnce: boolean;
  protectedRecords: number;
  hs: HandshakeScanner;
  plainOffset: number;
  appData: boolean;
}

export class TlsConnection {
  readonly handshake: { clientHello: boolean; serverHello: boolean; version: string | null; sni: string | null; decrypting: boolean } = {
    clientHello: false, serverHello: false, version: null, sni: null, decrypting: false,
  };

  private readonly o: TlsConnectionOptions;
  private readonly sides: Record<Direction, Side>;
  private ch: ClientHelloInfo | null = null;
  private sh: ServerHelloInfo | null = null;
  private version = 0;
  private reported = false;
  private alerts = 0;
  private frame = 0;
  private time: Timestamp = { sec: 0, nsec: 0, digits: 6 };

  constructor(o: TlsConnectionOptions) {
    this.o = o;
    this.sides = { client: this.side('client'), server: this.side('server') };
  }

  private side(dir: Direction): Side {
    const s: Side = {
      dir, hdr: Buffer.alloc(5), hdrLen: 0, body: null, bodyLen: 0, stopped: false, encrypted: false, dec: null,
      phase: 'handshake', switchAfter: null, decryptedOnce: false, protectedRecords: 0,
      hs: new HandshakeScanner((t, b) => this.handshakeMessage(s, t, b)), plainOffset: 0, appData: false,
    };
    return s;
  }

  // ---------------------------------------------------------------- record framing

  data(dir: Direction, chunk: StreamChunk): void {
    const s = this.sides[dir];
    const d = chunk.data;
    let p = 0;
    let piece = 0;
    while (p < d.length && !s.stopped) {
      if (s.hdrLen < 5) {
        const n = Math.min(5 - s.hdrLen, d.length - p);
        d.copy(s.hdr, s.hdrLen, p, p + n);
        s.hdrLen += n;
        p += n;
        if (s.hdrLen < 5) break;
        const type = s.hdr[0], len = s.hdr.readUInt16BE(3);
        if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || s.hdr[1] !== 3) {
          piece = pieceAt(chunk, p - 1, piece);
          this.malformed(s, chunk.frames[piece], chunk.times[piece], `not a TLS record: starts with ${hexAscii(s.hdr)}`);
          return;
        }
        if (len > MAX_RECORD) {
          piece = pieceAt(chunk, p - 1, piece);
          this.malformed(s, chunk.frames[piece], chunk.times[piece], `TLS record of ${len} bytes is larger than the ${MAX_RECORD}-byte bound`);
          return;
        }
        s.bodyLen = 0;
        s.body = null;
        // whole record in this chunk: no copy
        if (d.length - p >= len) {
          const body = d.subarray(p, p + len);
          p += len;
          piece = pieceAt(chunk, p - 1, piece);
          s.hdrLen = 0;
          this.record(s, Buffer.from(s.hdr), body, chunk.frames[piece], chunk.times[piece]);
          continue;
        }
        s.body = Buffer.alloc(len);
      }
      const len = s.hdr.readUInt16BE(3);
      const n = Math.min(len - s.bodyLen, d.length - p);
      d.copy(s.body!, s.bodyLen, p, p + n);
      s.bodyLen += n;
      p += n;
      if (s.bodyLen === len) {
        piece = pieceAt(chunk, p - 1, piece);
        const body = s.body!;
        s.body = null;
        s.hdrLen = 0;
        this.record(s, Buffer.from(s.hdr), body, chunk.frames[piece], chunk.times[piece]);
      }
    }
  }

  gap(dir: Direction, g: TcpGap): void {
    const s = this.sides[dir];
    if (s.stopped) return;
    s.stopped = true;
    s.body = null;
    const frame = g.frameAfter ?? g.frameBefore ?? 0;
    if (s.dec || (this.o.keylog && !this.handshake.clientHello)) {
      this.undecryptable(`${g.bytes} bytes of the ${dir} stream were not captured (after frame ${g.frameBefore ?? '-'}): TLS record boundaries and sequence numbers are lost, decryption of that direction stopped`, frame);
    }
    if (s.dec && this.o.onGap) this.o.onGap(dir, { ...g, streamOffset: s.plainOffset });
    s.dec = null;
    this.updateDecrypting();
  }

  end(dir: Direction): void {
    const s = this.sides[dir];
    s.body = null;
    s.hdrLen = 0;
    s.stopped = true;
  }

  // ---------------------------------------------------------------- records

  private record(s: Side, header: Buffer, body: Buffer, frame: number, time: Timestamp): void {
    this.frame = frame;
    this.time = time;
    const type = header[0];
    if (type === CT_CHANGE_CIPHER_SPEC) {
      // TLS 1.3 (or a 1.3 client before the ServerHello): compatibility CCS, not protected, no sequence number
      if (this.version === 0x0304 || !this.sh) return;
      s.encrypted = true;
      s.decryptedOnce = false;
      s.dec = this.decryptor12(s);
      this.updateDecrypting();
      return;
    }
    if (!s.encrypted) {
      this.plainRecord(s, type, body);
      return;
    }
    s.protectedRecords++;
    if (!s.dec) {
      this.opaqueRecord(s, type, body);
      return;
    }
    const plain = s.dec.decrypt(header, body);
    if (!plain) {
      if (s.dir === 'client' && this.version === 0x0304 && !s.decryptedOnce && this.ch?.earlyData) return; // 0-RTT data: no early secret
      this.undecryptable(
        s.decryptedOnce
          ? `a ${s.dir} record in frame ${frame} does not decrypt (corrupt record or renegotiation authcap cannot follow); decryption of that direction stopped`
          : `the key log's secret for client random ${this.ch!.random.toString('hex')} does not decrypt the ${s.dir}'s first protected record (frame ${frame}): wrong or mismatched key log entry`,
        frame,
      );
      s.dec = null;
      this.updateDecrypting();
      this.opaqueRecord(s, type, body);
      return;
    }
    s.decryptedOnce = true;
    switch (plain.type) {
      case CT_HANDSHAKE:
        s.hs.feed(plain.data);
        break;
      case CT_ALERT:
        this.alerts2(s, plain.data, true);
        break;
      case CT_APPLICATION_DATA:
        this.appData(s, frame);
        if (plain.data.length) {
          const off = s.plainOffset;
          s.plainOffset += plain.data.length;
          this.o.onPlaintext(s.dir, { data: plain.data, streamOffset: off, offsets: [0], frames: [frame], times: [time] });
        }
        break;
      default:
        break;
    }
    if (s.switchAfter && s.dec instanceof Tls13Decryptor) {
      const how = s.switchAfter;
      s.switchAfter = null;
      if (how === 'update') s.dec = s.dec.update();
      else this.switchToApplication13(s);
    }
  }

  private plainRecord(s: Side, type: number, body: Buffer): void {
    switch (type) {
      case CT_HANDSHAKE:
        s.hs.feed(body);
        break;
      case CT_ALERT:
        this.alerts2(s, body, false);
        break;
      case CT_APPLICATION_DATA:
        // early data of a 1.3 client, or a capture that missed the handshake
        if (s.dir === 'client' && this.ch?.earlyData && !this.sh) return;
        if (!this.handshake.clientHello && !this.handshake.serverHello && this.o.keylog) this.undecryptable('handshake not captured', this.frame);
        this.appData(s, this.frame);
        break;
      default:
        break;
    }
  }

  /** A protected record that cannot be decrypted: what the outer header still tells. */
  private opaqueRecord(s: Side, type: number, body: Buffer): void {
    if (type === CT_ALERT) {
      this.alertEvent(s, 'unknown', -1, 'encrypted_alert', true);
    } else if (type === CT_APPLICATION_DATA) {
      if (this.version === 0x0304) {
        // TLS 1.3 hides the content type: the client's first protected record is its Finished flight;
        // the server's records are handshake until the client has answered.
        if (s.dir === 'client' ? s.protectedRecords < 2 : this.sides.client.protectedRecords < 1) return;
      }
      this.appData(s, this.frame);
    }
    void body;
  }

  private appData(s: Side, frame: number): void {
    if (s.appData) return;
    s.appData = true;
    this.o.onEvent({ type: 'application-data', frame, from: s.dir });
  }

  private alerts2(s: Side, data: Buffer, encrypted: boolean): void {
    if (data.length < 2 || data.length % 2 !== 0 || data[0] < 1 || data[0] > 2) {
      this.malformed(s, this.frame, this.time, `not a TLS alert: ${hexAscii(data.subarray(0, 8))}`);
      return;
    }
    for (let i = 0; i + 1 < data.length; i += 2) {
      const level = data[i] === 1 ? 'warning' : data[i] === 2 ? 'fatal' : 'unknown';
      this.alertEvent(s, level, data[i + 1], alertName(data[i + 1]), encrypted);
    }
  }

  private alertEvent(s: Side, level: 'warning' | 'fatal' | 'unknown', description: number, name: string, encrypted: boolean): void {
    if (this.alerts >= MAX_ALERT_EVENTS) return;
    this.alerts++;
    this.o.onEvent({ type: 'alert', frame: this.frame, time: this.time, from: s.dir, level, description, name, encrypted });
  }

  private malformed(s: Side, frame: number, time: Timestamp, reason: string): void {
    this.frame = frame;
    this.time = time;
    s.stopped = true;
    s.body = null;
    this.o.onEvent({ type: 'malformed', frame, from: s.dir, reason });
    if (s.dec || (this.o.keylog && s.encrypted)) this.undecryptable(`${s.dir} stream: ${reason}`, frame);
    s.dec = null;
    this.updateDecrypting();
  }

  // ---------------------------------------------------------------- handshake

  private handshakeMessage(s: Side, type: number, body: Buffer | null): void {
    if (type === HS_CLIENT_HELLO && s.dir === 'client' && body && !s.encrypted) {
      const ch = parseClientHello(body);
      if (!ch) return;
      // a second ClientHello after a HelloRetryRequest keeps the same random
      this.ch = ch;
      this.handshake.clientHello = true;
      this.handshake.sni = ch.sni;
      this.o.onEvent({ type: 'client-hello', frame: this.frame, time: this.time, sni: ch.sni, versions: ch.versions, alpn: ch.alpn, cipherSuites: ch.cipherSuites });
    } else if (type === HS_SERVER_HELLO && s.dir === 'server' && body && !s.encrypted) {
      const sh = parseServerHello(body);
      if (!sh) return;
      const suite = suiteInfo(sh.cipherSuite);
      this.handshake.serverHello = true;
      this.handshake.version = versionName(sh.version);
      this.o.onEvent({ type: 'server-hello', frame: this.frame, time: this.time, version: versionName(sh.version), cipher: suite.name });
      if (sh.helloRetry) return;
      this.sh = sh;
      this.version = sh.version;
      if (sh.version === 0x0304) this.start13();
    } else if (type === HS_FINISHED && this.version === 0x0304 && s.phase === 'handshake' && s.encrypted) {
      s.switchAfter = 'application';
    } else if (type === HS_KEY_UPDATE && this.version === 0x0304 && s.phase === 'application') {
      s.switchAfter = 'update';
    }
  }

  /** Why keys cannot be had, or null. */
  private keyProblem(): string | null {
    if (!this.o.keylog) return 'no key log';
    if (!this.ch) return 'handshake not captured (no ClientHello)';
    const suite = suiteInfo(this.sh!.cipherSuite);
    if (this.version < 0x0301 || this.version > 0x0304) return `unsupported protocol version ${versionName(this.version)}`;
    if (!suite.bulk) return `unsupported cipher suite ${suite.name}`;
    if ((this.version === 0x0304) !== (this.sh!.cipherSuite >> 8 === 0x13)) return `cipher suite ${suite.name} does not match ${versionName(this.version)}`;
    const sec = this.o.keylog.get(this.ch.random);
    const random = this.ch.random.toString('hex');
    if (this.version === 0x0304) {
      if (!sec?.clientHandshake || !sec.serverHandshake) return `no key for client random ${random} (no CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET lines)`;
    } else if (!sec?.master) {
      return `no key for client random ${random} (no CLIENT_RANDOM line)`;
    }
    return null;
  }

  private start13(): void {
    const c = this.sides.client, s = this.sides.server;
    s.encrypted = true;
    c.encrypted = true;
    const problem = this.keyProblem();
    if (problem) {
      if (this.o.keylog) this.undecryptable(problem, this.frame);
      return;
    }
    const suite = suiteInfo(this.sh!.cipherSuite);
    const sec = this.o.keylog!.get(this.ch!.random)!;
    c.dec = new Tls13Decryptor(suite, sec.clientHandshake!);
    s.dec = new Tls13Decryptor(suite, sec.serverHandshake!);
    this.updateDecrypting();
  }

  private switchToApplication13(s: Side): void {
    s.phase = 'application';
    const sec = this.o.keylog!.get(this.ch!.random)!;
    const secret = s.dir === 'client' ? sec.clientTraffic0 : sec.serverTraffic0;
    if (!secret) {
      this.undecryptable(`no application traffic secret for client random ${this.ch!.random.toString('hex')} (no ${s.dir === 'client' ? 'CLIENT' : 'SERVER'}_TRAFFIC_SECRET_0 line)`, this.frame);
      s.dec = null;
    } else {
      s.dec = new Tls13Decryptor(suiteInfo(this.sh!.cipherSuite), secret);
    }
    this.updateDecrypting();
  }

  private decryptor12(s: Side): RecordDecryptor | null {
    const problem = this.keyProblem();
    if (problem) {
      if (this.o.keylog) this.undecryptable(problem, this.frame);
      return null;
    }
    const suite = suiteInfo(this.sh!.cipherSuite);
    const master = this.o.keylog!.get(this.ch!.random)!.master!;
    const keys = expandKeys12(suite, this.version, master, this.ch!.random, this.sh!.random);
    return new Tls12Decryptor(suite, this.version, keys[s.dir], this.sh!.encryptThenMac);
  }

  private undecryptable(reason: string, frame: number): void {
    if (this.reported) return;
    this.reported = true;
    this.o.onEvent({ type: 'undecryptable', reason, frame });
  }

  private updateDecrypting(): void {
    this.handshake.decrypting = !!(this.sides.client.dec || this.sides.server.dec);
  }
}

/** Index of the piece of `chunk` holding byte `idx`, searching forward from `from`. */
function pieceAt(chunk: StreamChunk, idx: number, from: number): number {
  let i = from;
  while (i + 1 < chunk.offsets.length && chunk.offsets[i + 1] <= idx) i++;
  return i;
}

function hexAscii(b: Buffer): string {
  const ascii = b.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `${b.toString('hex').replace(/(..)/g, '$1 ').trim()} ('${ascii}')`;
}
