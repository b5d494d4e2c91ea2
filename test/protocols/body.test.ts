// decodeBody: each Content-Encoding, stacked codings, corrupt and cut-short input, and the output bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { decodeBody } from '../../src/protocols/body.js';

const TEXT = Buffer.from('{"user":"alice","token":"abc"}'.repeat(20));

test('gzip, x-gzip, deflate (zlib and raw), br and identity decode to the original', () => {
  const cases: [string, Buffer][] = [
    ['gzip', zlib.gzipSync(TEXT)],
    ['x-gzip', zlib.gzipSync(TEXT)],
    ['GZIP', zlib.gzipSync(TEXT)],
    ['deflate', zlib.deflateSync(TEXT)],
    ['deflate', zlib.deflateRawSync(TEXT)],
    ['br', zlib.brotliCompressSync(TEXT)],
    ['identity', TEXT],
  ];
  for (const [ce, enc] of cases) {
    const r = decodeBody(enc, ce, 1 << 20);
    assert.deepEqual(r.data, TEXT, ce);
    assert.equal(r.error, undefined, ce);
    assert.equal(r.truncated, false, ce);
  }
  assert.deepEqual(decodeBody(TEXT, undefined, 1 << 20).data, TEXT);
});

test('stacked codings are undone last-applied first', () => {
  const enc = zlib.brotliCompressSync(zlib.gzipSync(TEXT)); // "gzip, br": gzip applied first, then br
  assert.deepEqual(decodeBody(enc, 'gzip, br', 1 << 20).data, TEXT);
  const wrongOrder = decodeBody(enc, 'br, gzip', 1 << 20);
  assert.ok(wrongOrder.error);
});

test('cut-short gzip keeps what decodes and says why', () => {
  const enc = zlib.gzipSync(TEXT);
  const r = decodeBody(enc.subarray(0, enc.length - 12), 'gzip', 1 << 20);
  assert.match(r.error ?? '', /gzip: unexpected end of file/);
  assert.ok(r.data.length > 0 && TEXT.subarray(0, r.data.length).equals(r.data));
});

test('not compressed at all: error, no crash', () => {
  const r = decodeBody(Buffer.from('plain text'), 'gzip', 1000);
  assert.match(r.error ?? '', /gzip:/);
  assert.equal(r.data.length, 0);
});

test('unsupported coding: body returned unchanged with an error', () => {
  const r = decodeBody(Buffer.from('abc'), 'compress', 1000);
  assert.equal(r.data.toString(), 'abc');
  assert.match(r.error ?? '', /unsupported content-encoding "compress"/);
});

test('gzip and br bombs stop at maxBytes, quickly', () => {
  const fast = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } };
  for (const [ce, enc] of [['gzip', zlib.gzipSync(Buffer.alloc(50_000_000))], ['br', zlib.brotliCompressSync(Buffer.alloc(50_000_000), fast)]] as const) {
    const t0 = Date.now();
    const r = decodeBody(enc, ce, 1_000_000);
    assert.equal(r.truncated, true, ce);
    assert.ok(r.data.length <= 1_000_000, `${ce}: ${r.data.length}`);
    assert.ok(r.data.every((b) => b === 0));
    assert.ok(Date.now() - t0 < 5000, `${ce} took ${Date.now() - t0} ms`);
    // gzip is cut at a deflate block near the limit; a br bomb may give nothing (its blocks are huge)
    if (ce === 'gzip') assert.ok(r.data.length >= 900_000, `${ce}: only ${r.data.length}`);
  }
  const plain = decodeBody(Buffer.alloc(2000, 1), undefined, 1000);
  assert.equal(plain.data.length, 1000);
  assert.equal(plain.truncated, true);
});
