// printable()/printableLines(): escape sequences, C1 controls and bidi characters from the wire
// are shown escaped, printable text (including non-ASCII letters) is left alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printableLines, safeJson } from '../../src/report/sanitize.js';

const RAW_DANGER = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('CSI colour and cursor sequences are shown, not emitted', () => {
  const s = printable('/a\x1b[31mred\x1b[2J\x1b[0m');
  assert.equal(s, '/a\\x1b[31mred\\x1b[2J\\x1b[0m');
  assert.doesNotMatch(s, RAW_DANGER);
});

test('OSC (window title / hyperlink) sequences and BEL are escaped', () => {
  const s = printable('x\x1b]0;pwned\x07y\x1b]8;;http://evil/\x1b\\z');
  assert.equal(s, 'x\\x1b]0;pwned\\x07y\\x1b]8;;http://evil/\\x1b\\\\z');
  assert.doesNotMatch(s, RAW_DANGER);
});

test('C1 controls (8-bit CSI) and DEL are escaped', () => {
  assert.equal(printable('a\u009b31mb\u007f'), 'a\\x9b31mb\\x7f');
});

test('bidi overrides, isolates and zero-width characters are escaped', () => {
  assert.equal(printable('user\u202eexe.txt'), 'user\\u202eexe.txt');
  assert.equal(printable('\u2066a\u2069\u200b\ufeff'), '\\u2066a\\u2069\\u200b\\ufeff');
});

test('CR, LF, TAB, NUL and backslash are escaped on one line', () => {
  assert.equal(printable('a\r\nb\tc\x00d\\e'), 'a\\r\\nb\\tc\\x00d\\\\e');
});

test('printable text and non-ASCII letters are unchanged', () => {
  const s = 'POST /café/日本?q=1&x=ü HTTP/1.1 — ok';
  assert.equal(printable(s), s);
});

test('a lone surrogate is escaped, a valid pair is kept', () => {
  assert.equal(printable('a\ud800b'), 'a\\ud800b');
  assert.equal(printable('a😀b'), 'a😀b');
});

test('printableLines keeps line breaks, drops the CR of CRLF, escapes the rest', () => {
  assert.equal(printableLines('l1\r\nl2\n\tx\x00\x1b[1m\r'), 'l1\nl2\n\tx\\x00\\x1b[1m\\r');
});

test('safeJson escapes C1 and bidi characters and still parses to the same value', () => {
  const v = { uri: '/a\u202eb\u0085c\x1b' };
  const text = safeJson(v);
  assert.doesNotMatch(text, RAW_DANGER);
  assert.match(text, /\\u202e/);
  assert.deepEqual(JSON.parse(text), v);
});
