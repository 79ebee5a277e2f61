/**
 * Issue 25, item 4: the line-length bound holds while reading, not at the line's end. An endless line
 * (`/dev/zero`) fails fast naming file and line, whether read (--on-error fail), skipped (--on-error skip: read to
 * its end, but not past lineWithoutEndBytes) or spooled (stdin that is also the corpus): never read for ever, never
 * copied until the disk is full. An over-long line that ends is reported once and the next line is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { lineWithoutEndBytes, readLines, spoolInput } from '../src/io/line-reader.js';

const MiB = 1 << 20;
const isLineError = (pattern: RegExp) => (error: unknown) => error instanceof InputError && pattern.test(error.message);

test('an endless line fails fast naming file and line: read, skipped, spooled', async () => {
  const started = performance.now();
  await assert.rejects(
    (async () => {
      for await (const _ of readLines('/dev/zero', { maxLineBytes: MiB })) void _;
    })(),
    isLineError(/^\/dev\/zero:1: line is longer than 1048576 bytes/),
  );
  const skipped: InputError[] = [];
  await assert.rejects(
    (async () => {
      for await (const _ of readLines('/dev/zero', { maxLineBytes: MiB, onBadLine: (error) => void skipped.push(error) })) void _;
    })(),
    isLineError(new RegExp(`^/dev/zero:1: no end of line in \\d+ bytes: this is not line-delimited text`)),
  );
  assert.equal(skipped.length, 1, 'the over-long line was reported once, when it passed the bound');
  await assert.rejects(spoolInput('/dev/zero', { maxLineBytes: MiB }), isLineError(/^\/dev\/zero:1: line is longer than 1048576 bytes/));
  await assert.rejects(spoolInput('/dev/zero', { maxLineBytes: MiB, skipOverLong: true }), isLineError(/^\/dev\/zero:1: no end of line/));
  assert.ok(lineWithoutEndBytes(MiB) <= 64 * MiB);
  assert.ok(performance.now() - started < 5000, 'all within seconds');
});

test('an over-long line that ends is reported once (skip) and reading goes on; a spool stops at one (fail) and keeps lines within the bound', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-lines-'));
  try {
    const path = join(dir, 'in.jsonl');
    writeFileSync(path, `short\n${'x'.repeat(3 * MiB)}\nnext\n`);
    const errors: InputError[] = [];
    const lines: number[] = [];
    for await (const line of readLines(path, { maxLineBytes: MiB, onBadLine: (error) => void errors.push(error) })) lines.push(line.lineNumber);
    assert.deepEqual(lines, [1, 3]);
    assert.deepEqual(errors.map((e) => e.message), [`${path}:2: line is longer than 1048576 bytes`]);
    await assert.rejects(spoolInput(path, { maxLineBytes: MiB }), isLineError(/in\.jsonl:2: line is longer than 1048576 bytes/));
    const spooled = await spoolInput(path, { maxLineBytes: 4 * MiB });
    const copied: number[] = [];
    for await (const line of readLines(spooled, { maxLineBytes: 4 * MiB })) copied.push(line.text.length);
    assert.deepEqual(copied, [5, 3 * MiB, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
