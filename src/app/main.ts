/**
 * The entry point (bin/rare-mine.js imports it): the command table and the ONE place that turns errors into messages and exit codes:
 * UsageError 2, InputError and FileError 1, IndexError 3, ModelError 4, anything else 70 (with the stack under
 * --debug). A system error that escaped as such (ENOENT, ENOSPC, EISDIR, ... — src/errors.ts fileErrorFrom) is the
 * user's or the machine's condition, not a bug: one line naming the path and the cause, exit 1.
 * Exit codes are set through process.exitCode, so pending output is flushed before the process ends; then endRun
 * (src/terminal/signals.ts) releases the run scope and makes sure the process does end.
 * With --log-format json (or $RARE_MINE_LOG_FORMAT=json) every message here, commander's own included, is one JSON
 * line (src/log.ts errorEvent): the message, the exit code, the error's kind and its hint as fields.
 */
import { Command, CommanderError } from 'commander';
import { FileError, fileErrorFrom, InputError, RareMineError, UsageError } from '../errors.js';
import { configureLogger, errorEvent, LOG_FORMATS, LOG_LEVELS, logFormat, loggerConfigured, type LogFormat } from '../log.js';
import { addGlobalOptions } from '../cli/options.js';
import { checkCombinations, type CombinationView } from '../cli/combination-rules.js';
import { foreignKey, foreignSuggestion } from '../cli/foreign-options.js';
import { beginRun, endRun, installSignalHandlers, stoppingSignal } from '../terminal/signals.js';
import { register as registerMining } from '../commands/mine.js';
import { register as registerEval } from '../commands/eval.js';
import { register as registerIndex } from '../commands/index-cmd.js';
import { register as registerMerge } from '../commands/merge.js';
import { register as registerStats } from '../commands/stats.js';
import { register as registerReport } from '../commands/report.js';
import { register as registerModels } from '../commands/models.js';

const program = new Command();
program
  .name('rare-mine')
  .description('Mine hard negatives for retrieval training from JSONL (BM25 and dense), streaming, with on-disk indexes.')
  .version('0.1.0');
