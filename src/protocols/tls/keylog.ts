// NSS key log (SSLKEYLOGFILE) parser: maps a ClientHello random to the secrets logged for it.
// Fed from a --keylog file and from pcapng Decryption Secrets Blocks (secrets type 'TLSK').

/** Secrets logged for one handshake (one client random). */
export interface TlsSecrets {
  /** TLS 1.0-1.2: the 48-byte master secret (CLIENT_RANDOM line). */
  master?: Buffer;
  /** TLS 1.3 traffic secrets. */
  clientHandshake?: Buffer;
  serverHandshake?: Buffer;
  clientTraffic0?: Buffer;
  serverTraffic0?: Buffer;
}

/** pcapng Decryption Secrets Block secrets type for a TLS key log ('TLSK'). */
export const DSB_TLS_KEY_LOG = 0x544c534b;

const LABELS: Record<string, keyof TlsSecrets> = {
  CLIENT_RANDOM: 'master',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshake',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshake',
  CLIENT_TRAFFIC_SECRET_0: 'clientTraffic0',
  SERVER_TRAFFIC_SECRET_0: 'serverTraffic0',
};

const HEX = /^[0-9a-fA-F]+$/;

export class KeyLog {
  private readonly map = new Map<string, TlsSecrets>();
  /** Lines that looked like key log lines but could not be used (bad hex, wrong length). */
  invalidLines = 0;

  static parse(text: string): KeyLog {
    const k = new KeyLog();
    k.add(text);
    return k;
  }

  /** Add the lines of a key log text (a file, or the payload of a Decryption Secrets Block). */
  add(text: string): void {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.addLine(text.slice(start, end));
      start = end + 1;
    }
  }

  /** Add the payload of a pcapng Decryption Secrets Block; returns false for secrets types other than TLSK. */
  addDecryptionSecrets(secretsType: number, data: Buffer): boolean {
    if (secretsType !== DSB_TLS_KEY_LOG) return false;
    this.add(data.toString('latin1'));
    return true;
  }

  private addLine(raw: string): void {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 3) return;
    const field = LABELS[parts[0]];
    if (!field) return; // EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA, ...: not used
    const [, random, secret] = parts;
    if (random.length !== 64 || !HEX.test(random) || secret.length % 2 !== 0 || !HEX.test(secret)) {
      this.invalidLines++;
      return;
    }
    if (field === 'master' && secret.length !== 96) {
      this.invalidLines++;
      return;
    }
    const key = random.toLowerCase();
    let entry = this.map.get(key);
    if (!entry) this.map.set(key, (entry = {}));
    entry[field] = Buffer.from(secret, 'hex');
  }

  /** Secrets for a ClientHello random (32 bytes), or undefined. */
  get(clientRandom: Buffer): TlsSecrets | undefined {
    return this.map.get(clientRandom.toString('hex'));
  }

  /** Number of handshakes (client randoms) with at least one usable secret. */
  get size(): number {
    return this.map.size;
  }
}
