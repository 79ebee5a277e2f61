/**
 * The command table and the ONE place that turns errors into messages and exit codes:
 * UsageError 2, InputError 1, IndexError 3, ModelError 4, anything else 70 (with the stack under --debug).
 * Exit codes are set through process.exitCode, so pending output is flushed before the process ends.
 */
import { Command, CommanderError } from 'commander';
import { RareMineError, UsageError } from '../errors.js';
import { configureLogger, log, type LogFormat } from '../log.js';
import { installSignalHandlers } from './signals.js';
import { register as registerBm25 } from '../commands/bm25.js';
import { register as registerDense } from '../commands/dense.js';
import { register as registerHybrid } from '../commands/hybrid.js';
import { register as registerEval } from '../commands/eval.js';
import { register as registerIndex } from '../commands/index-cmd.js';
import { register as registerMerge } from '../commands/merge.js';
import { register as registerStats } from '../commands/stats.js';
import { register as registerModels } from '../commands/models.js';

const program = new Command();
program
  .name('rare-mine')
  .description('Mine hard negatives for retrieval training from JSONL (BM25 and dense), streaming, with on-disk indexes.')
  .version('0.1.0')
  .option('--log-level <level>', 'trace, debug, info, warn, error or silent', process.env.RARE_MINE_LOG_LEVEL ?? 'info')
  .option('--log-format <format>', 'pretty (human-readable) or json (one object per line), on stderr', process.env.RARE_MINE_LOG_FORMAT ?? 'pretty')
  .option('--debug', 'print stack traces of errors', false)
  .showHelpAfterError()
  .exitOverride()
  .hook('preAction', (command) => {
    const options = command.opts<{ logLevel: string; logFormat: LogFormat }>();
    configureLogger({ level: options.logLevel, format: options.logFormat });
  });

registerBm25(program);
registerDense(program);
registerHybrid(program);
registerIndex(program);
registerEval(program);
registerMerge(program);
registerStats(program);
registerModels(program);

installSignalHandlers();

function report(error: unknown): number {
  const debug = program.opts<{ debug?: boolean }>().debug === true || process.env.RARE_MINE_DEBUG === '1';
  if (error instanceof CommanderError) {
    // commander printed its own message already (help, version, or a usage problem).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof RareMineError) {
    process.stderr.write(`rare-mine: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    if (debug) process.stderr.write(`${error.stack}\n${error.cause ? `caused by: ${(error.cause as Error).stack ?? error.cause}\n` : ''}`);
    return error.exitCode;
  }
  const err = error as Error;
  process.stderr.write(`rare-mine: internal error: ${err?.message ?? String(error)}\n`);
  if (debug) process.stderr.write(`${err?.stack}\n`);
  else process.stderr.write('  hint: run again with --debug for the stack trace, and report it\n');
  return 70;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const cause = error instanceof CommanderError && (error as { cause?: unknown }).cause instanceof UsageError ? (error as { cause?: unknown }).cause : error;
  process.exitCode = report(cause);
}
void log;
