// The command line: `authcap [analyze] <capture...>` (default) and `authcap follow <capture...> --stream N`.
// Parses options with yargs, runs the analysis, renders the chosen format, and returns the exit code
// (REPORT.md: 0 nothing at or above --fail-on, 1 something is, 2 usage error or unreadable input).

import { availableParallelism } from 'node:os';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { analyze, type AnalyzeOptions, type Filters } from './analyze.js';
import { analyzeInThreads } from './backend/front.js';
import { InputError } from './capture/open.js';
import type { Report } from './types.js';
import { DEFAULT_LIMITS } from './types.js';
import { VERSION } from './version.js';
import { redactReport } from './report/redact.js';
import { renderJson } from './report/json.js';
import { JsonReportWriter } from './report/json-stream.js';
import { ReportOutput } from './report/output.js';
import { headersOf } from './protocols/http.js';
import { applyBaseline, applyIgnore, exitCodeFor, type FailOn } from './report/gate.js';
import { Progress } from './progress.js';
import { isoTime } from './util/time.js';

class UsageError extends Error {}

/** yargs drops a bare '-' argument, so it travels through the parser under this name. */
const STDIN_ARG = '\u0000stdin';
const unStdin = (v: string) => (v === STDIN_ARG ? '-' : v);

const FORMATS = ['table', 'json', 'markdown', 'html'] as const;
type Format = (typeof FORMATS)[number];

interface CommonArgs {
  capture: string[];
  password?: string;
  credentials?: string;
  key?: string;
  keylog?: string;
  host?: string[];
  port?: number[];
  since?: string;
  until?: string;
  stream?: number;
  'show-secrets': boolean;
  progress: boolean;
  'max-body': number;
  'max-header': number;
  'max-decompressed': number;
  'max-reassembly': number;
  'max-streams': number;
  'max-fragments': number;
}

interface AnalyzeArgs extends CommonArgs {
  format: Format;
  output?: string;
  'fail-on': FailOn;
  baseline?: string;
  ignore?: string[];
  threads: Threads;
}

const THREADS = ['auto', '1', '2', '3'] as const;
type Threads = (typeof THREADS)[number];
/** With --threads auto, inputs from this size up (or stdin) get the second thread. */
const TWO_THREADS_FROM = 8 << 20;
/**
 * With --threads auto, file inputs from this size up get the third (the reading on a thread of its own,
 * whose heap is gone before the final checks): 41 MB less peak memory at 1 GiB; below, its start (about
 * 0.1 s and 10 MB) is not paid back (measured at 50 and 200 MiB).
 */
const THREE_THREADS_FROM = 512 << 20;

function commonOptions<T>(y: Argv<T>) {
  return y
    .positional('capture', { type: 'string', array: true, demandOption: true, describe: 'capture files (.pcap, .pcapng, .gz), or - for stdin' })
    .option('password', { type: 'string', describe: 'password to verify Digest responses and Basic credentials' })
    .option('credentials', { type: 'string', describe: 'user:password (like --password, for one user)' })
    .option('key', { type: 'string', describe: 'signature key for md5(md5(body + key) + key) checks (or set AUTHCAP_KEY)' })
    .option('keylog', { type: 'string', describe: 'TLS key log file (SSLKEYLOGFILE format) to decrypt HTTPS' })
    .option('host', { type: 'string', array: true, describe: 'only exchanges and connections involving this IP address' })
    .option('port', { type: 'number', array: true, describe: 'only exchanges and connections involving this port' })
    .option('since', { type: 'string', describe: 'only requests at or after this time (ISO-8601, UTC unless a zone is given)' })
    .option('until', { type: 'string', describe: 'only requests before this time' })
    .option('stream', { type: 'number', describe: "only this tcp.stream (Wireshark's index)" })
    .option('show-secrets', { type: 'boolean', default: false, describe: 'do not redact passwords, tokens, signatures and keys' })
    .option('progress', { type: 'boolean', default: true, describe: 'progress bar on stderr for large inputs (TTY only); --no-progress to hide' })
    .option('max-body', { type: 'number', default: DEFAULT_LIMITS.bodyBytes, describe: 'body bytes kept per message (true length always recorded)' })
    .option('max-header', { type: 'number', default: DEFAULT_LIMITS.headerBytes, describe: 'header bytes per message before it is malformed' })
    .option('max-decompressed', { type: 'number', default: DEFAULT_LIMITS.decompressedBytes, describe: 'bytes a gzip/deflate/br body may expand to' })
    .option('max-reassembly', { type: 'number', default: DEFAULT_LIMITS.reassemblyBytes, describe: 'out-of-order bytes buffered per TCP direction' })
    .option('max-streams', { type: 'number', default: DEFAULT_LIMITS.streams, describe: 'TCP connections tracked at once' })
    .option('max-fragments', { type: 'number', default: DEFAULT_LIMITS.fragments, describe: 'IP fragment trains held at once' });
}

