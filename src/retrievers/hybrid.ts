/**
 * The hybrid retriever kind: the BM25 and dense rankings of one doc store fused by reciprocal rank fusion
 * (src/retrievers/fusion.ts), mined with the same stage as every retriever. Scores are RRF scores.
 */
import { addBm25Options, addDenseOptions, addFusionOptions, FILL_HELP } from '../cli/options.js';
import { bm25, type Bm25Options } from './bm25.js';
import { dense, type DenseOptions } from './dense.js';
import { fusionOf, type FusionOptions } from './fusion.js';

export interface HybridOptions extends DenseOptions, Bm25Options, FusionOptions {}

const INPUTS = [bm25, dense];

export const hybrid = fusionOf<HybridOptions>({
  name: 'hybrid',
  summary: 'mine hard negatives from BM25 and dense rankings fused by reciprocal rank fusion',
  description:
    'Mine hard negatives from the reciprocal rank fusion (RRF, k=60) of a BM25 and a dense ranking. ' +
    'Defaults: --min-rank 10 --max-rank 110 --sample random, as for dense. Scores are RRF scores.',
  mining: { minRank: 10, maxRank: 110, sample: 'random', fillHelp: FILL_HELP.dense },
  inputs: INPUTS,
  options(command) {
    // --lang is declared once, by the dense group, and picks both the analyzer and the default model.
    addDenseOptions(command, { langHelp: 'language: the BM25 analyzer and the default dense model' });
    addBm25Options(command, { lang: false });
    addFusionOptions(command, INPUTS.map((input) => input.name));
  },
});
