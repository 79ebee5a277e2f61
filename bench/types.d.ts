// Types for the untyped npm peers the BM25 benchmark drives (only what bench/ uses).
declare module 'wink-bm25-text-search' {
  interface WinkBm25Config {
    fldWeights: Record<string, number>;
    bm25Params?: { k1?: number; b?: number; k?: number };
    ovFldNames?: string[];
  }
  interface WinkBm25Engine {
    defineConfig(config: WinkBm25Config): boolean;
    definePrepTasks(tasks: Array<(input: any) => any>, field?: string): number;
    addDoc(doc: Record<string, string>, id: number | string): number;
    consolidate(fp?: number): boolean;
    /** `[id, score]` pairs, best first. */
    search(text: string, limit?: number): Array<[string, number]>;
  }
  const bm25: () => WinkBm25Engine;
  export default bm25;
}
declare module 'wink-nlp-utils' {
  interface WordsFilter {
    set(): Set<string>;
    exclude(word: string): boolean;
  }
  const nlp: {
    string: { lowerCase(text: string): string; tokenize0(text: string): string[] };
    tokens: { removeWords(tokens: string[], stopWords?: WordsFilter): string[]; stem(tokens: string[]): string[] };
    helper: { words(words: readonly string[]): WordsFilter };
  };
  export default nlp;
}
