// decodeBasic's character checks (issue 7: a loop instead of two regexes and a copy) against the
// regex version they replaced: the same answer (user, or why the token is malformed) for fixed tokens
// and for many generated ones, including padding in the wrong places, odd lengths and non-ASCII.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBasic } from '../../src/checks/credentials.js';
import { rng } from '../lib/synthetic.js';

function reference(token: string): { user: string } | { problem: 'not-base64' | 'no-colon' | 'empty' } {
  const t = token.trim();
  if (t === '') return { problem: 'empty' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.replace(/=+$/, '').length % 4 === 1) return { problem: 'not-base64' };
  if (t.includes('=') && t.length % 4 !== 0) return { problem: 'not-base64' };
  const text = Buffer.from(t, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { problem: 'no-colon' };
  return { user: text.slice(0, colon) };
}


test('fixed tokens: the user, or why the token is malformed', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  assert.deepEqual(decodeBasic(b64('alice:pw')), { user: 'alice' });
  assert.deepEqual(decodeBasic(` ${b64(':pw')} `), { user: '' });
  assert.deepEqual(decodeBasic(b64('alice')), { problem: 'no-colon' });
  assert.deepEqual(decodeBasic('   '), { problem: 'empty' });
  assert.deepEqual(decodeBasic('YWxpY2U6cHc=='), { problem: 'not-base64' }); // padding makes 14 characters
  assert.deepEqual(decodeBasic('YWxpY2U6c==='), { problem: 'not-base64' });
  assert.deepEqual(decodeBasic('YWx=pY2U6cHc'), { problem: 'not-base64' });
  assert.deepEqual(decodeBasic('YWxpY'), { problem: 'not-base64' }); // 5 characters: one too many
  assert.deepEqual(decodeBasic('YWxpY2U6cHc'), { user: 'alice' }); // no padding is accepted
  assert.deepEqual(decodeBasic('YWxp-2U6cHc='), { problem: 'not-base64' });
});

test('generated tokens: the same answer as the regex checks', () => {
  const r = rng(29);
  const alphabet = 'ABCxyz0189+/=-_.: \u00e9\u0661';
  for (let t = 0; t < 30000; t++) {
    let s: string;
    if (r() < 0.5) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 12) }, () => (r() < 0.2 ? 0x3a : Math.floor(r() * 256))));
      s = bytes.toString('base64');
      if (r() < 0.3) s = s.replace(/=+$/, '');
      if (r() < 0.2) s = s.slice(0, Math.floor(r() * (s.length + 1)));
      if (r() < 0.2) s += '='.repeat(Math.floor(r() * 4));
    } else {
      s = '';
      const n = Math.floor(r() * 14);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    }
    assert.deepEqual(decodeBasic(s), reference(s), JSON.stringify(s));
  }
});
