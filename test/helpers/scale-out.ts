/** Inputs and interrupted runs for the scale-out tests: a bigger input made from the fixture, a run killed mid-way. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot } from './shared-data.js';

const fixtureLines = readFileSync(join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl'), 'utf8').trimEnd().split('\n');

/** The 40-record fixture repeated `copies` times, each record with a unique question and id. */
export function makeInput(dir: string, copies: number, name = 'input.jsonl'): string {
  const lines: string[] = [];
  for (let c = 0; c < copies; c++) {
    fixtureLines.forEach((line, i) => {
      const record = JSON.parse(line) as { question: string; text: unknown };
      lines.push(JSON.stringify({ id: `${c}-${i}`, question: `${record.question} (${c})`, text: record.text }));
    });
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Checkpoint lines in a journal (its first line is the run's fingerprint, the second the start checkpoint). */
export function checkpointCount(journal: string): number {
  if (!existsSync(journal)) return 0;
  return readFileSync(journal, 'utf8').split('\n').filter((line) => line.startsWith('{"inputByte"')).length - 1;
}

/** Run the CLI with `-o out` and SIGKILL it once its journal holds `checkpoints` checkpoints after the start. */
export async function killMidway(args: string[], out: string, checkpoints = 3): Promise<void> {
  const child = spawn(process.execPath, [cliPath, ...args, '-o', out, '--log-level', 'silent'], { stdio: 'ignore', env: { ...process.env, RARE_MINE_NO_PROGRESS: '1' } });
  const journal = `${out}.partial.journal`;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (checkpointCount(journal) >= checkpoints) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 2);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run finished before it could be killed; make the input bigger'));
    });
  });
  await new Promise((resolve) => child.on('exit', resolve));
}

/** A fresh dir under the system temp dir. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rare-mine-${prefix}-`));
}
