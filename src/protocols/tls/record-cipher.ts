// TLS record decryption with node:crypto: the TLS 1.0-1.2 PRF and key expansion from a logged master
// secret, the TLS 1.3 HKDF-Expand-Label key schedule from logged traffic secrets, and per-direction
// record decryptors (AES-GCM, AES-CCM, ChaCha20-Poly1305, AES/3DES-CBC with HMAC, MAC-then-encrypt or
// encrypt-then-MAC) that keep their own sequence number.

import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { SuiteInfo } from './tables.js';

// ---------------------------------------------------------------- key derivation

function pHash(hash: string, secret: Buffer, seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let a: Buffer = seed;
  let off = 0;
  while (off < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(seed).digest();
    off += block.copy(out, off);
  }
  return out;
}

/** TLS PRF: P_<hash> for TLS 1.2, P_MD5 xor P_SHA1 for TLS 1.0/1.1 (hash 'md5sha1'). */
export function prf(hash: 'sha256' | 'sha384' | 'md5sha1', secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const ls = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  if (hash !== 'md5sha1') return pHash(hash, secret, ls, length);
  const half = Math.ceil(secret.length / 2);
  const a = pHash('md5', secret.subarray(0, half), ls, length);
  const b = pHash('sha1', secret.subarray(secret.length - half), ls, length);
  for (let i = 0; i < length; i++) a[i] ^= b[i];
  return a;
}

function hkdfExpand(hash: string, prk: Buffer, info: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let t: Buffer = Buffer.alloc(0);
  let off = 0;
  for (let i = 1; off < length; i++) {
    t = createHmac(hash, prk).update(t).update(info).update(Buffer.from([i])).digest();
    off += t.copy(out, off);
  }
  return out;
}

/** RFC 8446 7.1 HKDF-Expand-Label. */
export function hkdfExpandLabel(hash: string, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  context.copy(info, 4 + full.length);
  return hkdfExpand(hash, secret, info, length);
}

/** Next TLS 1.3 application traffic secret after a KeyUpdate. */
export function nextTrafficSecret(hash: string, secret: Buffer): Buffer {
  return hkdfExpandLabel(hash, secret, 'traffic upd', Buffer.alloc(0), secret.length);
}

export interface DirectionKeys {
  macKey: Buffer;
  key: Buffer;
  iv: Buffer;
}

/** TLS 1.0-1.2 key expansion: client and server write keys from the master secret. */
export function expandKeys12(
  suite: SuiteInfo, version: number, master: Buffer, clientRandom: Buffer, serverRandom: Buffer,
): { client: DirectionKeys; server: DirectionKeys } {
  const macLen = suite.bulk === 'cbc' ? macLength(suite.mac!) : 0;
  const keyLen = suite.keyLen!;
  const ivLen = suite.bulk === 'cbc' ? suite.blockLen! : suite.bulk === 'chacha' ? 12 : 4;
  const hash = version >= 0x0303 ? suite.prf! : 'md5sha1';
  const kb = prf(hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (macLen + keyLen + ivLen));
  let o = 0;
  const take = (n: number) => kb.subarray(o, (o += n));
  const cMac = take(macLen), sMac = take(macLen), cKey = take(keyLen), sKey = take(keyLen), cIv = take(ivLen), sIv = take(ivLen);
  return { client: { macKey: cMac, key: cKey, iv: cIv }, server: { macKey: sMac, key: sKey, iv: sIv } };
}

function macLength(mac: 'sha1' | 'sha256' | 'sha384'): number {
  return mac === 'sha1' ? 20 : mac === 'sha256' ? 32 : 48;
}

// ---------------------------------------------------------------- record decryptors

export interface Plain {
  /** Content type (the inner one for TLS 1.3). */
  type: number;
  data: Buffer;
}

export interface RecordDecryptor {
  /** Decrypt one record body; null when it does not authenticate (wrong key, corruption). Advances the sequence number on success. */
  decrypt(header: Buffer, body: Buffer): Plain | null;
  /** Records decrypted so far (the next sequence number). */
  readonly seq: number;
}

function seqNonce(iv: Buffer, seq: number): Buffer {
  const n = Buffer.from(iv);
  const hi = Math.floor(seq / 0x1_0000_0000);
  const lo = seq >>> 0;
  const l = n.length;
  n[l - 8] ^= hi >>> 24; n[l - 7] ^= (hi >>> 16) & 0xff; n[l - 6] ^= (hi >>> 8) & 0xff; n[l - 5] ^= hi & 0xff;
  n[l - 4] ^= lo >>> 24; n[l - 3] ^= (lo >>> 16) & 0xff; n[l - 2] ^= (lo >>> 8) & 0xff; n[l - 1] ^= lo & 0xff;
  return n;
}

function seqBytes(seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 0);
  b.writeUInt32BE(seq >>> 0, 4);
  return b;
}

function aad12(seq: number, type: number, header: Buffer, length: number): Buffer {
  const a = Buffer.alloc(13);
  seqBytes(seq).copy(a, 0);
  a[8] = type;
  a[9] = header[1];
  a[10] = header[2];
  a.writeUInt16BE(length, 11);
  return a;
}

