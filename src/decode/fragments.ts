// IPv4/IPv6 fragment reassembly. Trains are keyed by (version, src, dst, protocol/-, id), bounded
// in number (limits.fragments) and in bytes held; the oldest train is dropped first. Overlaps are
// resolved as Wireshark does: fragments are laid out by offset (earlier arrival first on equal
// offsets) and a byte already written is not overwritten.

interface Fragment {
  offset: number;
  data: Buffer;
  frame: number;
}

interface Train {
  frags: Fragment[];
  /** Payload length once the last fragment (MF=0) has been seen, else -1. */
  total: number;
  bytes: number;
}

export interface Reassembled {
  payload: Buffer;
  /** Frames of the fragments, in offset order. */
  frames: number[];
}

/** Largest reassembled payload (the IP length fields cannot describe more). */
const MAX_PAYLOAD = 65535;

export class FragmentTable {
  private trains = new Map<string, Train>();
  private held = 0;
  /** Fragments discarded: evicted trains, impossible offsets. */
  dropped = 0;
  reassembled = 0;

  constructor(private readonly maxTrains: number, private readonly maxBytes: number) {}

  /** Fragments held in trains still waiting for the rest. */
  get pending(): number {
    let n = 0;
    for (const t of this.trains.values()) n += t.frags.length;
    return n;
  }

  /**
   * Adds a fragment (data is copied); returns the whole payload when this fragment completes the
   * train, else null.
   */
  add(key: string, offset: number, data: Buffer, more: boolean, frame: number): Reassembled | null {
    const end = offset + data.length;
    if (end > MAX_PAYLOAD || (more && data.length === 0)) {
      this.dropped++;
      return null;
    }
    let t = this.trains.get(key);
    if (!t) {
      t = { frags: [], total: -1, bytes: 0 };
      this.trains.set(key, t);
      while (this.trains.size > this.maxTrains) this.evictOldest();
    }
    if (!more) {
      if (t.total >= 0 && t.total !== end) {
        // two different "last" fragments: keep the first, as the train cannot be both
        this.dropped++;
        return null;
      }
      t.total = end;
    }
    t.frags.push({ offset, data: Buffer.from(data), frame });
    t.bytes += data.length;
    this.held += data.length;
    while (this.held > this.maxBytes && this.trains.size > 0) this.evictOldest();
    if (!this.trains.has(key) || t.total < 0) return null;
    return this.complete(key, t);
  }

  private complete(key: string, t: Train): Reassembled | null {
    const sorted = t.frags.slice().sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const f of sorted) {
      if (f.offset > covered) return null; // a hole
      covered = Math.max(covered, f.offset + f.data.length);
    }
    if (covered < t.total) return null;
    const payload = Buffer.allocUnsafe(t.total);
    let written = 0;
    const frames: number[] = [];
    for (const f of sorted) {
      const fEnd = Math.min(f.offset + f.data.length, t.total);
      if (fEnd <= written) continue; // wholly a duplicate: not part of the train (as in tshark's list)
      f.data.copy(payload, written, written - f.offset, fEnd - f.offset);
      written = fEnd;
      frames.push(f.frame);
    }
    this.trains.delete(key);
    this.held -= t.bytes;
    this.reassembled++;
    return { payload, frames };
  }

  private evictOldest(): void {
    const first = this.trains.keys().next();
    if (first.done) return;
    const t = this.trains.get(first.value)!;
    this.trains.delete(first.value);
    this.held -= t.bytes;
    this.dropped += t.frags.length;
  }
}
