/**
 * The retriever table (src/retrievers/retrievers.ts): the mining commands, `index <kind>` and `eval --retriever`
 * are generated from its rows; a fused kind fuses any list of kinds over one doc store, one weight per input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { RETRIEVER_NAMES, RETRIEVERS } from '../src/retrievers/retrievers.js';
import { openRetriever, type IndexDirOptions, type RetrieverKind } from '../src/retrievers/retriever-kind.js';
import { fusionOf, type FusionOptions } from '../src/retrievers/fusion.js';
import { register as registerMining } from '../src/commands/mine.js';
import { register as registerIndex } from '../src/commands/index-cmd.js';
import { register as registerEval } from '../src/commands/eval.js';
import { addFusionOptions, FILL_HELP } from '../src/cli/options.js';
import { parseWeights } from '../src/cli/option-spec.js';
import { UsageError } from '../src/errors.js';
import type { Candidate, CorpusView, Retriever } from '../src/retriever.js';
import type { CorpusSource } from '../src/corpus/corpus-source.js';

test('one mining command per row, in table order, with the row\'s summary and mining defaults', () => {
  const program = new Command();
  registerMining(program);
  assert.deepEqual(program.commands.map((c) => c.name()), RETRIEVER_NAMES);
  for (const kind of RETRIEVERS) {
    const command = program.commands.find((c) => c.name() === kind.name)!;
    assert.equal(command.summary(), kind.summary);
    assert.equal(command.description(), kind.description);
    const defaults = command.opts<{ minRank: number; maxRank?: number; sample: string }>();
    assert.deepEqual([defaults.minRank, defaults.maxRank, defaults.sample], [kind.mining.minRank, kind.mining.maxRank, kind.mining.sample]);
  }
});

test('index <kind> for each row with an index; eval offers every row and each of their options once', () => {
  const program = new Command();
  registerIndex(program);
  registerEval(program);
  const index = program.commands.find((c) => c.name() === 'index')!;
  assert.deepEqual(index.commands.map((c) => c.name()), RETRIEVERS.filter((k) => k.index).map((k) => k.name));
  const evalCommand = program.commands.find((c) => c.name() === 'eval')!;
  assert.deepEqual(evalCommand.options.find((o) => o.long === '--retriever')!.argChoices, RETRIEVER_NAMES);
  const longs = evalCommand.options.map((o) => o.long);
  assert.equal(new Set(longs).size, longs.length, 'no option declared twice');
  for (const kind of RETRIEVERS) {
    const scratch = new Command();
    kind.options(scratch);
    for (const option of scratch.options) assert.ok(longs.includes(option.long), `eval has ${kind.name}'s ${option.long}`);
  }
});

test('--rrf-weights: one weight per fused input, named in its metavar and message', () => {
  assert.deepEqual(parseWeights(['bm25', 'dense'])('1,0.5'), [1, 0.5]);
  assert.deepEqual(parseWeights(['a', 'b', 'c'])('1,0,2'), [1, 0, 2]);
  assert.throws(() => parseWeights(['a', 'b', 'c'])('1,1'), (e: Error) => e instanceof UsageError && e.message === '--rrf-weights must be three non-negative numbers "A,B,C", not all 0 (e.g. 1,0.5), got "1,1"');
  assert.throws(() => parseWeights(['a', 'b', 'c'])('0,0,0'), /not all 0/);
  const command = addFusionOptions(new Command(), ['a', 'b', 'c']);
  const option = command.options.find((o) => o.long === '--rrf-weights')!;
  assert.equal(option.flags, '--rrf-weights <a,b,c>');
  assert.deepEqual(option.defaultValue, [1, 1, 1]);
});

/** A toy kind whose retriever ranks the doc store's documents by the given scores; logs what happens. */
function toyKind(name: string, scores: number[], events: string[], options: { failOpen?: boolean; runsOut?: boolean } = {}): RetrieverKind<IndexDirOptions> {
  return {
    name,
    summary: name,
    description: name,
    mining: { minRank: 0, sample: 'top', fillHelp: FILL_HELP.dense },
    rankingRunsOut: options.runsOut ?? false,
    options: () => undefined,
    rebuildHint: () => `rebuild ${name}`,
    async prepare() {
      events.push(`prepare ${name}`);
      return async (docs) => {
        if (options.failOpen) throw new Error(`${name} cannot open`);
        events.push(`open ${name}`);
        return toyRetriever(name, docs, scores, events);
      };
    },
  };
}

