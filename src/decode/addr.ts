// IP address text as tshark prints it: IPv4 dotted quad, IPv6 in RFC 5952 form (lower case, the
// longest run of two or more zero groups shown as "::", IPv4-mapped as ::ffff:a.b.c.d). Results are
// cached per address, since a capture has few distinct addresses and formatting is the hot cost.

const MAX_CACHE = 65536;
const v4cache = new Map<number, string>();
const v6cache = new Map<string, string>();

// The last two IPv4 addresses formatted: a packet's addresses are mostly those of the packet before.
let lastKey0 = 0;
let lastText0 = '0.0.0.0';
let lastKey1 = 0;
let lastText1 = '0.0.0.0';

export function ipv4Text(b: Buffer, off: number): string {
  // signed: a small integer for V8 (an unsigned value over 2^31 would be a heap number per lookup)
  const key = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  if (key === lastKey0) return lastText0;
  if (key === lastKey1) return lastText1;
  let s = v4cache.get(key);
  if (s === undefined) {
    s = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
    if (v4cache.size >= MAX_CACHE) v4cache.clear();
    v4cache.set(key, s);
  }
  lastKey1 = lastKey0;
  lastText1 = lastText0;
  lastKey0 = key;
  lastText0 = s;
  return s;
}

export function ipv6Text(b: Buffer, off: number): string {
  const key = b.toString('latin1', off, off + 16);
  let s = v6cache.get(key);
  if (s === undefined) {
    s = formatIpv6(b, off);
    if (v6cache.size >= MAX_CACHE) v6cache.clear();
    v6cache.set(key, s);
  }
  return s;
}

/** RFC 5952 text of the 16 bytes at b[off..]. */
export function formatIpv6(b: Buffer, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  // longest run of zero groups (first one on a tie), only if at least two long
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}
