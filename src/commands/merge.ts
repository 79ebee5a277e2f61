/**
 * `rare-mine merge`: reassemble the outputs of `--shard I/N` runs into one file in input order. Each shard output
 * has a sidecar `<file>.shard.json` (src/io/shards.ts) written by its run. Before writing a byte, merge checks that
 * every sidecar names the same run (fingerprint: input, options, index build, version), that each shard 0..N-1 is
 * there exactly once and their input ranges tile the whole input, and that each file still has the size, line
 * count and SHA-256 its run wrote. Anything else is refused, naming the shard and the reason. Then it concatenates
 * them in shard order (atomically with -o).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from '../io/fs.js';
import type { Command } from 'commander';
import { addMergeOptions, inputArgument } from '../cli/options.js';
import { commandPathPlan } from '../cli/path-plan.js';
import { InputError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { directOutput, OutputSink, partialPath } from '../io/output.js';
import { runScope } from '../run-scope.js';
import { lockOutput } from '../run/output-locks.js';
import { checkPaths } from '../io/path-safety.js';
import { readShardSidecar, shardSidecarPath, type ShardSidecar } from '../io/shards.js';
import { fingerprintDifferences } from '../io/run-fingerprint.js';

export interface MergeOptions {
  output?: string;
}

interface ShardFile {
  file: string;
  sidecar: ShardSidecar;
  /** "part-3.jsonl (shard 3/8)" for messages. */
  name: string;
}

function readSidecar(file: string): ShardFile {
  const path = shardSidecarPath(file);
  if (!existsSync(path)) throw new UsageError(`${file}: no ${path}; is it the complete output of a --shard run with -o?`);
  const sidecar = readShardSidecar(path);
  return { file, sidecar, name: `${file} (shard ${sidecar.shard}/${sidecar.of})` };
}

/** Every shard of one run, each once, input ranges end to end. */
function checkShardSet(shards: ShardFile[]): ShardFile[] {
  const first = shards[0];
  for (const shard of shards) {
    if (shard.sidecar.run !== first.sidecar.run || shard.sidecar.of !== first.sidecar.of) {
      const differences = fingerprintDifferences(first.sidecar.fingerprint, shard.sidecar.fingerprint, ['rareMine', 'command', 'input', 'options', 'index'], [`in ${first.file}`, `in ${shard.file}`]);
      const why = differences.length > 0 ? differences.join('; ') : `split in ${shard.sidecar.of}, not ${first.sidecar.of}`;
      throw new UsageError(`${shard.name} belongs to another run than ${first.name}: ${why}`);
    }
  }
  const count = first.sidecar.of;
  const byShard = new Map<number, ShardFile>();
  for (const shard of shards) {
    const twin = byShard.get(shard.sidecar.shard);
    if (twin) throw new UsageError(`shard ${shard.sidecar.shard}/${count} given twice: ${twin.file} and ${shard.file}`);
    byShard.set(shard.sidecar.shard, shard);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byShard.has(i));
  if (missing.length > 0) throw new UsageError(`missing shard(s) ${missing.join(', ')} of ${count}`);
  const ordered = Array.from({ length: count }, (_, i) => byShard.get(i)!);
  let expectedStart = 0;
  for (const shard of ordered) {
    if (shard.sidecar.range.startByte !== expectedStart) {
      throw new UsageError(`${shard.name} covers input bytes from ${shard.sidecar.range.startByte}, but the shard before it ends at ${expectedStart}`);
    }
    expectedStart = shard.sidecar.range.endByte;
  }
  if (expectedStart !== first.sidecar.fingerprint.input.bytes) {
    throw new UsageError(`the shards cover input bytes 0..${expectedStart}, but ${first.sidecar.fingerprint.input.path} has ${first.sidecar.fingerprint.input.bytes}`);
  }
  return ordered;
}

/** The file holds exactly what its run wrote: size, then SHA-256 and newline count. */
async function checkShardContent(shard: ShardFile): Promise<void> {
  const { sidecar } = shard;
  const size = statSync(shard.file).size;
  if (size !== sidecar.bytes) {
    throw new InputError(shard.file, undefined, `shard ${sidecar.shard}/${sidecar.of} holds ${size} bytes, but its run wrote ${sidecar.bytes} (${size < sidecar.bytes ? 'cut short' : 'appended to'} since)`, {
      hint: `mine that shard again (delete ${shard.file} first)`,
    });
  }
  const hash = createHash('sha256');
  let lines = 0;
  for await (const chunk of createReadStream(shard.file, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
  }
  if (hash.digest('hex') !== sidecar.sha256 || lines !== sidecar.lines) {
    throw new InputError(shard.file, undefined, `shard ${sidecar.shard}/${sidecar.of} is not what its run wrote (SHA-256 differs; ${lines} lines, ${sidecar.lines} written)`, {
      hint: `mine that shard again (delete ${shard.file} first)`,
    });
  }
}

/** Merge `files` into -o (or stdout). `command`: the `merge` command, whose path options the write gate checks, with each shard's sidecar read too. */
export async function runMerge(files: string[], options: MergeOptions, command: Command): Promise<void> {
  const output = options.output;
  checkPaths(
    commandPathPlan(command, options, [files], {
      siblings: { '-o': output === undefined || output === '-' || directOutput(output) ? [] : [partialPath(output)] },
      reads: files.map((file) => ({ option: 'shard sidecar', path: shardSidecarPath(file) })),
    }),
  );
  const ordered = checkShardSet(files.map(readSidecar));
  for (const shard of ordered) await checkShardContent(shard);
  // One writer per output, as for a mining run's -o (released by the run scope on every way out).
  const writerLock = output === undefined || output === '-' ? undefined : lockOutput(output);
  const sink = new OutputSink(options.output);
  // Owned by the run scope: a signal (or any way out before the commit) removes the partial.
  const partial = runScope().own(`merge output ${options.output ?? '<stdout>'}`, () => sink.abort());
  try {
    for (const shard of ordered) {
      for await (const chunk of createReadStream(shard.file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
        const wait = sink.write(chunk as string);
        if (wait) await wait;
        if (sink.closed) break;
      }
    }
    if (sink.closed) await partial.release();
    else {
      await sink.commit();
      partial.disown();
    }
  } catch (error) {
    await partial.release();
    throw error;
  } finally {
    writerLock?.release();
  }
  const total = (key: 'records' | 'rejected' | 'lines') => ordered.reduce((n, shard) => n + shard.sidecar[key], 0);
  log().info({ shards: ordered.length, records: total('records'), rejected: total('rejected'), lines: total('lines'), output: options.output ?? '<stdout>' }, 'merged');
}

export function register(program: Command): void {
  const command = program
    .command('merge')
    .description('Concatenate the outputs of `--shard I/N` runs in input order, after checking each against its .shard.json sidecar (same run, every shard once, size and SHA-256 as written).')
    .addArgument(inputArgument('<files...>', 'shard output files, in any order'));
  addMergeOptions(command).action(async (files: string[], options: MergeOptions) => runMerge(files, options, command));
}