function toyRetriever(name: string, corpus: CorpusView, scores: number[], events: string[]): Retriever {
  const ranking: Candidate[] = scores.map((score, docOrdinal) => ({ docOrdinal, score })).filter((c) => c.score > 0).sort((x, y) => y.score - x.score || x.docOrdinal - y.docOrdinal);
  return {
    name,
    corpus,
    search: async (queries, k) => queries.map(() => ranking.slice(0, k)),
    scoreDocuments: async (_q, ordinals) => ordinals.map((o) => scores[o]),
    scoreTexts: async (_q, texts) => texts.map(() => 0),
    describe: () => ({ toy: name }),
    close: () => void events.push(`close ${name}`),
  };
}

const texts = ['alpha', 'beta', 'gamma', 'delta'];
const source: CorpusSource = {
  description: 'four toy documents',
  fingerprint: 'toy-corpus-v1',
  async *documents() {
    for (const [i, text] of texts.entries()) yield { id: `d${i}`, title: '', text };
  },
};
const fusionOptions = (weights: number[]): FusionOptions => ({ indexDir: mkdtempSync(join(tmpdir(), 'rare-mine-fusion-')), rebuild: false, threads: 1, rrfK: 60, rrfWeights: weights, fusionDepth: 10 });

test('a fused kind fuses any number of inputs over one doc store, each with its weight', async () => {
  const events: string[] = [];
  const inputs = [toyKind('a', [3, 2, 1, 0], events), toyKind('b', [0, 0, 2, 3], events), toyKind('c', [1, 0, 0, 0], events, { runsOut: true })];
  const kind = fusionOf<FusionOptions>({ name: 'abc', summary: '', description: '', mining: inputs[0].mining, inputs, options: () => undefined });
  assert.equal(kind.rankingRunsOut, false, 'fused with rankings that cover the corpus, the fused one does too');
  const retriever = await openRetriever(kind, source, fusionOptions([1, 0.5, 2]), 'mine');
  assert.deepEqual(events, ['prepare a', 'prepare b', 'prepare c', 'open a', 'open b', 'open c'], 'every input prepared (fail fast) before any opens');
  const [fused] = await retriever.search(['q'], 4);
  // RRF: a ranks d0,d1,d2; b ranks d3,d2; c ranks d0 — weights 1, 0.5, 2.
  const expected = new Map([
    [0, 1 / 61 + 2 / 61],
    [1, 1 / 62],
    [2, 1 / 63 + 0.5 / 62],
    [3, 0.5 / 61],
  ]);
  assert.deepEqual(fused.map((c) => c.docOrdinal), [...expected.entries()].sort((x, y) => y[1] - x[1]).map(([doc]) => doc));
  for (const c of fused) assert.ok(Math.abs(c.score - expected.get(c.docOrdinal)!) < 1e-12);
  assert.equal(retriever.corpus.text(3), 'delta', 'the inputs read the doc store built from the source');
  assert.deepEqual(retriever.describe(), { rrf_k: 60, rrf_weights: '1,0.5,2', fusion_depth: 10, 'a.toy': 'a', 'b.toy': 'b', 'c.toy': 'c' });
  await retriever.close();
  assert.deepEqual(events.slice(-3), ['close c', 'close b', 'close a']);
});

test('a fused kind whose input fails to open closes the inputs already opened', async () => {
  const events: string[] = [];
  const inputs = [toyKind('a', [1, 0, 0, 0], events, { runsOut: true }), toyKind('b', [0, 1, 0, 0], events, { failOpen: true, runsOut: true })];
  const kind = fusionOf<FusionOptions>({ name: 'ab', summary: '', description: '', mining: inputs[0].mining, inputs, options: () => undefined });
  assert.equal(kind.rankingRunsOut, true, 'every input runs out: so does the fusion');
  await assert.rejects(openRetriever(kind, source, fusionOptions([1, 1]), 'mine'), /b cannot open/);
  assert.deepEqual(events, ['prepare a', 'prepare b', 'open a', 'close a']);
});
