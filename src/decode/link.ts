// Link layers: finds where the IP packet starts in a frame. Each function returns a packed result:
// offset * 8 + kind (kind 4 = IPv4, 6 = IPv6, 7 = IP version from the first nibble), or one of the
// negative codes below. Packed numbers keep this per-packet path free of allocation.

export const NON_IP = -1;
export const MALFORMED = -2;
export const UNKNOWN_LINK = -3;

export const KIND_V4 = 4;
export const KIND_V6 = 6;
export const KIND_NIBBLE = 7;

export function pack(offset: number, kind: number): number {
  return offset * 8 + kind;
}

/** Link types this decoder reads. */
export const KNOWN_LINK_TYPES = new Set([0, 1, 7, 12, 14, 101, 108, 113, 129, 228, 229, 276]);

/** After an EtherType (or SLL protocol) at b[off-2..off): VLAN tags, PPPoE, MPLS, then IP. */
export function afterEthertype(b: Buffer, off: number, end: number, type: number): number {
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (off + 4 > end) return MALFORMED;
    type = (b[off + 2] << 8) | b[off + 3];
    off += 4;
  }
  switch (type) {
    case 0x0800:
      return pack(off, KIND_V4);
    case 0x86dd:
      return pack(off, KIND_V6);
    case 0x8864: {
      // PPPoE session: 6-byte header, then the PPP protocol
      if (off + 8 > end) return MALFORMED;
      const ppp = (b[off + 6] << 8) | b[off + 7];
      return ppp === 0x0021 ? pack(off + 8, KIND_V4) : ppp === 0x0057 ? pack(off + 8, KIND_V6) : NON_IP;
    }
    case 0x8847:
    case 0x8848: {
      // MPLS label stack, then IP (version told by the nibble)
      for (;;) {
        if (off + 4 > end) return MALFORMED;
        const bottom = b[off + 2] & 1;
        off += 4;
        if (bottom) break;
      }
      return pack(off, KIND_NIBBLE);
    }
    default:
      return NON_IP;
  }
}

/** Ethernet II at b[start..end); 802.3/LLC frames are not IP here. */
export function ethernet(b: Buffer, start: number, end: number): number {
  if (end - start < 14) return MALFORMED;
  const type = (b[start + 12] << 8) | b[start + 13];
  if (type < 0x0600) return NON_IP;
  return afterEthertype(b, start + 14, end, type);
}

/** ARCNET: RFC 1051 (IP 0xf0) or RFC 1201 (IP 0xd4, IPv6 0xc4, with split flag and sequence). */
function arcnet(b: Buffer, protoOff: number, end: number): number {
  if (protoOff + 1 > end) return MALFORMED;
  const proto = b[protoOff];
  if (proto === 0xf0) return pack(protoOff + 1, KIND_V4);
  if (proto === 0xd4 || proto === 0xc4) {
    let p = protoOff + 1;
    if (p < end && b[p] === 0xff) p += 4; // exception packet: flag, padding, repeated header
    p += 3; // split flag and sequence number
    if (p > end) return MALFORMED;
    return pack(p, proto === 0xd4 ? KIND_V4 : KIND_V6);
  }
  return NON_IP;
}

/** Where IP starts in a frame of link type `lt` held in b[s..end) (the offset returned is into b). */
export function linkNetwork(lt: number, b: Buffer, s: number, end: number): number {
  const len = end - s;
  switch (lt) {
    case 1:
      return ethernet(b, s, end);
    case 113: // Linux cooked v1
      if (len < 16) return MALFORMED;
      return afterEthertype(b, s + 16, end, (b[s + 14] << 8) | b[s + 15]);
    case 276: // Linux cooked v2
      if (len < 20) return MALFORMED;
      return afterEthertype(b, s + 20, end, (b[s] << 8) | b[s + 1]);
    case 101:
    case 12:
    case 14:
      return pack(s, KIND_NIBBLE);
    case 228:
      return pack(s, KIND_V4);
    case 229:
      return pack(s, KIND_V6);
    case 0:
    case 108: {
      if (len < 4) return MALFORMED;
      let fam = lt === 108 ? b.readUInt32BE(s) : b.readUInt32LE(s);
      if (lt === 0 && fam > 0xffff) fam = b.readUInt32BE(s); // written in the other byte order
      if (fam === 2) return pack(s + 4, KIND_V4);
      if (fam === 24 || fam === 28 || fam === 30) return pack(s + 4, KIND_V6);
      return NON_IP;
    }
    case 129: // ARCNET (Linux): source, destination, 2-byte offset, protocol
      return arcnet(b, s + 4, end);
    case 7: // ARCNET (BSD): source, destination, protocol
      return arcnet(b, s + 2, end);
    default:
      return UNKNOWN_LINK;
  }
}
