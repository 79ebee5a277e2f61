/**
 * The SentencePiece Unigram tokenizer of Universal Sentence Encoder lite: NFKC, "▁" for every space and
 * one in front, then the Viterbi path of highest total piece score over the pieces of vocab.json
 * (Kudo 2018, "Subword Regularization", §3). What must hold: ids are exactly those of the package's own
 * tokenizer (@energetic-ai/embeddings, itself TF.js's universal-sentence-encoder tokenizer), including its
 * quirks, because the model was only ever fed those:
 *   - the first 6 pieces (�, <s>, </s>, extra tokens) are never matched; a character no piece starts with
 *     becomes id 0 with score 0, and runs of id 0 collapse into one;
 *   - a position no piece ends at keeps best score 0, which later paths then prefer (scores are ≤ 0);
 *   - on equal scores the piece that starts later wins;
 *   - only U+0020 becomes "▁" (tabs and newlines stay as they are);
 *   - a piece listed twice keeps its last id and score;
 *   - a null score (vocab.json has seven, all pieces with ":") counts as 0, as `null + x` does in JS.
 * Speed: the package walks `symbols.slice(i)` for every position (quadratic copying); this walks the trie
 * in place, so a text costs O(length × longest piece).
 */
import { ModelError } from '../../errors.js';

/** vocab.json: `[piece, score]` pairs; the index is the id. */
export type UnigramVocabulary = ReadonlyArray<readonly [string, number]>;

/** Pieces at the start of the vocabulary that are never produced by matching. */
export const RESERVED_PIECE_COUNT = 6;
/** The id of an unmatched character. */
export const UNKNOWN_PIECE_ID = 0;
const WORD_START = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Id of the piece ending here, or −1. */
  id: number;
  score: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1, score: 0 };
}

/** The package's input normalisation: NFKC, then "▁" before the text and in place of every space. */
export function normalizeForUseLite(text: string): string {
  const normalized = text.normalize('NFKC');
  return normalized.length > 0 ? WORD_START + normalized.replace(/ /g, WORD_START) : normalized;
}

/** Unigram tokenizer over a USE-lite vocabulary. */
export class UseLiteTokenizer {
  private readonly root = newNode();
  /** UTF-16 length of each piece: the package steps back by it when reading the best path. */
  private readonly pieceLengths: Int32Array;

  constructor(readonly vocabulary: UnigramVocabulary) {
    if (vocabulary.length <= RESERVED_PIECE_COUNT) throw new ModelError(`USE-lite vocabulary has only ${vocabulary.length} pieces`);
    this.pieceLengths = Int32Array.from(vocabulary, ([piece]) => piece.length);
    for (let id = RESERVED_PIECE_COUNT; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      let node = this.root;
      for (const symbol of piece) {
        let child = node.children.get(symbol);
        if (child === undefined) {
          child = newNode();
          node.children.set(symbol, child);
        }
        node = child;
      }
      if (node !== this.root) {
        node.id = id;
        node.score = score;
      }
    }
  }

  /** Parse vocab.json's text; refuses anything that is not `[[string, number], ...]`. */
  static fromJson(text: string, source: string): UseLiteTokenizer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ModelError(`${source} is not JSON`, { cause });
    }
    const isEntry = (e: unknown) => Array.isArray(e) && typeof e[0] === 'string' && (typeof e[1] === 'number' || e[1] === null);
    if (!Array.isArray(parsed) || !parsed.every(isEntry)) {
      throw new ModelError(`${source} is not a list of [piece, score] pairs`);
    }
    return new UseLiteTokenizer((parsed as Array<[string, number | null]>).map(([piece, score]) => [piece, score ?? 0] as const));
  }

  /** Number of pieces (ids run 0..size-1). */
  get size(): number {
    return this.vocabulary.length;
  }

  /** Piece ids of `text`, unclipped (the model reads only the first 128). */
  encode(text: string): number[] {
    const symbols = Array.from(normalizeForUseLite(text));
    const length = symbols.length;
    if (length === 0) return [];
    // Forward Viterbi. The package first collects every piece by end position and then scores, per end,
    // the pieces in increasing start order; relaxing each piece as it is found while starts increase visits
    // them in that same order (and best[start] is final by then), so even the order-dependent comparison
    // below gives the same path without storing the lattice.
    const best = new Float64Array(length + 1);
    const bestId = new Int32Array(length + 1);
    for (let start = 0; start < length; start++) {
      const base = best[start]!;
      let node = this.root.children.get(symbols[start]!);
      let matched = false;
      for (let end = start + 1; node !== undefined; end++) {
        if (node.id >= 0) {
          const score = node.score + base;
          if (best[end] === 0 || score >= best[end]!) {
            best[end] = score;
            bestId[end] = node.id;
          }
          matched = true;
        }
        node = end < length ? node.children.get(symbols[end]!) : undefined;
      }
      if (!matched && (best[start + 1] === 0 || base >= best[start + 1]!)) {
        best[start + 1] = base;
        bestId[start + 1] = UNKNOWN_PIECE_ID;
      }
    }

    const reversed: number[] = [];
    let previousUnknown = false;
    for (let at = length; at > 0; at -= this.pieceLengths[bestId[at]!]!) {
      const id = bestId[at]!;
      if (!(previousUnknown && id === UNKNOWN_PIECE_ID)) reversed.push(id);
      previousUnknown = id === UNKNOWN_PIECE_ID;
    }
    return reversed.reverse();
  }
}
