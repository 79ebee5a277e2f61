/**
 * The on-disk formats did not change when their byte layouts moved into one codec per format (bm25/format.ts,
 * corpus/doc-store-format.ts, vector/format.ts): an index dir written by the code before that move
 * (test/fixtures/index-before-codecs, built by the writers of commit d4a3fd2) opens through today's index/
 * functions and gives the results it gave then, and today's writers produce the same bytes for the same input
 * (every byte but the random build id and the header checksum that covers it; the BM25 files carry format 3,
 * which added bounds.bin (2) and replaced postings.bin's float32 impacts by codes into impacts.bin's per-term tables
 * (3): the codes decode to the fixture's impacts bit for bit; the fixture's format 1 is still read, its bound tables
 * and impact codes made at open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocStoreWriter } from '../src/corpus/doc-store.js';
import type { CorpusSource } from '../src/corpus/corpus-source.js';
import { Bm25IndexWriter } from '../src/bm25/index-writer.js';
import { docStoreDir, ensureDocStore } from '../src/corpus/doc-store-part.js';
import { BM25_PART, ensureBm25Index } from '../src/bm25/bm25-part.js';
import { denseDir, openDenseIndex } from '../src/dense/dense-part.js';
import type { Precision } from '../src/vector/precision.js';
import { NO_PROGRESS } from '../src/index/parts.js';
import { VectorIndexWriter } from '../src/vector/vector-index.js';
import { createAnalyzer } from '../src/text/analyzer.js';
import { seededRandom } from '../src/seeded-random.js';
import { repoRoot } from './helpers/shared-data.js';

/** Where each part lives in the index dir `root`, as the part modules place them. */
function indexLayout(root: string) {
  return { root, docs: docStoreDir(root), bm25: join(root, BM25_PART.folder), dense: (model: string, precision: Precision) => denseDir(root, model, precision) };
}


