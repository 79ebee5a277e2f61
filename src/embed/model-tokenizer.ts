/**
 * Tokenization for embedding models: a model's `tokenizer.json` run by @huggingface/tokenizers, plus the
 * truncation and padding that library leaves out. Invariants: a text longer than `maxLength` tokens keeps
 * its first tokens and its trailing special tokens ([SEP], </s>), as Hugging Face truncation does; the ids of
 * a text never depend on the other texts in its batch.
 * Speed trick: a long text is tokenized from a prefix cut at whitespace, grown until it yields more tokens
 * than fit, so a 50 kB document costs about as much as a 2 kB one.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from '../errors.js';

/** Token ids of one text, special tokens included, at most maxLength long. */
export interface TokenizedText {
  ids: Int32Array;
  /** True when the text had more tokens than maxLength. */
  truncated: boolean;
}

/** Model inputs for one batch, row-major [batchSize, sequenceLength], padded with the pad id. */
export interface PaddedBatch {
  batchSize: number;
  sequenceLength: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** Sum of the real lengths (attention mask ones). */
  realTokens: number;
}

/** A first guess of characters per token for the prefix cut; a wrong guess costs time, never correctness. */
const CHARS_PER_TOKEN_GUESS = 6;
/** A word probe used to find which special tokens the post-processor puts before and after a sequence. */
const PROBE_TEXT = 'probe';

/** A model's tokenizer with truncation to maxLength and padding (see the module header). */
export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Special-token ids the post-processor puts before the text ([CLS], <s>). */
  readonly leadingIds: Int32Array;
  /** Special-token ids the post-processor puts after the text ([SEP], </s>). */
  readonly trailingIds: Int32Array;
  /** The pad token id (from the tokenizer's padding config, else [PAD]/<pad>, else 0). */
  readonly padId: number;

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param tokenizerConfig parsed tokenizer_config.json ({} when the model has none)
   * @param maxLength most tokens per text, special tokens included (the model's max_seq_length); at least
   *   the number of special tokens + 1.
   */
  constructor(
    tokenizerJson: object,
    tokenizerConfig: object,
    readonly maxLength: number,
  ) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (cause) {
      throw new ModelError(`tokenizer.json cannot be loaded: ${(cause as Error).message}`, { cause });
    }
    const withSpecials = this.tokenizer.encode(PROBE_TEXT).ids;
    const body = this.tokenizer.encode(PROBE_TEXT, { add_special_tokens: false }).ids;
    const at = findSubsequence(withSpecials, body);
    if (body.length === 0 || at < 0) {
      throw new ModelError('tokenizer.json: cannot tell where its post-processor puts special tokens');
    }
    this.leadingIds = Int32Array.from(withSpecials.slice(0, at));
    this.trailingIds = Int32Array.from(withSpecials.slice(at + body.length));
    const specials = this.leadingIds.length + this.trailingIds.length;
    if (!Number.isInteger(maxLength) || maxLength <= specials) {
      throw new ModelError(`max length ${maxLength} leaves no room for text next to ${specials} special tokens`);
    }
    this.padId = padTokenId(tokenizerJson, this.tokenizer);
  }

  /** Most text tokens (special tokens excluded) a sequence can hold. */
  get maxBodyTokens(): number {
    return this.maxLength - this.leadingIds.length - this.trailingIds.length;
  }

  /** Token ids of `text` with special tokens, truncated to maxLength keeping the trailing specials. */
  encode(text: string): TokenizedText {
    const maxBody = this.maxBodyTokens;
    let body: number[] | undefined;
    // Tokenize a whitespace-cut prefix first; accept it once it overflows maxBody by at least one token,
    // since then the first maxBody tokens are those of the whole text (no word straddles the cut).
    for (let chars = maxBody * CHARS_PER_TOKEN_GUESS; chars < text.length; chars *= 2) {
      const cut = lastWhitespaceBefore(text, chars);
      if (cut <= 0) break;
      const ids = this.tokenizer.encode(text.slice(0, cut), { add_special_tokens: false }).ids;
      if (ids.length > maxBody) {
        body = ids;
        break;
      }
    }
    const bodyIds = body ?? this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const truncated = bodyIds.length > maxBody;
    const bodyLength = Math.min(bodyIds.length, maxBody);
    const ids = new Int32Array(this.leadingIds.length + bodyLength + this.trailingIds.length);
    ids.set(this.leadingIds, 0);
    for (let i = 0; i < bodyLength; i++) ids[this.leadingIds.length + i] = bodyIds[i];
    ids.set(this.trailingIds, this.leadingIds.length + bodyLength);
    return { ids, truncated };
  }

  /** Pad sequences to the longest one: ids with padId, attention mask 0 and token type 0 in the padding. */
  pad(sequences: readonly Int32Array[]): PaddedBatch {
    const batchSize = sequences.length;
    let sequenceLength = 0;
    let realTokens = 0;
    for (const ids of sequences) {
      sequenceLength = Math.max(sequenceLength, ids.length);
      realTokens += ids.length;
    }
    const inputIds = new BigInt64Array(batchSize * sequenceLength);
    const attentionMask = new BigInt64Array(batchSize * sequenceLength);
    const tokenTypeIds = new BigInt64Array(batchSize * sequenceLength);
    const pad = BigInt(this.padId);
    for (let row = 0; row < batchSize; row++) {
      const ids = sequences[row];
      const base = row * sequenceLength;
      for (let i = 0; i < ids.length; i++) {
        inputIds[base + i] = BigInt(ids[i]);
        attentionMask[base + i] = 1n;
      }
      if (pad !== 0n) inputIds.fill(pad, base + ids.length, base + sequenceLength);
    }
    return { batchSize, sequenceLength, inputIds, attentionMask, tokenTypeIds, realTokens };
  }
}

function findSubsequence(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let i = 0; i < needle.length; i++) if (haystack[start + i] !== needle[i]) continue outer;
    return start;
  }
  return -1;
}

/** Index of the last whitespace character before `limit` (the cut point), or -1 when there is none. */
function lastWhitespaceBefore(text: string, limit: number): number {
  for (let i = Math.min(limit, text.length - 1); i > 0; i--) {
    const code = text.charCodeAt(i);
    if (code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d) return i;
  }
  return -1;
}

function padTokenId(tokenizerJson: object, tokenizer: Tokenizer): number {
  const padding = (tokenizerJson as { padding?: { pad_id?: unknown } | null }).padding;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  for (const token of ['[PAD]', '<pad>']) {
    const id = tokenizer.token_to_id(token);
    if (id !== undefined) return id;
  }
  return 0;
}
