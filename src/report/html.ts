/**
 * Renders a report as one HTML file: inline CSS, inline SVG plots, no script (the statistics are also embedded as
 * a JSON data block for machines). Sections: the run, score and rank distributions, the filter funnel, false
 * negatives against qrels, the likeliest false negatives, a seeded sample of records.
 * What must hold: well-formed (XHTML syntax: every element closed, every text escaped), no network reference, and
 * the same input renders the same bytes (no clock, no randomness here). Every section that cannot be drawn says
 * why and what to mine with.
 */
import type { RunInfo } from '../mine/run-info.js';
import { EXCLUSIONS, funnelStages, summaryCells, type StatisticsReport } from '../mine/statistics.js';
import type { ExclusionReason } from '../mine/miner.js';
import type { ReportData, ShownText } from './collector.js';
import { barChartSvg, binSorted, escapeXml, histogramSvg } from './svg.js';

/** Bins per score histogram. */
export const HISTOGRAM_BINS = 40;

export interface ReportInput {
  /** The output file's name as given (or "stdin"). */
  source: string;
  data: ReportData;
  /** The run's --stats-json, when given: its `run` section and the funnel only the run knows. */
  runStats?: { file: string; report: Partial<StatisticsReport> & { run?: RunInfo } };
  /** Notes about the inputs (a --stats-json that does not describe this output, ...). */
  notes: readonly string[];
  seed: number;
  version: string;
}

