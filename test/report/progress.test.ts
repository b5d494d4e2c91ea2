// The progress line: silent for the first second, then bytes, packets and rate on one line; cleared at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Progress } from '../../src/progress.js';

function fakeTty() {
  const out: string[] = [] as string[];
  return { out, stream: { columns: 80, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
}

test('nothing for a short run; then one rewritten line with MiB, packets and rate; cleared by done()', async () => {
  const t = fakeTty();
  const p = new Progress(t.stream);
  p.update({ bytes: 5 << 20, packets: 100, file: 'a.pcap' });
  assert.equal(t.out.length, 0, 'silent during the first second');
  await sleep(1050);
  p.update({ bytes: 50 << 20, packets: 123456, file: 'a.pcap' });
  assert.equal(t.out.length, 1);
  assert.match(t.out[0], /^\rauthcap: a\.pcap: 50\.0 MiB, 123,456 packets, \d+(\.\d)? MiB\/s/);
  assert.ok(t.out[0].length <= 81, 'fits the terminal');
  p.done();
  assert.equal(t.out.at(-1), '\r\x1b[2K');
});

test('done() prints nothing when nothing was shown', () => {
  const t = fakeTty();
  new Progress(t.stream).done();
  assert.deepEqual(t.out, []);
});
