// TLS constants as data: cipher suites (IANA names and how to decrypt them), alert names, versions.

export type BulkKind = 'gcm' | 'ccm' | 'ccm8' | 'chacha' | 'cbc';

export interface SuiteInfo {
  name: string;
  /** null: authcap cannot decrypt it (RC4, Camellia, ARIA, NULL, export ...). */
  bulk: BulkKind | null;
  /** node:crypto cipher name. */
  cipher?: string;
  keyLen?: number;
  /** CBC block size. */
  blockLen?: number;
  /** HMAC hash of CBC suites. */
  mac?: 'sha1' | 'sha256' | 'sha384';
  /** PRF / HKDF hash (TLS 1.2 and 1.3). */
  prf?: 'sha256' | 'sha384';
}

const gcm128 = { bulk: 'gcm', cipher: 'aes-128-gcm', keyLen: 16, prf: 'sha256' } as const;
const gcm256 = { bulk: 'gcm', cipher: 'aes-256-gcm', keyLen: 32, prf: 'sha384' } as const;
const chacha = { bulk: 'chacha', cipher: 'chacha20-poly1305', keyLen: 32, prf: 'sha256' } as const;
const ccm128 = { bulk: 'ccm', cipher: 'aes-128-ccm', keyLen: 16, prf: 'sha256' } as const;
const ccm256 = { bulk: 'ccm', cipher: 'aes-256-ccm', keyLen: 32, prf: 'sha256' } as const;
const ccm8_128 = { bulk: 'ccm8', cipher: 'aes-128-ccm', keyLen: 16, prf: 'sha256' } as const;
const ccm8_256 = { bulk: 'ccm8', cipher: 'aes-256-ccm', keyLen: 32, prf: 'sha256' } as const;
const cbc = (bits: 128 | 256, mac: 'sha1' | 'sha256' | 'sha384') =>
  ({ bulk: 'cbc', cipher: `aes-${bits}-cbc`, keyLen: bits / 8, blockLen: 16, mac, prf: mac === 'sha384' ? 'sha384' : 'sha256' }) as const;
const des3 = { bulk: 'cbc', cipher: 'des-ede3-cbc', keyLen: 24, blockLen: 8, mac: 'sha1', prf: 'sha256' } as const;
const none = { bulk: null } as const;

