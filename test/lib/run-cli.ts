// Runs the built CLI as a user would, and returns its exit code and output.
import { spawnSync } from 'node:child_process';
import { CLI } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], o: { input?: Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input: o.input,
    env: { ...process.env, NO_COLOR: '1', ...(o.env ?? {}) },
    timeout: o.timeoutMs ?? 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

export function runJson(args: string[], o: Parameters<typeof runCli>[1] = {}): { code: number; report: any; stderr: string } {
  const r = runCli([...args, '--format', 'json'], o);
  let report: any = null;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`authcap ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}