process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const fixture = join(repoRoot, 'test', 'fixtures', 'index-before-codecs');
const root = mkdtempSync(join(tmpdir(), 'rare-mine-compat-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** The corpus the fixture was built from (id, title, text), as its generator wrote it. */
const DOCS: Array<[string, string, string]> = [
  ['d1', 'Vitamin D', 'Vitamin D deficiency is linked to bone loss in older adults.'],
  ['d2', '', 'Regular exercise lowers blood pressure and improves heart health.'],
  ['d3', 'Sleep', 'Short sleep raises the risk of obesity in children and adults.'],
  ['12345678901234567890', '', 'Antibiotics do not help against viral infections such as the common cold.'],
  ['d5', 'Café', 'Coffee drinking is associated with a lower risk of liver disease — naïve résumé.'],
  ['d6', '', 'Smoking damages the lungs and raises the risk of lung cancer.'],
  ['d7', 'Diet', 'A diet rich in fibre lowers cholesterol and the risk of heart disease.'],
  ['d8', '', '睡眠不足会增加肥胖的风险。 Bone density falls with age.'],
];
const FINGERPRINT = 'fixture-corpus';
const SOURCE = 'test/fixtures/index-before-codecs (8 documents)';
const BM25 = { analyzer: 'en', scoring: { k1: 0.9, b: 0.4, variant: 'lucene' }, memoryBudget: undefined };
const MODEL = { name: 'fixture-model', fingerprint: 'f'.repeat(64), dims: 8 };
/** The fixture's rows: seededRandom(7, 0) draws in [-1, 1). */
function fixtureRows(): Float32Array[] {
  const random = seededRandom(7, 0);
  return DOCS.map(() => Float32Array.from({ length: 8 }, () => random() * 2 - 1));
}

const source: CorpusSource = {
  description: SOURCE,
  fingerprint: FINGERPRINT,
  documents: async function* () {
    for (const [id, title, text] of DOCS) yield { id, title, text };
  },
};

test('an index dir written before the codecs opens through index/ and gives the results it gave then', async () => {
  const indexDir = join(root, 'old');
  cpSync(fixture, indexDir, { recursive: true });
  const build = { rebuild: false, rebuildHint: 'rare-mine index bm25 --corpus C', progress: NO_PROGRESS };
  const docs = await ensureDocStore(indexDir, source, build);
  assert.equal(docs.docCount, 8);
  assert.equal(docs.id(3), '12345678901234567890');
  assert.equal(docs.title(4), 'Café');
  assert.equal(docs.text(7), '睡眠不足会增加肥胖的风险。 Bone density falls with age.');
  assert.equal(docs.ordinalOfText('a diet rich in FIBRE lowers cholesterol and the risk of heart disease.'), 6);

  const bm25 = await ensureBm25Index(indexDir, docs, BM25, build);
  // Recorded with the code of commit d4a3fd2 over this fixture.
  assert.deepEqual(bm25.search('risk of heart disease', 4), [
    { docOrdinal: 6, score: 1.7039414048194885 },
    { docOrdinal: 4, score: 1.0116081237792969 },
    { docOrdinal: 1, score: 0.6853054761886597 },
    { docOrdinal: 5, score: 0.3791833519935608 },
  ]);
  assert.deepEqual(bm25.search('risk of heart disease', 4), bm25.searchExhaustive('risk of heart disease', 4));

  const dense = openDenseIndex(indexDir, { embedder: MODEL, corpusFingerprint: FINGERPRINT, docsBuildId: docs.manifest.buildId });
  const query = dense.vectors.row(2);
  const expected = [{ docOrdinal: 2, score: 1 }, { docOrdinal: 0, score: 0.404353300962976 }, { docOrdinal: 4, score: 0.23724816562854728 }];
  assert.deepEqual(await dense.search([query], 3, { threads: 1, method: 'exact' }), [expected]);
  assert.deepEqual(await dense.search([query], 3, { threads: 1, method: 'hnsw' }), [expected]);
  assert.deepEqual(dense.vectors.row(5), fixtureRows()[5]);
  dense.close();
  docs.close();
});

test('opening an index of an older BM25 format logs that a rebuild writes the current one, and how', () => {
  const script = `
    const { loadBm25IndexData } = await import(${JSON.stringify(join(repoRoot, 'dist', 'src', 'bm25', 'index-reader.js'))});
    const { createAnalyzer } = await import(${JSON.stringify(join(repoRoot, 'dist', 'src', 'text', 'analyzer.js'))});
    loadBm25IndexData(${JSON.stringify(join(fixture, 'bm25'))}, createAnalyzer('en').fingerprint, 'rare-mine index bm25 --corpus C');`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_LOG_LEVEL: 'info' } });
  assert.equal(result.status, 0, result.stderr);
  const events = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as { format?: number; msg: string });
  const hint = events.find((event) => event.format === 1);
  assert.ok(hint, result.stderr);
  assert.match(hint.msg, /format 1: its impacts are coded at every open.*rebuilding writes format 3.*rare-mine index bm25 --corpus C --rebuild/);
});

/** A container file with its build id (bytes 24..39) and header CRC (44..47) zeroed: the bytes a build decides. */
function buildIndependentBytes(path: string): Buffer {
  const bytes = readFileSync(path);
  bytes.fill(0, 24, 40);
  bytes.fill(0, 44, 48);
  return bytes;
}

/**
 * postings.bin of format 1 (`before`: u32 doc[P] | f32 impact[P]) against format 3 (`now`: u32 doc[P] | code[P]):
 * the same doc ordinals, and every code decodes through impacts.bin's table to the same float32 bits.
 */
