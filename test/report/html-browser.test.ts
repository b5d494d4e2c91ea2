// The HTML ticket report in a real browser: headless Chromium loads the file (no network), and
// the DOM it builds holds the verdict, the SVG timelines and the findings, with no console error.
// Skipped, saying why, when Chromium is not installed (.ci/run installs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtml } from '../../src/report/html.js';
import { redactReport } from '../../src/report/redact.js';
import { SECRETS, fixtureReport } from './fixture.js';

const TIMEOUT_MS = 60_000;

function findChromium(): string | null {
  const candidates = ['/usr/bin/chromium', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'chromium'))];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

const CHROMIUM = findChromium();
const SKIP = CHROMIUM ? false : 'chromium not found (neither /usr/bin/chromium nor `chromium` on PATH): install it with `apt-get install -y chromium` to run the HTML browser test';

/** Load a file in headless Chromium; resolves with the dumped DOM and Chromium's log. Killed after TIMEOUT_MS. */
function dumpDom(file: string, profile: string): Promise<{ dom: string; log: string; code: number | null; timedOut: boolean }> {
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0',
    '--dump-dom', pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole process group Chromium started
      } catch {
        /* already gone */
      }
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ dom: Buffer.concat(out).toString('utf8'), log: Buffer.concat(err).toString('utf8'), code, timedOut });
    });
  });
}

function consoleProblems(log: string): string[] {
  return log.split('\n').filter((l) => /CONSOLE|Uncaught/.test(l));
}

test('headless Chromium renders the HTML report: verdict, timeline, findings, no console error', { skip: SKIP, timeout: TIMEOUT_MS * 2 + 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'authcap-html-'));
  try {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(redactReport(fixtureReport())));
    const { dom, log, timedOut } = await dumpDom(file, join(dir, 'profile'));
    assert.equal(timedOut, false, 'chromium finished in time');
    assert.deepEqual(consoleProblems(log), [], 'no console messages (CSP violations, script errors)');
    assert.match(dom, /<p class="verdict" id="verdict">6 requests refused \(401\): 2 lacked the <code>user<\/code> field, 1 had a trailing NUL in the body/);
    const svgs = dom.match(/<svg class="timeline"[^]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 6, 'one timeline per endpoint with accepted or refused requests');
    assert.match(svgs[0], /<circle[^>]*cy="40"/);
    assert.match(svgs[0], /<path[^>]*d="M[\d.]+,60 /);
    for (const code of ['auth.field-missing', 'body.trailing-nul', 'signature.uppercase', 'method.get-not-post', 'auth.digest-mismatch', 'tcp.refused']) {
      assert.ok(dom.includes(`<code>${code}</code>`), code);
    }
    assert.match(dom, /<details><summary>Request headers \(frame 24, 40 body bytes\)<\/summary>/);
    for (const s of SECRETS) assert.equal(dom.includes(s), false, `DOM leaks ${s}`);

    // The check above can fail: a page that tries to load something is blocked and logged.
    const bad = join(dir, 'tampered.html');
    writeFileSync(bad, renderHtml(redactReport(fixtureReport())).replace('</body>', '<img src="http://192.0.2.1/x.png"></body>'));
    const tampered = await dumpDom(bad, join(dir, 'profile2'));
    assert.equal(tampered.timedOut, false);
    assert.ok(consoleProblems(tampered.log).some((l) => /Content Security Policy/.test(l)), 'an external load is blocked by the page CSP and reported');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
