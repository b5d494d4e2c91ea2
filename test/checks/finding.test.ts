// Wireshark display filters built for findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameFilter, refFilter, sipCallIdFilter, streamFilter, makeFinding } from '../../src/checks/finding.js';

test('filters', () => {
  assert.equal(frameFilter([31]), 'frame.number == 31');
  assert.equal(frameFilter([33, 31, 31]), 'frame.number in {31, 33}');
  assert.equal(streamFilter(4), 'tcp.stream eq 4');
  assert.equal(refFilter({ exchange: 'x1', stream: 4, frames: [31, 33] }), 'tcp.stream eq 4 && frame.number in {31, 33}');
  assert.equal(refFilter({ exchange: 'x1', stream: null, frames: [7, 8] }), 'frame.number in {7, 8}');
  assert.equal(sipCallIdFilter('a"b\\c@h'), 'sip.Call-ID == "a\\"b\\\\c@h"');
  assert.equal(refFilter({ exchange: 'x1', stream: null, frames: [7], callId: 'c1' }, true), 'sip.Call-ID == "c1"');
});

test('makeFinding uses the contract severity', () => {
  const f = makeFinding('signature.uppercase', { exchange: 'x2', stream: 1, frames: [5, 3] }, 'm', {});
  assert.deepEqual([f.severity, f.frames, f.filter], ['warning', [3, 5], 'tcp.stream eq 1 && frame.number in {3, 5}']);
  assert.equal(makeFinding('http.unauthorized', { exchange: null, stream: null, frames: [] }, 'm', {}).severity, 'error');
});

test('tshark accepts the filters (skipped when tshark is not installed)', async (t) => {
  const { existsSync, writeFileSync, mkdtempSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  if (!existsSync('/usr/bin/tshark')) return t.skip('no tshark');
  const file = join(mkdtempSync(join(tmpdir(), 'authcap-')), 'empty.pcap');
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  writeFileSync(file, h);
  for (const f of [
    refFilter({ exchange: 'x', stream: 4, frames: [31, 33] }),
    refFilter({ exchange: 'x', stream: null, frames: [7, 8, 9] }),
    frameFilter([5]),
    sipCallIdFilter('a"b\\c@h'),
  ]) {
    const r = spawnSync('/usr/bin/tshark', ['-r', file, '-Y', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
});
