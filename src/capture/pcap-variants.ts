// Classic pcap variants that share a magic number but differ in record-header size (Alexey
// Kuznetzov's patched libpcaps, Nokia). Like tshark 4.0, we score the first two record headers
// under each candidate layout and keep the first plausible one (else the least implausible).

export interface PcapVariant {
  name: 'pcap' | 'ss990417' | 'ss991029' | 'ss990915' | 'nokia';
  /** Record header size in bytes. */
  header: number;
}

export type LengthOrder = 'normal' | 'swapped' | 'maybe';

export const PCAP: PcapVariant = { name: 'pcap', header: 16 };
export const STANDARD_VARIANTS: PcapVariant[] = [PCAP, { name: 'ss990417', header: 24 }, { name: 'nokia', header: 20 }];
export const MODIFIED_VARIANTS: PcapVariant[] = [{ name: 'ss991029', header: 24 }, { name: 'ss990915', header: 28 }];

/** Bytes that always suffice to score a variant: two record headers and the first record's data. */
export const DETECT_BYTES = 2 * 28 + 262144;

/** Oddities in the record header at b[p..]: fraction too big, lengths impossible or inconsistent. */
function headerScore(b: Buffer, p: number, le: boolean, order: LengthOrder, snaplen: number, maxPacket: number): { score: number; incl: number } {
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  let incl = u32(p + 8);
  let orig = u32(p + 12);
  if (order === 'swapped' || (order === 'maybe' && incl > orig)) [incl, orig] = [orig, incl];
  let score = 0;
  if (u32(p + 4) >= 1_000_000) score++;
  if (incl > maxPacket) score++;
  if (orig > 128 * 1024 * 1024) score++;
  if (incl > snaplen) score++;
  if (incl > orig) score++;
  return { score, incl };
}

/** Oddities found reading the first two records of b[0..len) (the data after the file header) as variant v. */
export function scoreVariant(b: Buffer, len: number, le: boolean, order: LengthOrder, v: PcapVariant, snaplen: number, maxPacket: number): number {
  const h = v.header;
  if (len < h) return 0; // end of file: assume this layout
  const first = headerScore(b, 0, le, order, snaplen, maxPacket);
  if (first.score > 0) return first.score;
  const p = h + first.incl;
  if (len - p < h) return 0;
  return headerScore(b, p, le, order, snaplen, maxPacket).score;
}

/** The first variant scoring 0, else the lowest-scoring one (earlier wins ties). */
export function chooseVariant(b: Buffer, len: number, le: boolean, order: LengthOrder, variants: PcapVariant[], snaplen: number, maxPacket: number): PcapVariant {
  let best = variants[0];
  let bestScore = Infinity;
  for (const v of variants) {
    const s = scoreVariant(b, len, le, order, v, snaplen, maxPacket);
    if (s === 0) return v;
    if (s < bestScore) {
      best = v;
      bestScore = s;
    }
  }
  return best;
}