function aeadOpen(cipher: string, key: Buffer, nonce: Buffer, aad: Buffer, ct: Buffer, tag: Buffer): Buffer | null {
  try {
    const ccm = cipher.endsWith('-ccm');
    const d = createDecipheriv(cipher as 'aes-128-gcm', key, nonce, { authTagLength: tag.length });
    d.setAuthTag(tag);
    if (ccm) (d as unknown as { setAAD(b: Buffer, o: { plaintextLength: number }): void }).setAAD(aad, { plaintextLength: ct.length });
    else d.setAAD(aad);
    const out = d.update(ct);
    const fin = d.final();
    return fin.length ? Buffer.concat([out, fin]) : out;
  } catch {
    return null;
  }
}

function tagLength(suite: SuiteInfo): number {
  return suite.bulk === 'ccm8' ? 8 : 16;
}

/** TLS 1.3 record protection for one direction with one traffic secret. */
export class Tls13Decryptor implements RecordDecryptor {
  seq = 0;
  private key: Buffer;
  private iv: Buffer;
  constructor(private readonly suite: SuiteInfo, public secret: Buffer) {
    this.key = hkdfExpandLabel(suite.prf!, secret, 'key', Buffer.alloc(0), suite.keyLen!);
    this.iv = hkdfExpandLabel(suite.prf!, secret, 'iv', Buffer.alloc(0), 12);
  }

  decrypt(header: Buffer, body: Buffer): Plain | null {
    const t = tagLength(this.suite);
    if (body.length < t + 1) return null;
    const pt = aeadOpen(this.suite.cipher!, this.key, seqNonce(this.iv, this.seq), header, body.subarray(0, body.length - t), body.subarray(body.length - t));
    if (!pt) return null;
    let end = pt.length;
    while (end > 0 && pt[end - 1] === 0) end--;
    if (end === 0) return null; // no inner content type: unexpected_message
    this.seq++;
    return { type: pt[end - 1], data: pt.subarray(0, end - 1) };
  }

  /** KeyUpdate: switch to the next application traffic secret. */
  update(): Tls13Decryptor {
    return new Tls13Decryptor(this.suite, nextTrafficSecret(this.suite.prf!, this.secret));
  }
}

/** TLS 1.0-1.2 record protection for one direction. */
export class Tls12Decryptor implements RecordDecryptor {
  seq = 0;
  /** TLS 1.0 CBC: the IV is the last ciphertext block of the previous record. */
  private chainIv: Buffer;
  constructor(
    private readonly suite: SuiteInfo,
    private readonly version: number,
    private readonly keys: DirectionKeys,
    /** Encrypt-then-MAC (RFC 7366) was negotiated. */
    private readonly etm: boolean,
  ) {
    this.chainIv = keys.iv;
  }

  decrypt(header: Buffer, body: Buffer): Plain | null {
    const type = header[0];
    const out = this.suite.bulk === 'cbc' ? this.cbc(type, header, body) : this.aead(type, header, body);
    if (out) this.seq++;
    return out ? { type, data: out } : null;
  }

  private aead(type: number, header: Buffer, body: Buffer): Buffer | null {
    const t = tagLength(this.suite);
    if (this.suite.bulk === 'chacha') {
      if (body.length < t) return null;
      const ct = body.subarray(0, body.length - t);
      return aeadOpen(this.suite.cipher!, this.keys.key, seqNonce(this.keys.iv, this.seq), aad12(this.seq, type, header, ct.length), ct, body.subarray(body.length - t));
    }
    if (body.length < 8 + t) return null;
    const nonce = Buffer.concat([this.keys.iv, body.subarray(0, 8)]);
    const ct = body.subarray(8, body.length - t);
    return aeadOpen(this.suite.cipher!, this.keys.key, nonce, aad12(this.seq, type, header, ct.length), ct, body.subarray(body.length - t));
  }

  private mac(type: number, header: Buffer, parts: Buffer[], length: number): Buffer {
    const h = createHmac(this.suite.mac!, this.keys.macKey).update(aad12(this.seq, type, header, length));
    for (const p of parts) h.update(p);
    return h.digest();
  }

  private cbc(type: number, header: Buffer, body: Buffer): Buffer | null {
    const bs = this.suite.blockLen!;
    const macLen = macLength(this.suite.mac!);
    const explicitIv = this.version >= 0x0302;
    let enc = body;
    if (this.etm) {
      if (body.length < macLen) return null;
      enc = body.subarray(0, body.length - macLen);
      const expect = this.mac(type, header, [enc], enc.length);
      if (!timingSafeEqual(expect, body.subarray(body.length - macLen))) return null;
    }
    let iv: Buffer;
    let ct: Buffer;
    if (explicitIv) {
      iv = enc.subarray(0, bs);
      ct = enc.subarray(bs);
    } else {
      iv = this.chainIv;
      ct = enc;
    }
    if (ct.length === 0 || ct.length % bs !== 0 || iv.length !== bs) return null;
    let pt: Buffer;
    try {
      const d = createDecipheriv(this.suite.cipher!, this.keys.key, iv);
      d.setAutoPadding(false);
      pt = Buffer.concat([d.update(ct), d.final()]);
    } catch {
      return null;
    }
    const pad = pt[pt.length - 1];
    const contentEnd = pt.length - pad - 1 - (this.etm ? 0 : macLen);
    if (contentEnd < 0) return null;
    for (let i = pt.length - pad - 1; i < pt.length; i++) if (pt[i] !== pad) return null;
    const content = pt.subarray(0, contentEnd);
    if (!this.etm) {
      const expect = this.mac(type, header, [content], content.length);
      if (!timingSafeEqual(expect, pt.subarray(contentEnd, contentEnd + macLen))) return null;
    }
    if (!explicitIv) this.chainIv = Buffer.from(ct.subarray(ct.length - bs));
    return content;
  }
}