function assertSameImpacts(before: Buffer, now: Buffer, impactsFile: string, termsFile: string): void {
  const HEADER = 48;
  const terms = readFileSync(termsFile).subarray(HEADER);
  const termCount = terms.readUInt32LE(0);
  const starts = Array.from({ length: termCount + 1 }, (_, t) => terms.readDoubleLE(8 + 8 * t));
  const postings = starts[termCount];
  const oldPayload = before.subarray(HEADER);
  const newPayload = now.subarray(HEADER);
  assert.ok(oldPayload.subarray(0, 4 * postings).equals(newPayload.subarray(0, 4 * postings)), 'the same doc ordinals');
  const impacts = readFileSync(impactsFile).subarray(HEADER);
  assert.equal(impacts.readUInt32LE(0), termCount);
  const width = impacts.readUInt32LE(4);
  assert.equal(width, 2, 'a small corpus has 2-byte codes');
  assert.equal(newPayload.length, postings * (4 + width));
  const tableAt = 8 + 8 * (termCount + 1);
  for (let t = 0; t < termCount; t++) {
    const base = impacts.readDoubleLE(8 + 8 * t);
    for (let i = starts[t]; i < starts[t + 1]; i++) {
      const code = newPayload.readUInt16LE(4 * postings + 2 * i);
      assert.ok(base + code < impacts.readDoubleLE(8 + 8 * (t + 1)), `term ${t}, posting ${i}: code within its table`);
      assert.equal(impacts.readUInt32LE(tableAt + 4 * (base + code)), oldPayload.readUInt32LE(4 * postings + 4 * i), `term ${t}, posting ${i}: the same impact bits`);
    }
  }
}

test('today\'s writers write the fixture\'s bytes for the fixture\'s corpus', () => {
  const layout = indexLayout(join(root, 'new'));
  const store = new DocStoreWriter(layout.docs);
  for (const [id, title, text] of DOCS) store.add({ id, title, text });
  const docsManifest = store.finish({ corpusFingerprint: FINGERPRINT, source: SOURCE });
  const writer = new Bm25IndexWriter(layout.bm25, createAnalyzer('en'), BM25.scoring);
  for (const [, title, text] of DOCS) writer.add(title, text);
  writer.finish(FINGERPRINT, docsManifest.buildId);
  const vectors = new VectorIndexWriter(layout.dense(MODEL.name, 'f32'), { threads: 1, dims: 8, precision: 'f32', buildGraph: false });
  vectors.add(fixtureRows());
  vectors.finish({ model: { name: MODEL.name, fingerprint: MODEL.fingerprint }, corpusFingerprint: FINGERPRINT, docsBuildId: docsManifest.buildId });

  const old = indexLayout(fixture);
  const pairs: Array<[string, string]> = [
    ...readdirSync(old.docs).filter((name) => name.endsWith('.bin')).map((name): [string, string] => [join(old.docs, name), join(layout.docs, name)]),
    ...readdirSync(old.bm25).filter((name) => name.endsWith('.bin')).map((name): [string, string] => [join(old.bm25, name), join(layout.bm25, name)]),
    [join(old.dense(MODEL.name, 'f32'), 'vectors.bin'), join(layout.dense(MODEL.name, 'f32'), 'vectors.bin')],
  ];
  assert.equal(pairs.length, 7, 'texts, titles, table; terms, postings, lengths; vectors');
  for (const [before, now] of pairs) {
    // BM25 formats 2 (bounds.bin added) and 3 (impact codes) left terms.bin and lengths.bin as they were: only their
    // version field moved. postings.bin keeps its doc ordinals; its impacts are now codes (checked below).
    const bm25 = now.startsWith(layout.bm25);
    const [a, b] = [buildIndependentBytes(before), buildIndependentBytes(now)];
    if (bm25) {
      assert.equal(a.readUInt16LE(12), 1);
      assert.equal(b.readUInt16LE(12), 3, `${now}: BM25 format 3`);
      for (const bytes of [a, b]) bytes.fill(0, 12, 14);
    }
    if (now.endsWith('postings.bin')) {
      assertSameImpacts(a, b, join(layout.bm25, 'impacts.bin'), join(layout.bm25, 'terms.bin'));
      continue;
    }
    assert.ok(a.equals(b), `${now} differs from ${before}`);
  }
  assert.ok(readdirSync(layout.bm25).includes('bounds.bin'), 'format 2 writes bounds.bin');
  assert.ok(readdirSync(layout.bm25).includes('impacts.bin'), 'format 3 writes impacts.bin');
});
