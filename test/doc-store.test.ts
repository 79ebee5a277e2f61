/**
 * The doc store's lookups that mining leans on at corpus scale: positives found by text (the lowest ordinal of
 * equal normalized texts, through the open-addressing hash table) and the sequential walk an index build makes
 * (every title and text, the same as reading them one by one, across read chunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocStore, DocStore, DocStoreWriter } from '../src/corpus/doc-store.js';

function withStore(docs: Array<{ id: string; title: string; text: string }>, check: (store: DocStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-docstore-'));
  try {
    const writer = new DocStoreWriter(join(dir, 'docs'));
    for (const doc of docs) writer.add(doc);
    writer.finish({ corpusFingerprint: 'test', source: 'test' });
    const store = new DocStore(join(dir, 'docs'), 'test');
    try {
      check(store);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ordinalOfText: the lowest ordinal of equal normalized texts; unknown texts are undefined', () => {
  const docs = Array.from({ length: 5000 }, (_, i) => ({ id: `d${i}`, title: '', text: `passage number ${i % 1500}` }));
  docs[4000].text = 'The  Same   TEXT';
  docs[4200].text = 'the same text';
  withStore(docs, (store) => {
    for (const i of [0, 1, 999, 1499]) assert.equal(store.ordinalOfText(`passage number ${i}`), i);
    assert.equal(store.ordinalOfText('PASSAGE   number 42'), 42, 'normalized: case and spaces');
    assert.equal(store.ordinalOfText('the same text'), 4000);
    assert.equal(store.ordinalOfText('passage number 1500'), undefined);
    assert.equal(store.ordinalOfText(''), undefined);
  });
});

test('forEachDocument visits every title and text in order, also across 8 MiB read chunks', () => {
  const big = 'x'.repeat((8 << 20) + 4321);
  const docs = [
    { id: 'a', title: 'T', text: 'first' },
    { id: 'b', title: '', text: 'zweite – ünïcode ✓' },
    { id: 'c', title: '', text: big },
    ...Array.from({ length: 200 }, (_, i) => ({ id: `n${i}`, title: i % 7 === 0 ? `title ${i}` : '', text: `${'y'.repeat(50_000)} ${i}` })),
    { id: 'e', title: '', text: '' },
  ];
  withStore(docs, (store) => {
    const seen: Array<[string, string, number]> = [];
    store.forEachDocument((title, text, ordinal) => seen.push([title, text, ordinal]));
    assert.equal(seen.length, docs.length);
    seen.forEach(([title, text, ordinal], i) => {
      assert.equal(ordinal, i);
      assert.equal(title, docs[i].title, `title ${i}`);
      assert.ok(text === docs[i].text, `text ${i}`);
      assert.ok(text === store.text(i));
    });
  });
});

test('a doc store built with its texts hashed on a second thread is the same bytes; titles absent or present', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-docstore-hash-'));
  try {
    // More than one batch of the hashing thread (2,048 texts), with equal texts under different spacing and case.
    const docs = Array.from({ length: 5000 }, (_, i) => ({ id: `d${i}`, title: i % 7 === 0 ? `T ${i}` : '', text: i % 11 === 0 ? `Same  TEXT ${i % 3}` : `text ${i} ${'ünïcode '.repeat(i % 4)}` }));
    async function* source() {
      yield* docs;
    }
    const one = await buildDocStore(join(dir, 'one'), source(), { corpusFingerprint: 'f', source: 's' }, undefined, 1);
    const two = await buildDocStore(join(dir, 'two'), source(), { corpusFingerprint: 'f', source: 's' }, undefined, 2);
    assert.equal(one.docCount, two.docCount);
    for (const file of ['table.bin', 'texts.bin', 'titles.bin']) {
      assert.ok(readFileSync(join(dir, 'one', file)).subarray(48).equals(readFileSync(join(dir, 'two', file)).subarray(48)), `${file}: the same payload`);
    }
    const store = new DocStore(join(dir, 'two'), 'test');
    try {
      assert.equal(store.ordinalOfText('same text 2'), 11, 'the lowest ordinal of the equal texts (11, 44, 77, …)');
      assert.equal(store.title(7), 'T 7');
      assert.equal(store.title(8), '');
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
