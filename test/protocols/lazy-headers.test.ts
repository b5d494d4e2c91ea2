// Heads kept as text (lazyHeaders, for the second thread): the parser frames every message as it does with
// header fields made, and the fields made later from the text (splitHead, rawHeaderValue, the worker's
// batch reader) are the ones the parser would have made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/types.js';
import { DEFAULT_LIMITS } from '../../src/types.js';
import { HttpStreamParser, LAZY_HEADERS, headersOf, rawHeaderValue } from '../../src/protocols/http.js';
import { header } from '../../src/exchanges/builder.js';
import { MODES, feed, type Piece } from './helpers.js';
import { rng } from '../lib/synthetic.js';

function parse(kind: 'request' | 'response', pieces: Piece[], mode: (typeof MODES)[number], lazyHeaders: boolean): Message[] {
  const out: Message[] = [];
  const p = new HttpStreamParser(kind, { limits: DEFAULT_LIMITS, lazyHeaders, onMessage: (m) => out.push(m), onMalformed: () => undefined });
  if (kind === 'response') for (let i = 0; i < 50; i++) p.expectMethod('POST');
  feed(p, pieces, mode);
  p.end({ how: 'eof' });
  return out;
}

const NAMES = ['Host', 'Content-Type', 'content-length', 'Connection', 'Upgrade', 'Authorization', 'X-Api-Key', 'Transfer-Encoding', 'Content-Encoding', 'x-\u00e9t\u00e9', 'Cookie', 'Via'];
const VALUES = ['a', ' spaced  ', '\tTabbed\t', '', 'keep-alive', 'close', 'websocket', 'Basic YWxpY2U6czNjcmV0', 'caf\u00e9 \u00ff', 'a:b:c', 'chunked', 'gzip'];

/** A random message: mostly plain heads (fastHead), some the library reads (folded or bare-LF lines). */
function randomMessage(r: () => number, kind: 'request' | 'response'): string {
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const lines = [kind === 'request' ? `${pick(['GET', 'POST', 'PUT'])} /p${Math.floor(r() * 9)}?q=${Math.floor(r() * 9)} HTTP/1.1` : `HTTP/1.1 ${pick([200, 401, 404])} ${pick(['OK', 'Unauthorized', ''])}`];
  let body = '';
  for (let i = Math.floor(r() * 8); i > 0; i--) {
    const name = pick(NAMES);
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'content-encoding' || lower === 'upgrade') continue;
    lines.push(`${name}:${pick(VALUES)}`);
  }
  if (r() < 0.5) {
    body = 'x'.repeat(Math.floor(r() * 40));
    lines.push(`Content-Length: ${body.length}`);
  }
  if (r() < 0.1) lines.push(' folded continuation');
  const head = lines.join(r() < 0.05 ? '\n' : '\r\n');
  return `${head}\r\n\r\n${body}`;
}

test('lazily kept heads frame messages as before, and give the same header fields', () => {
  const r = rng(7);
  let lazyCount = 0;
  for (let round = 0; round < 60; round++) {
    for (const kind of ['request', 'response'] as const) {
      const pieces: Piece[] = [];
      for (let i = 0; i < 6; i++) pieces.push([i + 1, randomMessage(r, kind)]);
      for (const mode of MODES) {
        const eager = parse(kind, pieces, mode, false);
        const lazy = parse(kind, pieces, mode, true);
        assert.equal(lazy.length, eager.length, `round ${round} ${kind} ${mode}`);
        for (let i = 0; i < eager.length; i++) {
          const e = eager[i];
          const l = lazy[i];
          assert.equal(e.rawHead, undefined);
          if (l.rawHead !== undefined) {
            lazyCount++;
            assert.equal(l.headers, LAZY_HEADERS);
            assert.ok(l.rawHead.endsWith('\r\n') && !l.rawHead.endsWith('\r\n\r\n'));
          }
          const { rawHead: _r, headers: _h, ...lRest } = l;
          const { headers: _e, ...eRest } = e;
          assert.deepStrictEqual(lRest, eRest, `round ${round} ${kind} ${mode} message ${i}`);
          assert.deepStrictEqual(headersOf(l), e.headers);
          for (const name of [...NAMES, 'absent', 'HOST']) assert.equal(header(l, name), header(e, name), name);
        }
      }
    }
  }
  assert.ok(lazyCount > 500, `only ${lazyCount} heads were kept as text`);
});

test('rawHeaderValue: first value, case-insensitive, trimmed', () => {
  const head = 'GET / HTTP/1.1\r\nX-A:  one \r\nx-a: two\r\nX-AB: three\r\nEmpty:\r\n';
  assert.equal(rawHeaderValue(head, 'x-a'), 'one');
  assert.equal(rawHeaderValue(head, 'x-ab'), 'three');
  assert.equal(rawHeaderValue(head, 'empty'), '');
  assert.equal(rawHeaderValue(head, 'x'), undefined);
});