const esc = escapeXml;
const count = (n: number) => n.toLocaleString('en-US');
const percent = (part: number, whole: number) => (whole === 0 ? '—' : `${((100 * part) / whole).toFixed(2)}%`);
const score = (value: number | null | undefined) => (value === null || value === undefined ? '' : value.toFixed(4));

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232b;max-width:1180px;margin:0 auto;padding:18px 22px 40px;background:#fff}
h1{font-size:24px;margin:6px 0 4px}h2{font-size:19px;margin:30px 0 8px;padding-top:8px;border-top:2px solid #e3e7ec}h3{font-size:16px;margin:18px 0 6px}
.lead{color:#46505c;margin:0 0 10px}nav a{margin-right:14px;color:#2458a6;text-decoration:none}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid #d5dbe2;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f2f5f8;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.review td{font-size:13px}table.review td.text{min-width:200px;max-width:320px}
.missing{background:#fff6e0;border-left:4px solid #e0a800;padding:6px 10px;margin:8px 0}
.note{background:#eef4fb;border-left:4px solid #5b8fd6;padding:6px 10px;margin:8px 0}
.cut{color:#7a8591}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{flex:1 1 440px;max-width:570px}figure{margin:6px 0;border:1px solid #e3e7ec;padding:6px;max-width:700px}figcaption{font-size:13px;color:#46505c}
svg.plot{width:100%;height:auto;font:11px system-ui,sans-serif;fill:#46505c}svg .grid{stroke:#e8ecf0}svg .axis{stroke:#6d7784}
svg .bar{fill:#4a7fc1}svg .bar-pos{fill:#3f9a63}svg .bar-neg{fill:#c2614a}svg .bar-diff{fill:#8a62b8}svg .bar-highlight{fill:#d9453b}
svg .marker{stroke:#d9453b;stroke-dasharray:4 3}svg .marker-text{fill:#d9453b}svg .axis-title{font-size:12px;fill:#1d232b}
.fbar{display:inline-block;height:12px;background:#4a7fc1;vertical-align:middle}
.yes{color:#b3261e;font-weight:600}.no{color:#3f7a4f}
.record{border:1px solid #e3e7ec;padding:6px 10px;margin:8px 0}.record ol{margin:4px 0 4px 18px;padding:0}.record li{margin:2px 0;font-size:13px}
.tag{display:inline-block;font-size:12px;color:#46505c;background:#f2f5f8;border-radius:3px;padding:0 5px;margin-right:4px}
`;

/** Review-table cells are cut shorter than the sample's texts, so a row stays readable beside its neighbours. */
const REVIEW_CELL_CHARS = 300;

/** A text as HTML, cut further to `limit` characters when given. */
function text(shown: ShownText | undefined, limit?: number): string {
  if (!shown) return '<span class="cut">(given by id: its text is not in the output)</span>';
  const cut = limit !== undefined && shown.text.length > limit;
  const body = cut ? shown.text.slice(0, /[\ud800-\udbff]/.test(shown.text[limit - 1]) ? limit - 1 : limit) : shown.text;
  return esc(body) + (cut || shown.cut ? '<span class="cut"> … (cut)</span>' : '');
}

function missing(message: string): string {
  return `<p class="missing">${message}</p>`;
}

/** A table of HTML cells (no header row when every heading is empty); `numeric` columns are right-aligned, `text` columns get room for passages. */
function table(head: readonly string[], rows: readonly (readonly string[])[], options: { numeric?: readonly number[]; text?: readonly number[]; className?: string } = {}): string {
  const numeric = new Set(options.numeric ?? []);
  const texts = new Set(options.text ?? []);
  const cell = (tag: 'th' | 'td', value: string, i: number) => `<${tag}${numeric.has(i) ? ' class="num"' : texts.has(i) && tag === 'td' ? ' class="text"' : ''}>${value}</${tag}>`;
  return (
    `<table${options.className ? ` class="${options.className}"` : ''}>${head.some((h) => h.length > 0) ? `<thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead>` : ''}` +
    `<tbody>${rows.map((row) => `<tr>${row.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('')}</tbody></table>`
  );
}

/** A command line as a shell would take it back. */
function shellLine(args: readonly string[]): string {
  return ['rare-mine', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function runSection(input: ReportInput): string {
  const out = ['<section id="run"><h2>1. The run</h2>'];
  const runStats = input.runStats;
  const run = runStats?.report.run;
  if (!runStats) {
    out.push(missing('Not recorded: an output file holds no run information. Pass the run\'s <code>--stats-json</code> file (<code>rare-mine report OUT --stats-json RUN.json</code>) to show the command line, version, retriever, corpus, options, timings and the filter funnel.'));
  } else if (!run) {
    out.push(missing(`${esc(runStats.file)} has no <code>run</code> section: it was written by <code>rare-mine stats</code> or by a rare-mine older than the report. The command line, version, retriever, options and timings are not known.`));
  } else {
    // [label (HTML), value (HTML)]
    const rows: [string, string][] = [
      ['command', `<span class="mono">${esc(shellLine(run.command))}</span>`],
      ['rare-mine version', esc(run.version)],
      ['started', esc(run.started_at)],
      ['retriever', esc(run.retriever)],
      ...Object.entries(run.retriever_settings).map(([k, v]): [string, string] => [`&#160;&#160;${esc(k)}`, `<span class="mono">${esc(String(v))}</span>`]),
      ['input', `<span class="mono">${esc(run.input)}</span>`],
      ['output', run.output === null ? 'stdout' : `<span class="mono">${esc(run.output)}</span>`],
      ['corpus', `${esc(run.corpus.source)} (${count(run.corpus.documents)} documents)`],
      ['index dir', run.index_dir === null ? 'a temporary directory' : `<span class="mono">${esc(run.index_dir)}</span>`],
      ['timings', Object.entries(run.timings).map(([k, v]) => `${esc(k.replace(/_seconds$/, ''))} ${v.toFixed(2)} s`).join(', ')],
    ];
    out.push(table(['', ''], rows));
    out.push('<details><summary>All options</summary>');
    out.push(table(['option', 'value'], Object.entries(run.options).map(([k, v]) => [`<span class="mono">${esc(k)}</span>`, `<span class="mono">${esc(String(v))}</span>`])));
    out.push('</details>');
  }
  out.push('</section>');
  return out.join('\n');
}

function summaryTable(report: StatisticsReport): string {
  const { header, cells } = summaryCells(report);
  return table(header, cells, { numeric: [1, 2, 3], className: 'stats' });
}

function distributionsSection(input: ReportInput, report: StatisticsReport): string {
  const statistics = input.data.statistics;
  const out = ['<section id="scores"><h2>2. Scores and ranks</h2>'];
  out.push('<p class="lead">Positive scores, negative scores, and per negative the record\'s lowest positive score minus the negative\'s (the reference of <code>--max-score-ratio</code> and <code>--margin</code>; below 0 the negative scored above a positive). Same figures as <code>rare-mine stats</code>.</p>');
  out.push(summaryTable(report));
  const q = report.quantiles;
  out.push(
    `<p class="lead">${q.exact ? 'Quartiles and histograms: exact.' : `Quartiles and histograms from a ${count(q.capacity)}-value seeded reservoir sample per column (quantile rank error ≤ ${q.rank_error * 100}% with probability ≥ ${(q.confidence * 100).toFixed(4)}%; bar heights are estimates scaled to the count).`}</p>`,
  );
  const plots: string[] = [];
  const columns = [
    { name: 'positive', distribution: statistics.positive, summary: report.scores.positive, label: 'positive score', barClass: 'bar-pos', why: 'No positive scores: the output was mined without <code>--with-scores</code> (or its positives were not scored).' },
    { name: 'negative', distribution: statistics.negative, summary: report.scores.negative, label: 'negative score', barClass: 'bar-neg', why: 'No negative scores: mine with <code>--with-scores</code> to see them.' },
    { name: 'difference', distribution: statistics.difference, summary: report.scores.difference, label: 'lowest positive − negative', barClass: 'bar-diff', why: 'No differences: they need both positive and negative scores (<code>--with-scores</code>).' },
  ];
  for (const column of columns) {
    const summary = column.summary;
    if (summary.count === 0 || summary.min === null || summary.max === null) {
      plots.push(`<figure><figcaption>${column.name} scores</figcaption>${missing(column.why)}</figure>`);
      continue;
    }
    const sorted = column.distribution.sketch.sortedSample();
    const bins = binSorted(sorted, summary.min, summary.max, HISTOGRAM_BINS, summary.count / sorted.length);
    const svg = histogramSvg({
      bins,
      xLabel: column.label,
      yLabel: column.name === 'positive' ? 'positives' : 'negatives',
      label: `histogram of ${column.label}`,
      barClass: column.barClass,
      marker: column.name === 'difference' ? { at: 0, text: '0: as high as the positive' } : undefined,
    });
    const below = column.name === 'difference' ? ` ${percent(countBelowZero(sorted), sorted.length)} of the negatives scored above their lowest positive.` : '';
    plots.push(`<figure>${svg}<figcaption>${esc(column.label)}: ${count(summary.count)} values, min ${score(summary.min)}, median ${score(summary.p50)}, max ${score(summary.max)}.${below}</figcaption></figure>`);
  }
  out.push(`<div class="plots">${plots.join('')}</div>`);
  out.push('<h3>Rank each negative came from</h3>');
  if (!report.rank_histogram) {
    out.push(missing('No ranks: the output was mined without <code>--with-ranks</code>. The raw rank (0-based, counted before exclusions) of each negative is written only with it.'));
  } else {
    const bars = report.rank_histogram.map((b) => ({ label: b.to === null ? `${count(b.from)}+` : b.from === b.to ? count(b.from) : `${count(b.from)}–${count(b.to)}`, value: b.count }));
    if (report.filled_negatives > 0) bars.push({ label: 'filled', value: report.filled_negatives });
    const total = bars.reduce((a, b) => a + b.value, 0);
    out.push(`<figure>${barChartSvg({ bars: bars.map((b) => ({ ...b, title: `rank ${b.label}: ${count(b.value)} (${percent(b.value, total)})` })), xLabel: 'raw rank (0-based)', yLabel: 'negatives', label: 'rank histogram' })}<figcaption>Raw rank of ${count(total)} negatives in the retriever's ranking${report.filled_negatives > 0 ? `; "filled": ${count(report.filled_negatives)} drawn by <code>--fill random</code> from outside it` : ''}.</figcaption></figure>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function countBelowZero(sorted: Float64Array): number {
  let n = 0;
  while (n < sorted.length && sorted[n] < 0) n++;
  return n;
}

function funnelSection(input: ReportInput, report: StatisticsReport): string {
  const out = ['<section id="funnel"><h2>3. Filter funnel</h2>'];
  const run = input.runStats?.report;
  const stages = run?.funnel && run.removed ? funnelStages({ funnel: run.funnel, removed: run.removed }) : null;
  if (stages) {
    const total = stages[0].left;
    out.push('<p class="lead">Candidates left after each step of the mining stage, summed over records (from the run\'s <code>--stats-json</code>). Score filters that removed nothing are not listed.</p>');
    out.push(
      table(
        ['step', 'removed', 'left', 'of the candidates', ''],
        stages.map((s, i) => [esc(s.label), i === 0 ? '' : s.removed === 0 ? '0' : `−${count(s.removed)}`, count(s.left), percent(s.left, total), `<span class="fbar" style="width:${total === 0 ? 0 : Math.max(1, Math.round((240 * s.left) / total))}px"></span>`]),
        { numeric: [1, 2, 3] },
      ),
    );
    if (run?.negatives !== undefined && stages[stages.length - 1].left !== run.negatives) {
      out.push(`<p class="missing">The funnel ends at ${count(stages[stages.length - 1].left)} but the run wrote ${count(run.negatives)} negatives.</p>`);
    }
  } else if (run?.removed && Object.keys(run.removed).length > 0) {
    out.push(missing('The <code>--stats-json</code> has no funnel counts (written by an older rare-mine): only what each exclusion and filter removed is known.'));
    out.push(table(['removed', 'candidates'], (Object.entries(run.removed) as [ExclusionReason, number][]).map(([reason, n]) => [esc(EXCLUSIONS[reason]?.removed ?? reason), count(n)]), { numeric: [1] }));
  } else {
    out.push(missing('Not known: an output file records only the negatives chosen, not the candidates the window, exclusions, filters and dedup removed. Pass the run\'s <code>--stats-json</code> to show the funnel.'));
  }
  // Short records: counted on the file (as rare-mine stats); the advice comes from the run when it is known.
  const sr = report.short_records;
  const asked = sr.asked === null ? '' : `${sr.asked} ${sr.asked_inferred ? '(the most any record has; pass --num-neg to say what was asked)' : 'asked'}`;
  out.push('<h3>Records short of negatives</h3>');
  if (sr.count === 0) out.push(`<p>None: every record has ${sr.asked === null ? 'its' : `the ${sr.asked}`} negatives${sr.asked_inferred ? ' (the most any record has)' : ' asked'}.</p>`);
  else {
    const loosen = run?.short_records?.loosen && run.short_records.loosen.length > 0 ? run.short_records.loosen : sr.loosen;
    out.push(`<p>${count(sr.count)} of ${count(report.records)} records (${percent(sr.count, report.records)}) have fewer than ${asked} negatives. To find more: ${esc(loosen.join('; '))}.</p>`);
    const cutBy = run?.short_records?.cut_by ?? {};
    const cuts = (Object.entries(cutBy) as [ExclusionReason, number][]).filter(([, n]) => n > 0);
    if (cuts.length > 0) out.push(table(['removed candidates in', 'short records'], cuts.map(([reason, n]) => [esc(EXCLUSIONS[reason]?.removed ?? reason), count(n)]), { numeric: [1] }));
  }
  // Records without positives: counted on the file (the run's count when the file cannot tell).
  const without = report.records_without_positives ?? (typeof run?.records_without_positives === 'number' ? run.records_without_positives : null);
  out.push('<h3>Records without positives</h3>');
  if (without === null) out.push(missing('Not known: the positives of this output are not all readable (pass the run\'s <code>--text-key</code> and <code>--positive-ids-key</code>, or its <code>--stats-json</code>).'));
  else if (without === 0) out.push('<p>None: every record has a positive, excluded from its negatives.</p>');
  else out.push(`<p class="missing">${count(without)} of ${count(report.records)} records (${percent(without, report.records)}) have no positive: nothing was excluded for them, so their own answers may be among their negatives.</p>`);
  const byCount = Object.entries(report.records_by_negative_count);
  if (byCount.length > 1) {
    out.push(`<figure>${barChartSvg({ bars: byCount.map(([k, v]) => ({ label: k, value: v, title: `${k} negatives: ${count(v)} records` })), xLabel: 'negatives in the record', yLabel: 'records', label: 'records by number of negatives' })}<figcaption>Records by the number of negatives they got.</figcaption></figure>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function falseNegativeSection(input: ReportInput): string {
  const out = ['<section id="false-negatives"><h2>4. False negatives against judgments</h2>'];
  const fn = input.data.falseNegatives;
  if (!fn) {
    out.push(missing('Not measured: pass <code>--qrels QRELS.tsv</code> (BEIR qrels) and <code>--queries-key K</code> (the record field holding the query id) for an output mined with <code>--with-ids</code>: the share of negatives the qrels judge relevant is then shown, overall and per rank.'));
  } else {
    out.push(`<p class="lead">Negatives whose corpus id the qrels (<span class="mono">${esc(fn.file)}</span>) judge relevant to the record's query (field <code>${esc(fn.queriesKey)}</code>): known false negatives. Unjudged documents count as not relevant, so this is a lower bound.</p>`);
    out.push(
      table(
        ['judged records', 'negatives', 'judged relevant', 'false-negative rate'],
        [[count(fn.judgedRecords), count(fn.negatives), count(fn.judgedRelevant), `<strong>${percent(fn.judgedRelevant, fn.negatives)}</strong>`]],
        { numeric: [0, 1, 2, 3] },
      ),
    );
    if (fn.unjudgedRecords > 0) out.push(`<p class="note">${count(fn.unjudgedRecords)} records have a query id with no judgment in the qrels; their negatives are left out of the rate.</p>`);
    if (fn.byRank) {
      out.push(table(['raw rank', 'negatives', 'judged relevant', 'rate'], fn.byRank.map((b) => [esc(b.label), count(b.negatives), count(b.judgedRelevant), percent(b.judgedRelevant, b.negatives)]), { numeric: [1, 2, 3] }));
      out.push(
        `<figure>${barChartSvg({ bars: fn.byRank.map((b) => ({ label: b.label, value: b.negatives, title: `rank ${b.label}: ${count(b.negatives)} negatives` })), highlight: fn.byRank.map((b) => b.judgedRelevant), highlightTitle: 'judged relevant', xLabel: 'raw rank (0-based)', yLabel: 'negatives', label: 'false negatives by rank' })}<figcaption>Negatives per rank bucket; the red part is judged relevant.</figcaption></figure>`,
      );
    } else out.push(missing('No rate per rank: the output has no ranks (mine with <code>--with-ranks</code>).'));
  }
  out.push('</section>');
  return out.join('\n');
}

function judgedCell(judged: boolean | undefined): string {
  return judged === undefined ? '' : judged ? '<span class="yes">relevant</span>' : '<span class="no">no</span>';
}

function reviewSection(input: ReportInput): string {
  const { review, reviewCandidates, falseNegatives } = input.data;
  const out = ['<section id="review"><h2>5. Likeliest false negatives</h2>'];
  if (review.length === 0) {
    out.push(missing('Not shown: ranking negatives by how close they score to their positive needs positive and negative scores (mine with <code>--with-scores</code>).'));
  } else {
    out.push(`<p class="lead">The ${count(review.length)} negatives (of ${count(reviewCandidates)}) with the smallest difference lowest positive score − negative score: those scoring closest to, or above, their positive are the likeliest to be unlabelled positives. Texts are cut at ${REVIEW_CELL_CHARS} characters here, at 600 in the sample below.</p>`);
    const head = ['#', 'line', 'query', 'positive', 'negative', 'pos.', 'neg.', 'diff.', 'rank', ...(falseNegatives ? ['qrels'] : [])];
    const rows = review.map((r, i) => [
      String(i + 1),
      String(r.line),
      text(r.query, REVIEW_CELL_CHARS),
      r.positive || r.positiveId === undefined ? text(r.positive, REVIEW_CELL_CHARS) : `<span class="cut">given by id:</span> <span class="tag">${esc(r.positiveId)}</span>`,
      text(r.negative, REVIEW_CELL_CHARS) + (r.id === undefined ? '' : ` <span class="tag">${esc(r.id)}</span>`),
      score(r.positiveScore),
      score(r.negativeScore),
      score(r.difference),
      r.rank === undefined ? '' : r.rank < 0 ? 'filled' : count(r.rank),
      ...(falseNegatives ? [judgedCell(r.judgedRelevant)] : []),
    ]);
    out.push(table(head, rows, { numeric: [0, 1, 5, 6, 7, 8], text: [2, 3, 4], className: 'review' }));
  }
  out.push('<h3 id="sample">A seeded sample of records</h3>');
  const sample = input.data.sample;
  if (sample.length === 0) out.push(missing('The output holds no records.'));
  else {
    out.push(`<p class="lead">${count(sample.length)} records drawn uniformly (reservoir sampling, seed ${input.seed}: the same file gives the same sample), in file order.</p>`);
    for (const record of sample) {
      const item = (t: ShownText | undefined, tags: string[]) => `<li>${text(t)} ${tags.filter((s) => s.length > 0).join('')}</li>`;
      const tag = (s: string) => `<span class="tag">${s}</span>`;
      out.push(
        `<div class="record"><div><span class="tag">line ${record.line}</span><strong>${text(record.query)}</strong></div>` +
          `<div>positives:</div><ol>${record.positives.map((p) => (p.text || p.id === undefined ? item(p.text, [p.score === undefined ? '' : tag(`score ${score(p.score)}`)]) : `<li><span class="cut">given by id:</span> ${tag(esc(p.id))}${p.score === undefined ? '' : tag(`score ${score(p.score)}`)}</li>`)).join('') || '<li class="cut">(none in the output: positives given by id are named with --positive-ids-key)</li>'}</ol>` +
          `<div>negatives:</div><ol>${
            record.negatives
              .map((n) =>
                item(n.text, [
                  n.score === undefined ? '' : tag(`score ${score(n.score)}`),
                  n.rank === undefined ? '' : tag(n.rank < 0 ? 'filled' : `rank ${count(n.rank)}`),
                  n.id === undefined ? '' : tag(esc(n.id)),
                  n.judgedRelevant ? '<span class="yes">judged relevant</span>' : '',
                ]),
              )
              .join('') || '<li class="cut">(none)</li>'
          }</ol>${record.unlisted > 0 ? `<div class="cut">… ${record.unlisted} more not listed</div>` : ''}</div>`,
      );
    }
  }
  out.push('</section>');
  return out.join('\n');
}

/** The whole report. */
export function renderReport(input: ReportInput): string {
  const report = input.data.statistics.toJSON();
  const layout = input.data.layout ?? 'record';
  const has = (yes: boolean, what: string) => `<span class="tag">${yes ? '' : 'no '}${what}</span>`;
  const head =
    `<p class="lead">${count(report.records)} records, ${count(report.negatives)} negatives` +
    `${report.negatives_per_record === null ? '' : ` (${report.negatives_per_record.toFixed(2)} per record)`}, ${esc(layout)} format. ` +
    has(report.scores.negative.count > 0, 'scores') +
    has(report.rank_histogram !== null, 'ranks') +
    has(input.data.falseNegatives !== null, 'qrels') +
    '</p>';
  const notes = input.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  const run = input.runStats?.report;
  const funnel = run?.funnel && run.removed ? funnelStages({ funnel: run.funnel, removed: run.removed }) : null;
  const json = JSON.stringify({ statistics: report, run: run?.run ?? null, funnel, false_negatives: input.data.falseNegatives }).replace(/</g, '\\u003c').replace(/&/g, '\\u0026');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>',
    `<title>rare-mine report: ${esc(input.source)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Hard negatives: <span class="mono">${esc(input.source)}</span></h1>`,
    head,
    notes,
    '<nav><a href="#run">Run</a><a href="#scores">Scores</a><a href="#funnel">Funnel</a><a href="#false-negatives">False negatives</a><a href="#review">Review</a><a href="#sample">Sample</a></nav>',
    runSection(input),
    distributionsSection(input, report),
    funnelSection(input, report),
    falseNegativeSection(input),
    reviewSection(input),
    `<footer><p class="lead">Made by rare-mine ${esc(input.version)} (<code>rare-mine report</code>); sample seed ${input.seed}. No script: the figures are also in the JSON block below, for machines.</p></footer>`,
    `<script type="application/json" id="rare-mine-report">${json}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