function parseTime(name: string, s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(s);
  const d = new Date(/^\d{4}-\d\d-\d\d[T ]\d/.test(s) && !hasZone ? `${s.replace(' ', 'T')}Z` : s);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name}: not a date and time: '${s}' (use ISO-8601, e.g. 2024-05-01T10:00:00Z)`);
  return d;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number`);
  return Math.floor(v);
}

function analyzeOptions(a: CommonArgs): AnalyzeOptions {
  let user: string | undefined;
  let password = a.password;
  if (a.credentials !== undefined) {
    const i = a.credentials.indexOf(':');
    if (i < 0) throw new UsageError('--credentials takes user:password');
    user = a.credentials.slice(0, i);
    password = a.credentials.slice(i + 1);
  }
  let keylog: string | undefined;
  if (a.keylog !== undefined) {
    try {
      keylog = readFileSync(a.keylog, 'utf8');
    } catch (e) {
      throw new InputError(`authcap: cannot read key log '${a.keylog}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const filters: Filters = {
    hosts: a.host,
    ports: a.port,
    since: parseTime('since', a.since),
    until: parseTime('until', a.until),
    stream: a.stream,
  };
  return {
    user,
    password,
    key: a.key ?? process.env.AUTHCAP_KEY ?? undefined,
    keylog,
    filters,
    limits: {
      bodyBytes: positive('max-body', a['max-body']),
      headerBytes: positive('max-header', a['max-header']),
      decompressedBytes: positive('max-decompressed', a['max-decompressed']),
      reassemblyBytes: positive('max-reassembly', a['max-reassembly']),
      streams: positive('max-streams', a['max-streams']),
      fragments: positive('max-fragments', a['max-fragments']),
    },
  };
}

function useColor(): boolean {
  return !!process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

function progressFor(a: CommonArgs): Progress | null {
  return a.progress && process.stderr.isTTY ? new Progress(process.stderr) : null;
}

function write(output: string | undefined, text: string): void {
  if (output && output !== '-') writeFileSync(output, text);
  else process.stdout.write(text);
}

/** How many threads the analysis uses (1: all here; 2: the checks on a worker; 3: the reading on another). */
function threadsFor(t: Threads, files: string[]): 1 | 2 | 3 {
  const stdin = files.includes('-');
  if (t !== 'auto') return t === '1' ? 1 : t === '2' || stdin ? 2 : 3;
  if (availableParallelism() < 2) return 1;
  if (stdin) return 2;
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f).size;
    } catch {
      /* reported when it is read */
    }
  }
  return bytes >= THREE_THREADS_FROM ? 3 : bytes >= TWO_THREADS_FROM ? 2 : 1;
}

async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  a.capture = a.capture.map(String).map(unStdin);
  if (a.output !== undefined) a.output = unStdin(a.output);
  const opts = analyzeOptions(a);
  let baseline: Report | undefined;
  if (a.baseline !== undefined) {
    try {
      baseline = JSON.parse(readFileSync(a.baseline, 'utf8')) as Report;
    } catch (e) {
      throw new InputError(`authcap: cannot read baseline '${a.baseline}': ${(e as Error).message.split('\n')[0]}`);
    }
    if (!baseline || !Array.isArray(baseline.findings)) throw new InputError(`authcap: baseline '${a.baseline}' is not an authcap JSON report`);
  }
  const progress = progressFor(a);
  opts.onProgress = progress ? (p) => progress.update(p) : undefined;
  // JSON is written as the analysis goes (memory does not grow with the number of exchanges), on a second
  // thread for large inputs.
  const redact = !a['show-secrets'];
  const threads = a.format === 'json' ? threadsFor(a.threads, a.capture) : 1;
  const offload = threads > 1;
  let stream = a.format === 'json' && !offload ? new JsonReportWriter({ redact }) : null;
  if (stream) opts.output = { prepare: (x) => stream!.prepare(x), write: (text) => stream!.writePrepared(text as string) };
  const out = new ReportOutput(a.output);
  /** With two threads: the report's head and exchanges, written while the worker runs the cross-exchange checks. */
  let head: Promise<void> | null = null;
  // The compact exchanges the report keeps are only read by the --baseline gate.
  if (offload)
    opts.offload = {
      redact,
      keepExchanges: baseline !== undefined,
      onExchanges(json, h) {
        stream = JsonReportWriter.resume(json);
        head = stream.writeHead(h, out.open());
        head.catch(() => undefined); // awaited below
      },
    };
  let raw: Report;
  try {
    const r = threads === 3 ? await analyzeInThreads(a.capture, { ...opts, offload: opts.offload! }) : await analyze(a.capture, opts);
    raw = r.report;
    if (r.json) {
      if (head) stream!.takeFiles(r.json);
      else stream = JsonReportWriter.resume(r.json);
    }
    await head;
  } catch (e) {
    await (head as Promise<void> | null)?.catch(() => undefined);
    stream?.dispose();
    out.abort();
    throw e;
  }
  progress?.done();
  let report = raw;
  if (a.ignore?.length) report = applyIgnore(report, a.ignore);
  if (baseline) {
    const r = applyBaseline(report, baseline);
    report = { ...r.report, baselineSuppressed: r.suppressed };
  }
  const code = exitCodeFor(report.findings, a['fail-on']);
  if (stream) {
    await stream.finish(report, out.open());
    await out.close();
    return code;
  }
  const shown = a['show-secrets'] ? report : redactReport(report);
  const toFile = out.toFile;
  let text: string;
  switch (a.format) {
    case 'json':
      text = renderJson(shown);
      break;
    case 'markdown':
      text = (await import('./report/markdown.js')).renderMarkdown(shown);
      break;
    case 'html':
      text = (await import('./report/html.js')).renderHtml(shown);
      break;
    default:
      text = (await import('./report/table.js')).renderTable(shown, { color: !toFile && useColor(), width: toFile ? 120 : process.stdout.columns || 120 });
  }
  write(a.output, text);
  return code;
}

async function runFollow(a: CommonArgs): Promise<number> {
  if (a.stream === undefined) throw new UsageError('follow needs --stream N (the tcp.stream index)');
  a.capture = a.capture.map(String).map(unStdin);
  const opts = analyzeOptions(a);
  const progress = progressFor(a);
  opts.onProgress = progress ? (p) => progress.update(p) : undefined;
  opts.follow = a.stream;
  const { followed, followEndpoints } = await analyze(a.capture, opts);
  progress?.done();
  if (!followEndpoints) {
    process.stderr.write(`authcap: no HTTP or SIP messages in tcp.stream ${a.stream}\n`);
    return 1;
  }
  const messages = followed
    .slice()
    .sort((x, y) => x.message.frame - y.message.frame)
    .map(({ dir, message: m }) => ({
      dir,
      frame: m.frame,
      time: isoTime(m.time),
      startLine: m.kind === 'request' ? `${m.method} ${m.uri} ${m.version}` : `${m.version} ${m.status} ${m.reason ?? ''}`.trimEnd(),
      headers: headersOf(m),
      body: m.decodedBody.length ? m.decodedBody : m.body,
      bodyLength: m.bodyLength,
      incomplete: m.incomplete,
    }));
  process.stdout.write(
    (await import('./report/follow.js')).renderFollow(a.stream, followEndpoints.client, followEndpoints.server, messages, {
      color: useColor(),
      showSecrets: a['show-secrets'],
      maxBody: 4096,
    }),
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let result = 0;
  // `authcap x.pcap --format json | head`: the reader went away; stop quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(result);
    throw e;
  });
  try {
    await yargs(argv.map((v) => (v === '-' ? STDIN_ARG : v)))
      .scriptName('authcap')
      .usage('authcap [analyze] <capture...> [options]\n\nReads packet captures and tells why a client is being refused.')
      .command(
        ['analyze <capture...>', '$0 <capture...>'],
        'analyse captures and report authentication problems (the default command)',
        (y) =>
          commonOptions(y)
            .option('format', { alias: 'f', choices: FORMATS, default: 'table' as Format, describe: 'output format' })
            .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file instead of stdout' })
            .option('fail-on', { choices: ['error', 'warning', 'info', 'none'] as const, default: 'error' as FailOn, describe: 'exit 1 when a finding at or above this severity remains' })
            .option('baseline', { type: 'string', describe: 'a previous JSON report: only findings not in it are reported and gated on' })
            .option('ignore', { type: 'string', array: true, describe: 'finding code to silence (repeatable; prefixes like tls.* allowed)' })
            .option('threads', { type: 'string', choices: THREADS, default: 'auto' as Threads, describe: 'JSON: 2 runs the checks and writes the report on a second thread while the capture is read; 3 also reads on a thread of its own (files only), whose memory is released before the final checks; auto = 2 from 8 MiB of input (or stdin), 3 from 512 MiB' }),
        async (a) => {
          result = await runAnalyze(a as unknown as AnalyzeArgs);
        },
      )
      .command(
        'follow <capture...>',
        "print one TCP stream's requests and responses, like Wireshark's Follow TCP Stream",
        (y) => commonOptions(y),
        async (a) => {
          result = await runFollow(a as unknown as CommonArgs);
        },
      )
      .example('authcap capture.pcap', 'table of refused requests and why')
      .example('tcpdump -w - port 80 | authcap -', 'read from stdin')
      .example('authcap capture.pcap --format json --fail-on warning', 'JSON for CI; exit 1 on warnings')
      .example('AUTHCAP_KEY=... authcap api.pcap', 'also verify md5(md5(body + key) + key) signatures')
      .example('authcap follow capture.pcap --stream 3', 'show one TCP stream')
      .strict()
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      })
      .parseAsync();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`authcap: ${e.message}\nRun 'authcap --help' for usage.\n`);
      return 2;
    }
    if (e instanceof InputError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    process.stderr.write(`authcap: internal error: ${(e as Error)?.stack ?? e}\n`);
    return 2;
  }
  return result;
}
