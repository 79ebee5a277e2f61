/**
 * The mining commands, one per row of RETRIEVERS (src/retrievers/retrievers.ts): each registers its options (the
 * groups of src/cli/options.ts and the row's own) and runs the mining run of src/run/ (runMine).
 */
import type { Command } from 'commander';
import { addCorpusOptions, addFormatOptions, addMiningOptions, addRecordOptions, addRunOptions, inputArgument } from '../cli/options.js';
import { RETRIEVERS } from '../retrievers/retrievers.js';
import type { IndexDirOptions, RetrieverKind } from '../retrievers/retriever-kind.js';
import type { MineCommandOptions } from '../run/mine-options.js';
import { runMine } from '../run/run-mine.js';

/** `rare-mine <kind> [input]`: the mining command of one retriever kind, its options generated from the row. */
function registerKind<O extends IndexDirOptions>(program: Command, kind: RetrieverKind<O>): void {
  const command = program.command(kind.name).summary(kind.summary).description(kind.description).addArgument(inputArgument('[input]', 'input JSONL (default: stdin)'));
  addRecordOptions(command);
  addCorpusOptions(command);
  kind.options(command);
  addMiningOptions(command, kind.mining);
  addFormatOptions(command);
  addRunOptions(command, { mining: true });
  command.action(async (input: string | undefined, options: MineCommandOptions & O) => runMine(input, options, kind));
}

/** One mining command per row of RETRIEVERS, in table order. */
export function register(program: Command): void {
  for (const kind of RETRIEVERS) registerKind(program, kind);
}
