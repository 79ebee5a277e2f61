/**
 * The command table as the binary builds it (every register of src/commands/, in src/app/main.ts's order), for tests
 * that walk every command and every option: each leaf command with the words that invoke it.
 */
import { Command } from 'commander';
import { register as registerMining } from '../../src/commands/mine.js';
import { register as registerIndex } from '../../src/commands/index-cmd.js';
import { register as registerEval } from '../../src/commands/eval.js';
import { register as registerMerge } from '../../src/commands/merge.js';
import { register as registerStats } from '../../src/commands/stats.js';
import { register as registerReport } from '../../src/commands/report.js';
import { register as registerModels } from '../../src/commands/models.js';

export interface LeafCommand {
  /** The words after `rare-mine`: ["index", "bm25"]. */
  words: string[];
  command: Command;
}

/** Every command that runs (not the groups `index` and `models`), with the words that invoke it. */
export function leafCommands(): LeafCommand[] {
  const program = new Command();
  for (const register of [registerMining, registerIndex, registerEval, registerMerge, registerStats, registerReport, registerModels]) register(program);
  const leaves: LeafCommand[] = [];
  const walk = (command: Command, words: string[]) => {
    if (command.commands.length === 0) leaves.push({ words, command });
    for (const sub of command.commands) walk(sub, [...words, sub.name()]);
  };
  for (const command of program.commands) walk(command, [command.name()]);
  return leaves;
}
