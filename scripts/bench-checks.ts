// node --expose-gc dist/scripts/bench-checks.js <capture...> [--runs 5] [--checks path/to/checks/index.js] [--max N]
// Times the analysis checks (src/checks) alone: reads the captures once through the real pipeline
// (capture -> decode -> TCP -> HTTP/SIP -> exchanges), keeps the ExchangeContexts in memory, then runs
// createChecks().exchange() over them and finish()/unauthorized() several times. Prints the time per
// exchange, the heap the checks keep per exchange for finish(), and a digest of everything the checks
// produce (findings, request.credentials, the 401 summary), so two implementations can be compared:
// pass --checks with another build's dist/src/checks/index.js to time and digest that one instead.

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnalysisOptions, DecodedPacket, ExchangeContext, Finding, TcpConnection, UnauthorizedSummary } from '../src/types.js';
import { DEFAULT_LIMITS } from '../src/types.js';
import { readInput } from '../src/capture/open.js';
import { Decoder } from '../src/decode/decoder.js';
import { TcpTracker } from '../src/flows/tcp-tracker.js';
import { parseSipDatagram } from '../src/protocols/sip.js';
import { ExchangeBuilder } from '../src/exchanges/builder.js';
import { ConnectionHandler, type ConnectionSink } from '../src/exchanges/connection.js';

interface Checks {
  exchange(ctx: ExchangeContext): Finding[];
  finish(): Finding[];
  unauthorized(): UnauthorizedSummary;
}
type CreateChecks = (o: AnalysisOptions) => Checks;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function inputs(): string[] {
  const out: string[] = [];
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--')) {
      i++;
      continue;
    }
    out.push(a[i]);
  }
  return out;
}

/** Reads captures into ExchangeContexts (the same wiring as analyze(), without filters or reports). */
async function collect(files: string[], max: number): Promise<ExchangeContext[]> {
  const limits = DEFAULT_LIMITS;
  const out: ExchangeContext[] = [];
  const builder = new ExchangeBuilder({
    onExchange(ctx) {
      if (out.length < max) out.push(ctx);
    },
    onUnpaired() {},
  });
  const sink: ConnectionSink = { malformed() {}, closed() {} };
  const tracker = new TcpTracker({
    limits,
    factory: (conn: TcpConnection) => new ConnectionHandler(conn, builder, sink, { limits }),
    onLimit: () => {},
  });
  const decoder = new Decoder({ limits, onProblem: () => {} });
  const udp = (d: DecodedPacket) => {
    if (d.payload.length < 12) return;
    const parsed = parseSipDatagram(d.payload, d.frame, d.time, limits);
    if (!parsed) return;
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
      const req = m.kind === 'request';
      builder.sipMessage(
        { transport: 'udp', stream: null, clientIp: req ? d.src : d.dst, clientPort: req ? d.srcPort : d.dstPort, serverIp: req ? d.dst : d.src, serverPort: req ? d.dstPort : d.srcPort },
        m,
      );
    }
  };
  let frame = 1;
  for (let i = 0; i < files.length; i++) {
    const r = await readInput(files[i], {
      input: i,
      firstFrame: frame,
      onPacket(raw) {
        const d = decoder.decode(raw);
        if (!d) return;
        if (d.transport === 'tcp') tracker.packet(d);
        else udp(d);
      },
      onProblem: () => {},
      onSecrets: () => {},
    });
    frame = r.nextFrame;
  }
  tracker.finish();
  builder.finish();
  return out;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Everything the checks produce, in order: findings, request.credentials, the 401 summary. */
function digest(c: Checks, ctxs: ExchangeContext[]): { digest: string; findings: number } {
  const h = createHash('sha256');
  let findings = 0;
  for (const ctx of ctxs) {
    const fs = c.exchange(ctx);
    findings += fs.length;
    h.update(JSON.stringify(ctx.exchange.request.credentials));
    for (const f of fs) h.update(JSON.stringify(f));
  }
  const fin = c.finish();
  findings += fin.length;
  for (const f of fin) h.update(JSON.stringify(f));
  h.update(JSON.stringify(c.unauthorized()));
  return { digest: h.digest('hex').slice(0, 16), findings };
}

/** Heap the checks keep between exchange() calls (what finish() needs), per exchange; null without --expose-gc. */
function retained(createChecks: CreateChecks, o: AnalysisOptions, ctxs: ExchangeContext[]): number | null {
  if (!(globalThis as { gc?: unknown }).gc) return null;
  for (const ctx of ctxs) ctx.exchange.request.credentials = null;
  gc();
  const before = process.memoryUsage().heapUsed;
  const c = createChecks(o);
  for (const ctx of ctxs) c.exchange(ctx);
  // request.credentials belongs to the report, not to the checks' state.
  for (const ctx of ctxs) ctx.exchange.request.credentials = null;
  gc();
  const after = process.memoryUsage().heapUsed;
  c.finish();
  return (after - before) / ctxs.length;
}

async function main(): Promise<void> {
  const files = inputs();
  if (files.length === 0) throw new Error('usage: bench-checks <capture...> [--runs N] [--checks index.js] [--max N] [--key K] [--password P]');
  const runs = Number(arg('runs') ?? '5');
  const max = Number(arg('max') ?? 'Infinity');
  const checksPath = arg('checks') ? pathToFileURL(resolve(arg('checks')!)).href : '../src/checks/index.js';
  const { createChecks } = (await import(checksPath)) as { createChecks: CreateChecks };
  const o: AnalysisOptions = { limits: DEFAULT_LIMITS, key: arg('key'), password: arg('password') };

  const t0 = performance.now();
  const ctxs = await collect(files, max);
  console.log(`bench-checks: ${ctxs.length} exchanges read in ${((performance.now() - t0) / 1000).toFixed(1)} s; checks from ${checksPath}`);

  const d = digest(createChecks(o), ctxs);
  console.log(`  digest ${d.digest}, ${d.findings} findings`);
  const kept = retained(createChecks, o, ctxs);
  console.log(kept === null ? '  (run with --expose-gc to measure retained bytes/exchange)' : `  retained by the checks for finish(): ${kept.toFixed(0)} bytes/exchange`);

  const times: number[] = [];
  const finishTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    gc();
    const c = createChecks(o);
    const a = performance.now();
    for (const ctx of ctxs) c.exchange(ctx);
    const b = performance.now();
    c.finish();
    c.unauthorized();
    const e = performance.now();
    times.push(b - a);
    finishTimes.push(e - b);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const ex = med(times);
  console.log(
    `  exchange(): median ${ex.toFixed(0)} ms (${((ex * 1000) / ctxs.length).toFixed(2)} µs/exchange) over ${runs} runs [${times.map((t) => t.toFixed(0)).join(' ')}]; ` +
      `finish()+summary: median ${med(finishTimes).toFixed(0)} ms`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
