// Undoes Content-Encoding (gzip, x-gzip, deflate as zlib or raw, br, identity, and stacked codings) on a
// message body, with a hard bound on the output so a compression bomb stops at the limit.

import zlib from 'node:zlib';

export interface DecodedBody {
  data: Buffer;
  /** What went wrong (corrupt or cut-short data, unsupported coding); `data` then holds what could be decoded. */
  error?: string;
  /** The output reached maxBytes and was cut there. */
  truncated: boolean;
}

type Inflate = (b: Buffer, o: zlib.ZlibOptions | zlib.BrotliOptions) => Buffer;

interface Coding {
  fn: Inflate;
  /** finishFlush value that returns what is decodable from cut-short input instead of failing. */
  flush: number;
}

const GZIP: Coding = { fn: zlib.gunzipSync as Inflate, flush: zlib.constants.Z_SYNC_FLUSH };
const ZLIB: Coding = { fn: zlib.inflateSync as Inflate, flush: zlib.constants.Z_SYNC_FLUSH };
const RAW: Coding = { fn: zlib.inflateRawSync as Inflate, flush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI: Coding = { fn: zlib.brotliDecompressSync as Inflate, flush: zlib.constants.BROTLI_OPERATION_FLUSH };

/** Steps of the prefix search that finds how much input fits in the output bound. */
const BOMB_SEARCH_STEPS = 14;

function tooLarge(e: unknown): boolean {
  return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
}

function message(e: unknown): string {
  return (e as Error).message ?? String(e);
}

/**
 * The longest output (at most maxBytes) obtainable from a prefix of `input`, for input whose full output
 * is larger than maxBytes. Bisects the input length; each attempt stops as soon as it exceeds the bound.
 */
function boundedPrefix(c: Coding, input: Buffer, maxBytes: number): Buffer {
  let lo = 0;
  let hi = input.length;
  let best: Buffer = Buffer.alloc(0);
  for (let step = 0; step < BOMB_SEARCH_STEPS && hi - lo > 1; step++) {
    const mid = (lo + hi) >>> 1;
    try {
      best = c.fn(input.subarray(0, mid), { finishFlush: c.flush, maxOutputLength: maxBytes });
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return best;
}

function decodeOne(c: Coding, input: Buffer, maxBytes: number): DecodedBody {
  try {
    return { data: c.fn(input, { maxOutputLength: maxBytes }), truncated: false };
  } catch (e) {
    if (tooLarge(e)) return { data: boundedPrefix(c, input, maxBytes), truncated: true };
    // Corrupt or cut short: keep what decodes before the damage.
    const error = message(e);
    try {
      return { data: c.fn(input, { finishFlush: c.flush, maxOutputLength: maxBytes }), error, truncated: false };
    } catch (e2) {
      if (tooLarge(e2)) return { data: boundedPrefix(c, input, maxBytes), error, truncated: true };
      return { data: Buffer.alloc(0), error, truncated: false };
    }
  }
}

/** zlib stream header (RFC 1950): CM=8 and the header checksum. Otherwise "deflate" is raw deflate. */
function hasZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && (b[0] >> 4) <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}

function codingFor(name: string, input: Buffer): Coding | null {
  switch (name) {
    case 'gzip':
    case 'x-gzip':
      return GZIP;
    case 'deflate':
      return hasZlibHeader(input) ? ZLIB : RAW;
    case 'br':
      return BROTLI;
    default:
      return null;
  }
}

/**
 * Decode `body` per a Content-Encoding header value. Codings are listed in the order they were applied,
 * so they are undone from the last to the first. The output never exceeds maxBytes.
 */
export function decodeBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): DecodedBody {
  const limit = Math.max(0, Math.floor(maxBytes));
  const names = (contentEncoding ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  let data = body;
  let truncated = false;
  for (let i = names.length - 1; i >= 0; i--) {
    if (data.length === 0) break;
    const c = codingFor(names[i], data);
    if (!c) return { data, error: `unsupported content-encoding "${names[i]}"`, truncated };
    if (limit === 0) return { data: Buffer.alloc(0), truncated: true };
    const r = decodeOne(c, data, limit);
    data = r.data;
    truncated ||= r.truncated;
    if (r.error) return { data, error: `${names[i]}: ${r.error}`, truncated };
  }
  if (data.length > limit) return { data: data.subarray(0, limit), truncated: true };
  return { data, truncated };
}
