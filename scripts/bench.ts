// npm run bench [-- --size 200 --runs 3 --files 1 --threads auto|1|2 --no-tshark]
// Writes (once, cached in .bench/) a synthetic capture of the given size in MiB with authcap's own writer,
// then times `authcap --format json` on it (MiB/s, packets/s, peak RSS) and, where tshark is installed,
// `tshark -r x.pcap -Y http -T fields ...` on the same file, alternating runs, and prints medians and the ratio.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { writeSynthetic } from '../test/lib/synthetic.js';
import { readInput } from '../src/capture/open.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

interface Run {
  seconds: number;
  maxRssMb: number | null;
  code: number | null;
}

/** Runs a command, measuring wall time and (via /usr/bin/time when present, else the child's own report) peak RSS. */
function timeIt(cmd: string, args: string[], rssFromStderr: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const useTime = existsSync('/usr/bin/time') && !rssFromStderr;
    const start = process.hrtime.bigint();
    const child = useTime ? spawn('/usr/bin/time', ['-f', 'MAXRSS %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const m = /MAXRSS (\d+)/.exec(err);
      resolve({ seconds, maxRssMb: m ? Number(m[1]) / 1024 : null, code });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Packets in the capture, counted by authcap's own reader (nothing decoded). */
async function countPackets(file: string): Promise<number> {
  const r = await readInput(file, { input: 0, firstFrame: 1, onPacket: () => undefined, onProblem: () => undefined });
  return r.summary.packets;
}

function which(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, cmd)));
}

async function main(): Promise<void> {
  const sizeMb = Number(arg('size', '200'));
  const runs = Number(arg('runs', '3'));
  const withTshark = !process.argv.includes('--no-tshark') && which('tshark');
  const nFiles = Math.max(1, Math.floor(Number(arg('files', '1'))));
  const dir = join(root, '.bench');
  mkdirSync(dir, { recursive: true });
  // One capture of the size, or (--files N) N captures of a share each, written with different seeds
  // (other connections and sequence numbers, the same hosts): consecutive captures of the same service.
  const files: string[] = [];
  for (let i = 0; i < nFiles; i++) {
    const file = join(dir, nFiles === 1 ? `synthetic-${sizeMb}MiB.pcap` : `synthetic-${sizeMb}MiB-${i + 1}of${nFiles}.pcap`);
    files.push(file);
    if (existsSync(file)) continue;
    process.stdout.write(`bench: writing ${file} ...`);
    const t = Date.now();
    const r = await writeSynthetic(file, (sizeMb * 1048576) / nFiles, 42 + i);
    process.stdout.write(` ${r.packets} packets, ${r.connections} connections, ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  let bytes = 0;
  let packets = 0;
  for (const f of files) {
    bytes += statSync(f).size;
    packets += await countPackets(f);
  }
  const mib = bytes / 1048576;
  console.log(`bench: ${files.length === 1 ? files[0] : `${files.length} files`} (${mib.toFixed(1)} MiB); machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`);
  const threads = arg('threads', 'auto');
  const authcap = [join(root, 'bin', 'authcap.js'), ...files, '--format', 'json', '-o', '/dev/null', '--fail-on', 'none', '--no-progress', '--threads', threads];
  console.log(`bench: ${packets} packets; authcap --format json --threads ${threads}${files.length > 1 ? ` on the ${files.length} files at once (tshark: one after the other)` : ''}`);
  const tsharkOn = (file: string) => ['-r', file, '-Y', 'http', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code'];
  const a: Run[] = [];
  const t: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const ra = await timeIt(process.execPath, authcap, false);
    if (ra.code !== 0) throw new Error(`authcap exited ${ra.code}`);
    a.push(ra);
    console.log(`  run ${i + 1}: authcap ${ra.seconds.toFixed(2)} s, ${(mib / ra.seconds).toFixed(1)} MiB/s, ${(packets / ra.seconds / 1000).toFixed(0)} k packets/s, peak RSS ${ra.maxRssMb?.toFixed(0) ?? '?'} MB`);
    if (withTshark) {
      // tshark reads one file per run: its time for several is the sum, its peak RSS the largest.
      const rt: Run = { seconds: 0, maxRssMb: 0, code: 0 };
      for (const f of files) {
        const r = await timeIt('tshark', tsharkOn(f), false);
        rt.seconds += r.seconds;
        rt.maxRssMb = Math.max(rt.maxRssMb ?? 0, r.maxRssMb ?? 0);
      }
      t.push(rt);
      console.log(`  run ${i + 1}: tshark  ${rt.seconds.toFixed(2)} s, ${(mib / rt.seconds).toFixed(1)} MiB/s, peak RSS ${rt.maxRssMb?.toFixed(0) ?? '?'} MB`);
    }
  }
  const am = median(a.map((r) => r.seconds));
  const rss = Math.max(...a.map((r) => r.maxRssMb ?? 0));
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(`\nauthcap: median ${am.toFixed(2)} s = ${(mib / am).toFixed(1)} MiB/s, ${(packets / am / 1000).toFixed(0)} k packets/s; peak RSS ${rss.toFixed(0)} MB`);
  console.log(`         targets: >= 100 MiB/s ${met(mib / am >= 100)}; peak RSS < 300 MB ${met(rss > 0 && rss < 300)}`);
  if (t.length) {
    const tm = median(t.map((r) => r.seconds));
    console.log(`tshark:  median ${tm.toFixed(2)} s = ${(mib / tm).toFixed(1)} MiB/s; peak RSS ${Math.max(...t.map((r) => r.maxRssMb ?? 0)).toFixed(0)} MB`);
    console.log(`ratio:   authcap is ${(tm / am).toFixed(1)}x tshark's throughput (target: >= 10x, ${met(tm / am >= 10)})`);
  } else {
    console.log('tshark:  not installed (apt-get install tshark) or --no-tshark: no ratio');
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
