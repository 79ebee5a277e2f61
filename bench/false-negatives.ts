/**
 * Measured false-negative rate (issue 4): on CACM (about 15 judged-relevant documents per query), give each
 * judged query ONE relevant document as its positive and count how many mined negatives are OTHER judged-relevant
 * documents — known false negatives. Runs the built CLI for each retriever and setting; prints one JSON object
 * and a Markdown table.
 * Usage: node dist/bench/false-negatives.js [--retrievers bm25,dense,hybrid] [--num-neg 10] [--data DIR]
 *        [--model use-lite] [--rescore-model DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repoRoot, 'bin', 'rare-mine.js');
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const data = flag('--data', resolve(repoRoot, '..', 'shared', 'data', 'cacm'));
const retrievers = flag('--retrievers', 'bm25').split(',');
const numNeg = flag('--num-neg', '10');
const model = flag('--model', 'use-lite');
const rescoreModel = process.argv.includes('--rescore-model') ? flag('--rescore-model', '') : undefined;

const work = mkdtempSync(join(tmpdir(), 'rare-mine-fn-'));
// CACM's qrels name some documents without zero padding ("CACM-115" for the corpus's "CACM-0115"): compare ids
// in a canonical form so those judgments count.
const canonical = (id: string) => id.replace(/-0+(\d)/, '-$1');
const corpusIds = new Set(readFileSync(join(data, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)._id as string));
const corpusIdOf = new Map([...corpusIds].map((id) => [canonical(id), id]));
const relevant = new Map<string, Set<string>>();
for (const line of readFileSync(join(data, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(1)) {
  const [q, d, grade] = line.split('\t');
  if (Number(grade) <= 0) continue;
  if (!relevant.has(q)) relevant.set(q, new Set());
  relevant.get(q)!.add(canonical(d));
}
const queries = readFileSync(join(data, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const input = join(work, 'input.jsonl');
const judged = queries.filter((q) => relevant.has(q._id));
writeFileSync(input, judged.map((q) => JSON.stringify({ _id: q._id, question: q.text, pos: corpusIdOf.get([...relevant.get(q._id)!].sort()[0]) })).join('\n') + '\n');

interface Row {
  retriever: string;
  min_rank: number;
  filter: string;
  negatives: number;
  false_negatives: number;
  rate: number;
  short_records: number;
}

const rows: Row[] = [];
const settings: Array<{ minRank: number; filter: string; args: string[] }> = [
  { minRank: 0, filter: 'none', args: [] },
  { minRank: 0, filter: 'max-score-ratio 0.95', args: ['--max-score-ratio', '0.95'] },
  { minRank: 10, filter: 'none', args: [] },
  { minRank: 10, filter: 'max-score-ratio 0.95', args: ['--max-score-ratio', '0.95'] },
];
if (rescoreModel) {
  settings.push({ minRank: 0, filter: 'rescore + max-score-ratio 0.95', args: ['--rescore-model', rescoreModel, '--max-score-ratio', '0.95'] });
}
for (const retriever of retrievers) {
  const indexDir = join(work, `idx-${retriever}`);
  for (const setting of settings) {
    const args = [
      retriever, '--corpus', join(data, 'corpus.jsonl'), '--index-dir', indexDir, '--positive-ids-key', 'pos', '--with-ids',
      '--num-neg', numNeg, '--min-rank', String(setting.minRank), '--sample', 'top', '--fill', 'none', '--log-level', 'warn',
      ...(retriever === 'bm25' ? [] : ['--model', model]),
      ...setting.args, input,
    ];
    const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`${retriever} ${setting.filter}: ${run.stderr}`);
    let negatives = 0;
    let falseNegatives = 0;
    let short = 0;
    for (const line of run.stdout.trim().split('\n')) {
      const record = JSON.parse(line);
      const ids: string[] = record.hard_negatives_ids;
      negatives += ids.length;
      if (ids.length < Number(numNeg)) short++;
      falseNegatives += ids.filter((id) => relevant.get(record._id)!.has(canonical(id))).length;
    }
    rows.push({ retriever, min_rank: setting.minRank, filter: setting.filter, negatives, false_negatives: falseNegatives, rate: Number((falseNegatives / negatives).toFixed(4)), short_records: short });
  }
}
const table = ['| retriever | min-rank | filter | negatives | judged-relevant among them | rate |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.retriever} | ${r.min_rank} | ${r.filter} | ${r.negatives} | ${r.false_negatives} | ${(r.rate * 100).toFixed(2)}% |`)].join('\n');
process.stdout.write(JSON.stringify({ data, queries: judged.length, num_neg: Number(numNeg), rows }, null, 2) + '\n\n' + table + '\n');
