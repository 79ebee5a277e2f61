/**
 * `rare-mine models prepare NAME` and `rare-mine models list`: make a built-in model ready offline
 * (convert it into the cache) and show which models are on this machine and where. Data goes to stdout
 * (one line per model, or JSON lines with --json); conversion progress goes to the log on stderr.
 */
import type { Command } from 'commander';
import { addModelsListOptions, addModelsPrepareOptions } from '../cli/options.js';
import { UsageError } from '../errors.js';
import { BUILT_IN_MODELS, listLocalModels, type LocalModel } from '../models/registry.js';

/** Where command output goes; process.stdout unless a test passes its own. */
export interface TextOutput {
  write(text: string): unknown;
}

/** Options of {@link modelsPrepare}. */
export interface ModelsPrepareOptions {
  /** Convert again even if the cached conversion is current (`--force`). Default false. */
  force?: boolean;
  /** rare-mine cache root (`--cache-dir`). Default: $RARE_MINE_CACHE_DIR, else $XDG_CACHE_HOME/rare-mine, else ~/.cache/rare-mine. */
  cacheDir?: string;
  /** Print one JSON object instead of a text line (`--json`). Default false. */
  json?: boolean;
  out?: TextOutput;
}

/** Options of {@link modelsList}. */
export interface ModelsListOptions {
  /** Print JSON lines instead of an aligned table (`--json`). Default false. */
  json?: boolean;
  /** Environment the cache locations are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  out?: TextOutput;
}

/** The names `models prepare` accepts, for help texts and error messages. */
export function preparableModelNames(): string[] {
  return [...BUILT_IN_MODELS.keys()];
}

/** Prepare built-in model `name`; prints `name<TAB>dir<TAB>converted|current`. */
export async function modelsPrepare(name: string, options: ModelsPrepareOptions = {}): Promise<void> {
  const model = BUILT_IN_MODELS.get(name);
  if (model === undefined) {
    throw new UsageError(`no built-in model called "${name}"`, { hint: `models that can be prepared: ${preparableModelNames().join(', ')}` });
  }
  const result = await model.prepare({ cacheDir: options.cacheDir, force: options.force ?? false });
  const out = options.out ?? process.stdout;
  if (options.json) out.write(`${JSON.stringify({ name, dir: result.dir, converted: result.converted })}\n`);
  else out.write(`${name}\t${result.dir}\t${result.converted ? 'converted' : 'current'}\n`);
}

function tableLines(models: LocalModel[]): string[] {
  const header = ['NAME', 'READY', 'KIND', 'PATH', 'NOTE'];
  const rows = models.map((m) => [m.name, m.ready ? 'yes' : 'no', m.kind, m.path, m.note]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** List the models found locally (see listLocalModels), as a table or JSON lines. */
export async function modelsList(options: ModelsListOptions = {}): Promise<void> {
  const models = listLocalModels({ env: options.env });
  const out = options.out ?? process.stdout;
  const lines = options.json ? models.map((m) => JSON.stringify(m)) : tableLines(models);
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  const models = program.command('models').summary('prepare built-in models and list local ones');
  const prepare = models
    .command('prepare')
    .description(`Make a built-in model ready offline (converted into the cache). Built-in: ${preparableModelNames().join(', ')}.`)
    .argument('<name>', `model to prepare: ${preparableModelNames().join(', ')}`);
  addModelsPrepareOptions(prepare).action(async (name: string, options: ModelsPrepareOptions) => modelsPrepare(name, options));
  const list = models.command('list').description('List the models found on this machine (built-in conversions, $RARE_MINE_MODELS, the Hugging Face cache) and where.');
  addModelsListOptions(list).action(async (options: ModelsListOptions) => modelsList(options));
}
