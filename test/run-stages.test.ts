/**
 * The stages of a mining run (src/run/) called in this process, without the binary: the plan refuses what cannot
 * work before anything is opened; a run stopped after its stream stage is resumed from a journal checkpoint to the
 * same bytes as a run in one go; with off-thread search, rejections of lines read ahead are held back, so no
 * checkpoint's rejects bytes name a line after it. Options come from the registered command's parser, so every
 * default is the command line's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { register } from '../src/commands/mine.js';
import { RETRIEVERS } from '../src/retrievers/retrievers.js';
import type { IndexDirOptions, RetrieverKind } from '../src/retrievers/retriever-kind.js';
import type { MineCommandOptions } from '../src/run/mine-options.js';
import { planStart } from '../src/run/plan-start.js';
import { openRun, type OpenRun } from '../src/run/open-run.js';
import { mineStream, type StreamOutcome } from '../src/run/mine-stream.js';
import { finishOutput } from '../src/run/finish-output.js';
import { setActiveOutput } from '../src/terminal/signals.js';
import { repoRoot } from './helpers/shared-data.js';

type Options = MineCommandOptions & IndexDirOptions;
const bm25 = RETRIEVERS.find((kind) => kind.name === 'bm25') as unknown as RetrieverKind<IndexDirOptions>;
const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

/** The input and options `rare-mine bm25 ARGS` would run with (parsed by the registered command, not run). */
async function parseBm25(args: string[]): Promise<{ input: string | undefined; options: Options }> {
  const program = new Command().exitOverride();
  register(program);
  const command = program.commands.find((c) => c.name() === 'bm25')!;
  let parsed: { input: string | undefined; options: Options } | undefined;
  command.action((input: string | undefined, options: Options) => {
    parsed = { input, options };
  });
  await program.parseAsync(['bm25', ...args], { from: 'user' });
  return parsed!;
}

/** Plan, open and mine the stream; finish the output only when `finish` (else the partial and journal stay, as after a kill). */
async function runStages(input: string, options: Options, finish: boolean): Promise<{ run: OpenRun; mined: StreamOutcome }> {
  const plan = planStart(input, options);
  const run = await openRun(plan, options, bm25, { started: Date.now(), times: {} });
  try {
    const mined = await mineStream(plan, run, options, undefined);
    if (finish) await finishOutput(plan, run, options, mined, undefined);
    else await run.sink.detach();
    return { run, mined };
  } finally {
    setActiveOutput(undefined);
    await run.retriever.close();
  }
}

function journalLines(output: string): Array<Record<string, number>> {
  return readFileSync(`${output}.partial.journal`, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

test('plan: --shard and --resume refuse stdin, and --resume refuses a missing -o, before anything is opened', async () => {
  const { options } = await parseBm25(['--shard', '0/2']);
  assert.throws(() => planStart(undefined, options), (error: unknown) => error instanceof UsageError && /--shard needs an input file/.test(error.message));
  assert.throws(() => planStart('-', options), UsageError);
  const resume = await parseBm25(['--resume', fixture]);
  assert.throws(() => planStart(resume.input, resume.options), (error: unknown) => error instanceof UsageError && /--resume needs an input file and -o FILE/.test(error.message));
  const plain = await parseBm25([fixture]);
  const plan = planStart(plain.input, plain.options);
  assert.deepEqual(plan.range, { startByte: 0, startLine: 1 });
  assert.equal(plan.journal, undefined, 'no -o: no journal');
});

test('a run stopped after its stream is resumed from a journal checkpoint to the bytes of a run in one go', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-run-stages-'));
  try {
    const input = join(dir, 'in.jsonl');
    copyFileSync(fixture, input);
    const whole = join(dir, 'whole.jsonl');
    const common = ['--num-neg', '2', '--batch-size', '8', '--threads', '1', input];
    const once = await parseBm25([...common, '-o', whole]);
    const done = await runStages(once.input!, once.options, true);
    assert.equal(done.mined.written, 40);

    const output = join(dir, 'out.jsonl');
    const first = await parseBm25([...common, '-o', output]);
    await runStages(first.input!, first.options, false);
    assert.ok(existsSync(`${output}.partial`) && !existsSync(output), 'the stream stage leaves the partial, not the output');
    // Keep the header, the start and two batch checkpoints: as if the run had been killed after 16 records.
    const kept = journalLines(output).slice(0, 4);
    assert.equal(kept[3].recordsOut, 16);
    writeFileSync(`${output}.partial.journal`, kept.map((entry) => JSON.stringify(entry) + '\n').join(''));

    const again = await parseBm25([...common, '-o', output, '--resume']);
    const plan = planStart(again.input, again.options);
    assert.ok(plan.previous, 'the plan found the journal to continue');
    const run = await openRun(plan, again.options, bm25, { started: Date.now(), times: {} });
    try {
      assert.equal(run.resumed?.checkpoint.recordsOut, 16);
      assert.equal(run.range.startLine, kept[3].inputLine, 'the input continues at the checkpoint');
      const mined = await mineStream(plan, run, again.options, undefined);
      assert.equal(mined.written, 40);
      await finishOutput(plan, run, again.options, mined, undefined);
    } finally {
      setActiveOutput(undefined);
      await run.retriever.close();
    }
    assert.equal(readFileSync(output, 'utf8'), readFileSync(whole, 'utf8'));
    assert.ok(!existsSync(`${output}.partial.journal`), 'the journal is removed when the output is committed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('off-thread search: rejections of lines read ahead are held back, so every checkpoint counts only rejects before it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-run-stages-'));
  try {
    const input = join(dir, 'in.jsonl');
    const lines = readFileSync(fixture, 'utf8').split('\n').filter(Boolean);
    // A bad line after every third record: some are read while the batch before them is still being searched.
    writeFileSync(input, lines.flatMap((line, i) => (i % 3 === 2 ? [line, `not json ${i}`] : [line])).join('\n') + '\n');
    const output = join(dir, 'out.jsonl');
    const rejects = join(dir, 'rejects.jsonl');
    const { options } = await parseBm25(['--num-neg', '2', '--batch-size', '4', '--threads', '2', '--on-error', 'skip', '--rejects', rejects, '-o', output, input]);
    const { run, mined } = await runStages(input, options, false);
    assert.equal(run.retriever.searchesOffThread, true, 'two threads search off this thread (the read-ahead path)');
    assert.equal(mined.written, 40);
    assert.equal(run.policy.rejected, 13);
    const rejectsText = readFileSync(rejects, 'utf8');
    const rejectLines = (bytes: number) => Buffer.from(rejectsText).subarray(0, bytes).toString().split('\n').filter(Boolean).map((line) => JSON.parse(line).line as number);
    const checkpoints = journalLines(output).slice(1).filter((entry) => entry.inputLine > 0);
    assert.ok(checkpoints.length >= 10, `a checkpoint per batch (${checkpoints.length})`);
    for (const checkpoint of checkpoints) {
      const before = rejectLines(checkpoint.rejectsBytes);
      assert.ok(before.every((line) => line < checkpoint.inputLine), `checkpoint at line ${checkpoint.inputLine} counts rejects ${before.join(',')}`);
      const all = rejectLines(Infinity);
      assert.deepEqual(before, all.filter((line) => line < checkpoint.inputLine), `every reject before line ${checkpoint.inputLine} is counted`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