addGlobalOptions(program)
  .exitOverride()
  .hook('preAction', (command, actionCommand) => {
    const options = command.opts<{ logLevel: string; logFormat: LogFormat }>();
    // The environment defaults are not checked by commander's choices: check them here, with the same words.
    for (const [name, value, allowed] of [['--log-level', options.logLevel, LOG_LEVELS], ['--log-format', options.logFormat, LOG_FORMATS]] as const) {
      if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    configureLogger({ level: options.logLevel, format: options.logFormat });
    checkCombinations(actionCommand.opts<CombinationView>());
    beginRun();
  });

registerMining(program); // one command per retriever kind (src/retrievers/retrievers.ts)
registerIndex(program);
registerEval(program);
registerMerge(program);
registerStats(program);
registerReport(program);
registerModels(program);

/**
 * A usage error (unknown option, typo, bad choice) prints commander's message and its "Did you mean" suggestion,
 * then where the full help is: never the whole help, which would scroll the error away.
 */
function configureErrors(command: Command, path: string): void {
  const seeHelp = `(see \`${path} --help\`)`;
  command.showHelpAfterError(seeHelp).configureOutput({
    outputError: (text, write) => {
      if (jsonLogs()) errorEvent({ exit_code: 2, error: 'UsageError', hint: `see \`${path} --help\`` }, text.replace(/^error: /, '').trimEnd());
      else write(`rare-mine: ${text.replace(/^error: /, '')}`);
    },
    // In json mode the pointer to --help is the error event's hint; help shown for an error (a command without its subcommand) is an event of its own.
    writeErr: (text) => {
      if (!jsonLogs()) process.stderr.write(text);
      else if (text.trimEnd() !== seeHelp && text.trim() !== '') errorEvent({ exit_code: 2, error: 'UsageError' }, text.trimEnd());
    },
  });
  suggestForeignOptions(command);
  for (const sub of command.commands) configureErrors(sub, `${path} ${sub.name()}`);
}

/** Every long option of every command, to tell a foreign name from a slip of rare-mine's own (`--batch-size`). */
function allLongFlags(command: Command, into = new Set<string>()): Set<string> {
  for (const option of command.options) if (option.long) into.add(option.long);
  for (const sub of command.commands) allLongFlags(sub, into);
  return into;
}

/**
 * An unknown option that is another tool's name (src/cli/foreign-options.ts) gets rare-mine's option and the value
 * mapped; any other keeps commander's own "Did you mean". commander reports unknown options through the command's
 * `unknownOption(flag)` (commander 14; not in its typings, pinned by test/foreign-options.test.ts); a dashed name
 * that is an option of another rare-mine command (`--batch-size` on `index`) is left to commander.
 */
function suggestForeignOptions(command: Command): void {
  const target = command as unknown as { unknownOption(flag: string): void };
  const commanders = target.unknownOption.bind(command);
  target.unknownOption = (flag: string) => {
    const dashed = `--${foreignKey(flag).replace(/_/g, '-')}`;
    const ownElsewhere = !flag.includes('_') && allLongFlags(program).has(dashed);
    const args = process.argv;
    const at = args.indexOf(flag);
    const suggestion = ownElsewhere ? undefined : foreignSuggestion(flag, at >= 0 && !flag.includes('=') ? args[at + 1] : undefined);
    if (suggestion === undefined) return commanders(flag);
    command.error(`error: unknown option '${flag}' ${suggestion}`, { code: 'commander.unknownOption' });
  };
}
configureErrors(program, 'rare-mine');

installSignalHandlers();

/**
 * Whether messages go out as JSON lines: the configured logger's format, or, for an error before the command's
 * options were read (a usage error caught by commander), --log-format as the arguments give it, else the environment's.
 */
function jsonLogs(): boolean {
  if (loggerConfigured()) return logFormat() === 'json';
  const args = process.argv.slice(2);
  for (const [i, arg] of args.entries()) {
    const value = arg === '--log-format' ? args[i + 1] : arg.startsWith('--log-format=') ? arg.slice('--log-format='.length) : undefined;
    if (value !== undefined && (LOG_FORMATS as readonly string[]).includes(value)) return value === 'json';
  }
  return logFormat() === 'json';
}

function report(thrown: unknown): number {
  const error = thrown instanceof RareMineError ? thrown : (fileErrorFrom(thrown) ?? thrown);
  const debug = program.opts<{ debug?: boolean }>().debug === true || process.env.RARE_MINE_DEBUG === '1';
  if (error instanceof CommanderError) {
    // commander printed its own message already (help, version, or a usage problem).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (jsonLogs()) return reportAsJson(error, debug);
  if (error instanceof RareMineError) {
    process.stderr.write(`rare-mine: ${error.message}\n`);
    if (error instanceof UsageError && !error.hint) process.stderr.write(`  (see \`${commandPath()} --help\`)\n`);
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

/** The error as one JSON line: the message, exit code, the error's kind, its file and line or path, its hint, and under --debug the stacks. */
function reportAsJson(error: unknown, debug: boolean): number {
  if (error instanceof RareMineError) {
    const hint = error.hint ?? (error instanceof UsageError ? `see \`${commandPath()} --help\`` : undefined);
    const cause = error.cause as Error | undefined;
    errorEvent(
      {
        exit_code: error.exitCode,
        error: error.name,
        ...(error instanceof InputError ? { file: error.file, ...(error.line === undefined ? {} : { line: error.line }) } : {}),
        ...(error instanceof FileError ? { path: error.path } : {}),
        ...(hint === undefined ? {} : { hint }),
        ...(debug ? { stack: error.stack, ...(cause ? { cause: cause.stack ?? String(cause) } : {}) } : {}),
      },
      error.message,
    );
    return error.exitCode;
  }
  const err = error as Error;
  errorEvent(
    { exit_code: 70, error: 'internal', ...(debug ? { stack: err?.stack } : { hint: 'run again with --debug for the stack trace, and report it' }) },
    `internal error: ${err?.message ?? String(error)}`,
  );
  return 70;
}

/** "rare-mine bm25" or "rare-mine index dense": the command the arguments name, for help pointers. */
function commandPath(): string {
  const words = ['rare-mine'];
  let command: Command = program;
  const args = process.argv.slice(2);
  for (const [i, arg] of args.entries()) {
    const sub = command.commands.find((c) => c.name() === arg);
    if (!sub) {
      if (arg.startsWith('-') || (i > 0 && /^--log-(level|format)$/.test(args[i - 1]))) continue;
      break;
    }
    words.push(arg);
    command = sub;
  }
  return words.join(' ');
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const cause = error instanceof CommanderError && (error as { cause?: unknown }).cause instanceof UsageError ? (error as { cause?: unknown }).cause : error;
  // Under a signal the work under way fails as its threads are released: the signal handler reports and exits
  // (128 + the signal's number), so no exit of this path may overtake it with another code.
  if (stoppingSignal() === undefined) {
    process.exitCode = report(cause);
    // Whatever the failed command left running must not keep the process alive: exit within 2 s at the latest
    // (unref: a process with nothing left running exits at once).
    setTimeout(() => process.exit(), 2000).unref();
  }
}
// Every way out (success or any error) releases what the run opened (src/run-scope.ts) and ends the process
// within about a second and a half, with the exit code set above (a signal's handler does both on its own).
if (stoppingSignal() === undefined) await endRun();
