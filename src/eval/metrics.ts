/**
 * Ranking metrics with trec_eval's definitions (as BEIR/pytrec_eval report them):
 *  - nDCG@k (ndcg_cut_k): gain = the judged relevance grade, discount log2(rank + 1); ideal DCG from all
 *    judged-relevant documents of the query sorted by grade.
 *  - Recall@k (recall_k): relevant documents in the top k / all relevant documents (grade > 0).
 *  - MRR@k (recip_rank cut at k): 1 / rank of the first relevant document in the top k, else 0.
 * Averages are over the queries that have judgments. The ranking is taken as given (best first).
 */

/** query id → (doc id → relevance grade). */
export type Qrels = Map<string, Map<string, number>>;

export function ndcgAt(ranking: readonly string[], judged: Map<string, number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranking.length); i++) {
    const grade = judged.get(ranking[i]) ?? 0;
    if (grade > 0) dcg += grade / Math.log2(i + 2);
  }
  const ideal = [...judged.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

export function recallAt(ranking: readonly string[], judged: Map<string, number>, k: number): number {
  let relevant = 0;
  for (const grade of judged.values()) if (grade > 0) relevant++;
  if (relevant === 0) return 0;
  let found = 0;
  for (let i = 0; i < Math.min(k, ranking.length); i++) if ((judged.get(ranking[i]) ?? 0) > 0) found++;
  return found / relevant;
}

export function mrrAt(ranking: readonly string[], judged: Map<string, number>, k: number): number {
  for (let i = 0; i < Math.min(k, ranking.length); i++) if ((judged.get(ranking[i]) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

export interface EvalScores {
  'ndcg@10': number;
  'recall@100': number;
  'mrr@10': number;
  queries: number;
}

/** Mean metrics over the queries in `rankings` that have judgments. */
export function evaluate(rankings: Map<string, string[]>, qrels: Qrels): EvalScores {
  let ndcg = 0;
  let recall = 0;
  let mrr = 0;
  let queries = 0;
  for (const [queryId, ranking] of rankings) {
    const judged = qrels.get(queryId);
    if (!judged || ![...judged.values()].some((g) => g > 0)) continue;
    ndcg += ndcgAt(ranking, judged, 10);
    recall += recallAt(ranking, judged, 100);
    mrr += mrrAt(ranking, judged, 10);
    queries++;
  }
  const mean = (sum: number) => (queries === 0 ? 0 : sum / queries);
  return { 'ndcg@10': mean(ndcg), 'recall@100': mean(recall), 'mrr@10': mean(mrr), queries };
}
