/**
 * `rare-mine merge`: reassemble the outputs of `--shard I/N` runs into one file in input order. Each shard output
 * has a sidecar `<file>.shard.json` ({shard, of, input, inputBytes, records}); merge checks that every shard
 * 0..N-1 of the same input is present exactly once, then concatenates them in shard order (atomically with -o).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { directOutput, OutputSink, partialPath } from '../io/output.js';
import { checkPaths } from '../io/path-safety.js';
import { shardMetaPath } from './mine.js';

interface ShardMeta {
  shard: number;
  of: number;
  input: string;
  inputBytes: number;
  records: number;
}

export interface MergeOptions {
  output?: string;
}

export async function runMerge(files: string[], options: MergeOptions): Promise<void> {
  const output = options.output;
  checkPaths({
    reads: files.flatMap((file) => [{ option: 'input', path: file }, { option: 'input', path: shardMetaPath(file) }]),
    writes: [{ option: '-o', path: output, siblings: output === undefined || output === '-' || directOutput(output) ? [] : [partialPath(output)] }],
  });
  const metas = files.map((file) => {
    const path = shardMetaPath(file);
    if (!existsSync(path)) throw new UsageError(`${file}: no ${path}; is it the complete output of a --shard run with -o?`);
    return { file, meta: JSON.parse(readFileSync(path, 'utf8')) as ShardMeta };
  });
  const count = metas[0].meta.of;
  for (const { file, meta } of metas) {
    if (meta.of !== count || meta.input !== metas[0].meta.input || meta.inputBytes !== metas[0].meta.inputBytes) {
      throw new UsageError(`${file}: shard ${meta.shard}/${meta.of} of ${meta.input} does not belong with shard ${metas[0].meta.shard}/${count} of ${metas[0].meta.input}`);
    }
  }
  const byShard = new Map(metas.map((m) => [m.meta.shard, m]));
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byShard.has(i));
  if (missing.length > 0) throw new UsageError(`missing shard(s) ${missing.join(', ')} of ${count}`);
  if (byShard.size !== metas.length) throw new UsageError('a shard was given twice');
  const sink = new OutputSink(options.output);
  try {
    for (let i = 0; i < count; i++) {
      for await (const chunk of createReadStream(byShard.get(i)!.file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
        const wait = sink.write(chunk as string);
        if (wait) await wait;
        if (sink.closed) break;
      }
    }
    if (sink.closed) await sink.abort();
    else await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  log().info({ shards: count, records: metas.reduce((n, m) => n + m.meta.records, 0), output: options.output ?? '<stdout>' }, 'merged');
}

export function register(program: Command): void {
  program
    .command('merge')
    .description('Concatenate the outputs of `--shard I/N` runs (each with its .shard.json sidecar) in input order.')
    .argument('<files...>', 'shard output files, in any order')
    .option('-o, --output <file>', 'write here atomically instead of stdout')
    .action(async (files: string[], options: MergeOptions) => runMerge(files, options));
}
