/**
 * A fused retriever kind: any list of retriever kinds over one doc store, their rankings fused by weighted
 * reciprocal rank fusion (src/hybrid/hybrid-retriever.ts), one --rrf-weights entry per input, in input order.
 * What must hold: every input reads the same doc store (so ordinals agree); inputs are prepared (fail fast) and
 * opened in list order; an input that fails to open closes those already opened.
 */
import { HybridRetriever } from '../hybrid/hybrid-retriever.js';
import type { Retriever } from '../retriever.js';
import type { IndexDirOptions, MiningDefaults, OpenOver, RetrieverKind } from './retriever-kind.js';
import type { Command } from 'commander';

export interface FusionOptions extends IndexDirOptions {
  rrfK: number;
  /** One weight per input, in input order (checked by cli/options.ts parseWeights). */
  rrfWeights: number[];
  fusionDepth: number;
}

export interface FusionSpec<O extends FusionOptions> {
  name: string;
  summary: string;
  description: string;
  mining: MiningDefaults;
  /** The fused kinds, in --rrf-weights order. */
  inputs: ReadonlyArray<RetrieverKind<O>>;
  /** Every option of the inputs and the fusion's own (cli/options.ts addFusionOptions), in --help order. */
  options(command: Command): void;
}

/** The kind fusing `spec.inputs` (no `index` command of its own: each input's index is built by its own). */
export function fusionOf<O extends FusionOptions>(spec: FusionSpec<O>): RetrieverKind<O> {
  const { inputs } = spec;
  return {
    name: spec.name,
    summary: spec.summary,
    description: spec.description,
    mining: spec.mining,
    // Fused with a ranking that covers the corpus, the fused ranking does too.
    rankingRunsOut: inputs.every((input) => input.rankingRunsOut),
    options: spec.options,
    rebuildHint: (options) => inputs[0].rebuildHint(options),
    async prepare(options, purpose, queries): Promise<OpenOver> {
      const openers: OpenOver[] = [];
      for (const input of inputs) openers.push(await input.prepare(options, purpose, queries));
      return async (docs, indexDir) => {
        const engines: Retriever[] = [];
        try {
          for (const open of openers) engines.push(await open(docs, indexDir));
        } catch (error) {
          for (const engine of engines.reverse()) await engine.close();
          throw error;
        }
        return new HybridRetriever(engines, { rrfK: options.rrfK, weights: options.rrfWeights, fusionDepth: options.fusionDepth });
      };
    },
  };
}