const SUITES: Record<number, Omit<SuiteInfo, 'name'> & { n: string }> = {
  // TLS 1.3
  0x1301: { n: 'TLS_AES_128_GCM_SHA256', ...gcm128 },
  0x1302: { n: 'TLS_AES_256_GCM_SHA384', ...gcm256 },
  0x1303: { n: 'TLS_CHACHA20_POLY1305_SHA256', ...chacha },
  0x1304: { n: 'TLS_AES_128_CCM_SHA256', ...ccm128 },
  0x1305: { n: 'TLS_AES_128_CCM_8_SHA256', ...ccm8_128 },
  // RSA key exchange
  0x0002: { n: 'TLS_RSA_WITH_NULL_SHA', ...none },
  0x0004: { n: 'TLS_RSA_WITH_RC4_128_MD5', ...none },
  0x0005: { n: 'TLS_RSA_WITH_RC4_128_SHA', ...none },
  0x000a: { n: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', ...des3 },
  0x002f: { n: 'TLS_RSA_WITH_AES_128_CBC_SHA', ...cbc(128, 'sha1') },
  0x0035: { n: 'TLS_RSA_WITH_AES_256_CBC_SHA', ...cbc(256, 'sha1') },
  0x003b: { n: 'TLS_RSA_WITH_NULL_SHA256', ...none },
  0x003c: { n: 'TLS_RSA_WITH_AES_128_CBC_SHA256', ...cbc(128, 'sha256') },
  0x003d: { n: 'TLS_RSA_WITH_AES_256_CBC_SHA256', ...cbc(256, 'sha256') },
  0x0041: { n: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA', ...none },
  0x0084: { n: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA', ...none },
  0x009c: { n: 'TLS_RSA_WITH_AES_128_GCM_SHA256', ...gcm128 },
  0x009d: { n: 'TLS_RSA_WITH_AES_256_GCM_SHA384', ...gcm256 },
  0xc09c: { n: 'TLS_RSA_WITH_AES_128_CCM', ...ccm128 },
  0xc09d: { n: 'TLS_RSA_WITH_AES_256_CCM', ...ccm256 },
  0xc0a0: { n: 'TLS_RSA_WITH_AES_128_CCM_8', ...ccm8_128 },
  0xc0a1: { n: 'TLS_RSA_WITH_AES_256_CCM_8', ...ccm8_256 },
  // DHE
  0x0016: { n: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA', ...des3 },
  0x0033: { n: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', ...cbc(128, 'sha1') },
  0x0039: { n: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', ...cbc(256, 'sha1') },
  0x0067: { n: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', ...cbc(128, 'sha256') },
  0x006b: { n: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', ...cbc(256, 'sha256') },
  0x009e: { n: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', ...gcm128 },
  0x009f: { n: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', ...gcm256 },
  0xc09e: { n: 'TLS_DHE_RSA_WITH_AES_128_CCM', ...ccm128 },
  0xc09f: { n: 'TLS_DHE_RSA_WITH_AES_256_CCM', ...ccm256 },
  0xccaa: { n: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', ...chacha },
  // ECDHE
  0xc007: { n: 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', ...none },
  0xc009: { n: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', ...cbc(128, 'sha1') },
  0xc00a: { n: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', ...cbc(256, 'sha1') },
  0xc011: { n: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', ...none },
  0xc012: { n: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', ...des3 },
  0xc013: { n: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', ...cbc(128, 'sha1') },
  0xc014: { n: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', ...cbc(256, 'sha1') },
  0xc023: { n: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', ...cbc(128, 'sha256') },
  0xc024: { n: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', ...cbc(256, 'sha384') },
  0xc027: { n: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', ...cbc(128, 'sha256') },
  0xc028: { n: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', ...cbc(256, 'sha384') },
  0xc02b: { n: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', ...gcm128 },
  0xc02c: { n: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', ...gcm256 },
  0xc02f: { n: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', ...gcm128 },
  0xc030: { n: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', ...gcm256 },
  0xc0ac: { n: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM', ...ccm128 },
  0xc0ad: { n: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM', ...ccm256 },
  0xc0ae: { n: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', ...ccm8_128 },
  0xc0af: { n: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8', ...ccm8_256 },
  0xcca8: { n: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', ...chacha },
  0xcca9: { n: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', ...chacha },
};

export function suiteInfo(id: number): SuiteInfo {
  const s = SUITES[id];
  if (!s) return { name: `0x${id.toString(16).padStart(4, '0').toUpperCase()}`, bulk: null };
  const { n, ...rest } = s;
  return { name: n, ...rest };
}

export const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 21: 'decryption_failed',
  22: 'record_overflow', 30: 'decompression_failure', 40: 'handshake_failure', 41: 'no_certificate',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired',
  46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
  51: 'decrypt_error', 60: 'export_restriction', 70: 'protocol_version', 71: 'insufficient_security',
  80: 'internal_error', 86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation',
  109: 'missing_extension', 110: 'unsupported_extension', 111: 'certificate_unobtainable',
  112: 'unrecognized_name', 113: 'bad_certificate_status_response', 114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity', 116: 'certificate_required', 120: 'no_application_protocol',
};

export function alertName(d: number): string {
  return ALERT_NAMES[d] ?? `alert_${d}`;
}

/** "TLS 1.2" for 0x0303 and so on; GREASE and unknown values as hex. */
export function versionName(v: number): string {
  switch (v) {
    case 0x0300: return 'SSL 3.0';
    case 0x0301: return 'TLS 1.0';
    case 0x0302: return 'TLS 1.1';
    case 0x0303: return 'TLS 1.2';
    case 0x0304: return 'TLS 1.3';
    default: return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export const CT_CHANGE_CIPHER_SPEC = 20;
export const CT_ALERT = 21;
export const CT_HANDSHAKE = 22;
export const CT_APPLICATION_DATA = 23;
export const CT_HEARTBEAT = 24;

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

/** Largest record body accepted (2^14 + 2048, TLS 1.2's ciphertext bound); beyond is malformed. */
export const MAX_RECORD = 16384 + 2048;

/** ServerHello.random of a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3). */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
