// Turns a seed into one fuzz case: which layer and mutator, which base capture and container, which
// analysis options (key, password, key log, tiny limits), and the bytes of the capture. Deterministic:
// makeCase(seed) is the same everywhere once prepareBombs() has run.

import { gzipSync } from 'node:zlib';
import type { WrittenPacket } from '../lib/capture-writer.js';
import { interleave } from '../lib/packets.js';
import { SAMPLE_KEY, SAMPLE_PASSWORD } from '../lib/samples.js';
import { bases, isGzip, serialize, smsSample, type Base, type Container } from './bases.js';
import { FILE_MUTATORS, GZIP_DAMAGE, PACKET_MUTATORS, clonePackets, type FileMutator } from './mutators.js';
import { makeRng, type Rng } from './rng.js';
import { SCENARIOS } from './scenarios.js';

/** The subset of analyze()'s options a case sets (kept as plain data so it can cross a worker boundary). */
export interface CaseOptions {
  key?: string;
  password?: string;
  keylog?: string;
  limits?: {
    bodyBytes?: number;
    headerBytes?: number;
    decompressedBytes?: number;
    reassemblyBytes?: number;
    streams?: number;
    fragments?: number;
  };
}

export interface FuzzCase {
  seed: number;
  /** Mutator name(s), e.g. "tcp.sequence" or "http.auth+bytes.flip". */
  mutator: string;
  base: string;
  container: Container;
  bytes: Buffer;
  options: CaseOptions;
  /**
   * The hostile traffic was added beside the sms-gateway sample, on other connections: the sample's
   * findings must all still be in the report.
   */
  witness: boolean;
}

const RAW: Record<Container, Container> = {
  pcap: 'pcap', 'pcap-be': 'pcap-be', 'pcap-ns': 'pcap-ns', pcapng: 'pcapng', 'pcapng-be': 'pcapng-be', 'pcap.gz': 'pcap', 'pcapng.gz': 'pcapng',
};

function pickByWeight<T extends { weight: number }>(r: Rng, xs: T[]): T {
  return r.weighted(xs.map((x) => [x.weight, x] as const));
}

function options(r: Rng, keylog?: string): CaseOptions {
  const o: CaseOptions = {};
  if (r.chance(0.25)) {
    o.key = SAMPLE_KEY;
    o.password = SAMPLE_PASSWORD;
  }
  if (keylog) o.keylog = keylog;
  if (r.chance(0.12)) {
    o.limits = {};
    if (r.chance(0.5)) o.limits.bodyBytes = r.pick([1, 16, 1000]);
    if (r.chance(0.5)) o.limits.headerBytes = r.pick([1, 64, 512]);
    if (r.chance(0.5)) o.limits.decompressedBytes = r.pick([1, 100, 4096]);
    if (r.chance(0.5)) o.limits.reassemblyBytes = r.pick([1, 1460, 10000]);
    if (r.chance(0.5)) o.limits.streams = r.pick([1, 2, 10]);
    if (r.chance(0.5)) o.limits.fragments = r.pick([1, 2]);
  }
  return o;
}

const GENERIC = FILE_MUTATORS.filter((m) => m.name.startsWith('bytes.'));

function applyFile(r: Rng, m: FileMutator, raw: Buffer, c: Container): Buffer {
  const other = () => {
    const ob = r.pick(bases());
    return serialize(ob.packets, RAW[ob.container]);
  };
  return m.apply(r, Buffer.from(raw), c, other);
}

export function makeCase(seed: number): FuzzCase {
  const r = makeRng(seed);
  const layer = r.weighted([[40, 'scenario'], [30, 'packet'], [25, 'file'], [5, 'gzip']] as const);
  let mutator: string;
  let base: string;
  let container: Container;
  let raw: Buffer;
  let witness = false;
  let keylog: string | undefined;

  if (layer === 'scenario') {
    const s = pickByWeight(r, SCENARIOS);
    const built = s.build(r);
    keylog = built.keylog;
    mutator = s.name;
    container = r.weighted([[6, 'pcap'], [2, 'pcapng'], [1, 'pcap-be'], [1, 'pcap-ns'], [1, 'pcap.gz']] as const);
    let packets: WrittenPacket[] = built.packets;
    if (r.chance(0.7)) {
      witness = true;
      base = 'sms-gateway+hostile';
      packets = interleave(smsSample().packets, packets);
    } else base = 'hostile';
    raw = serialize(packets, RAW[container]);
  } else if (layer === 'packet') {
    const m = pickByWeight(r, PACKET_MUTATORS);
    const candidates = m.bases ? bases().filter((b) => m.bases!.includes(b.name)) : bases();
    const b: Base = r.pick(candidates);
    mutator = m.name;
    base = b.name;
    container = b.container;
    raw = serialize(m.apply(r, clonePackets(b.packets)), RAW[container]);
  } else {
    const m = layer === 'gzip' ? GZIP_DAMAGE : pickByWeight(r, FILE_MUTATORS);
    const candidates = bases().filter((b) => m.accepts(b.container));
    const b = r.pick(candidates.length ? candidates : bases());
    mutator = m.name;
    base = b.name;
    container = b.container;
    raw = applyFile(r, m, serialize(b.packets, RAW[container]), container);
    if (m === GZIP_DAMAGE) return { seed, mutator, base, container: 'pcap.gz', bytes: raw, options: options(r), witness: false };
  }

  if (r.chance(0.1)) {
    const g = r.pick(GENERIC);
    raw = applyFile(r, g, raw, RAW[container]);
    mutator += `+${g.name}`;
    witness = false;
  }
  const opts = options(r, keylog);
  if (opts.limits) witness = false;
  const bytes = isGzip(container) ? gzipSync(raw, { level: 1 }) : raw;
  return { seed, mutator, base, container, bytes, options: opts, witness };
}

export function describeCase(c: FuzzCase): string {
  const o = [c.options.key ? 'key' : '', c.options.keylog ? 'keylog' : '', c.options.limits ? `limits=${JSON.stringify(c.options.limits)}` : ''].filter(Boolean).join(' ');
  return `seed ${c.seed}: ${c.mutator} on ${c.base} (${c.container}, ${c.bytes.length} bytes${o ? `, ${o}` : ''})`;
}
