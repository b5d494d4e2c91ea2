// Where a streamed report goes (-o FILE or stdout): a file is made only when the report begins, and
// one begun for a report that is not finished is removed, so CI never reads half a report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportOutput } from '../../src/report/output.js';

const dir = mkdtempSync(join(tmpdir(), 'authcap-output-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a report file is created at the first write and complete after close()', async () => {
  const file = join(dir, 'done.json');
  const out = new ReportOutput(file);
  assert.equal(out.toFile, true);
  assert.equal(existsSync(file), false, 'nothing made before the report begins');
  out.open().write('{"a": 1}\n');
  await out.close();
  assert.equal(readFileSync(file, 'utf8'), '{"a": 1}\n');
});

test('abort() removes a report file that was begun, and leaves one never opened alone', async () => {
  const begun = join(dir, 'begun.json');
  const out = new ReportOutput(begun);
  const s = out.open();
  s.write('{\n  "tool": {');
  await new Promise<void>((resolve) => s.write('', () => resolve()));
  assert.equal(existsSync(begun), true);
  out.abort();
  assert.equal(existsSync(begun), false);

  const earlier = join(dir, 'earlier.json');
  writeFileSync(earlier, 'a previous report');
  new ReportOutput(earlier).abort();
  assert.equal(readFileSync(earlier, 'utf8'), 'a previous report', 'the analysis failed before writing: the old file stays');
});

test("'-' and no file mean stdout, which close() and abort() leave open", async () => {
  for (const f of ['-', undefined]) {
    const out = new ReportOutput(f);
    assert.equal(out.toFile, false);
    assert.equal(out.open(), process.stdout);
    await out.close();
    out.abort();
    assert.equal(process.stdout.destroyed, false);
  }
});
