/** Run the built CLI as a user would, capturing stdout, stderr and the exit code. */
import { spawnSync } from 'node:child_process';
import { cliPath } from './shared-data.js';

export interface CliResult {
  status: number | null;
  /** The process id the run had (to find what it may have left behind). */
  pid: number;
  stdout: string;
  stderr: string;
  /** stdout split into JSON lines. */
  json(): any[];
  /** pino JSON log lines from stderr (RARE_MINE_LOG_FORMAT=json is set). */
  logs(): any[];
  /**
   * stderr as a person reads the messages: each JSON line as its message (and `  hint: …` when it has one), other
   * lines as they are — what an assertion on the wording of a message matches, in json or pretty mode.
   */
  messages(): string;
}

/**
 * `timeoutMs`: kill the run after this long (a run that would hang then fails its test instead of the suite);
 * every run gets 10 minutes at most, so a hang never stalls CI.
 */
export function runCli(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    input: options.input,
    cwd: options.cwd,
    env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1', ...options.env },
    maxBuffer: 1 << 30,
    timeout: options.timeoutMs ?? 600_000,
    encoding: 'utf8',
  });
  const stdout = result.stdout ?? '';
  const stderr = result.stderr ?? '';
  return {
    status: result.status,
    pid: result.pid,
    stdout,
    stderr,
    json: () => stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l)),
    logs: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    messages: () =>
      stderr
        .split('\n')
        .map((line) => {
          if (!line.startsWith('{')) return line;
          const entry = JSON.parse(line) as { msg?: unknown; hint?: unknown };
          return `${String(entry.msg)}${entry.hint === undefined ? '' : `\n  hint: ${String(entry.hint)}`}`;
        })
        .join('\n'),
  };
}
