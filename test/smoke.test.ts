import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstInvalidUtf8 } from '../src/io/line-reader.js';

test('firstInvalidUtf8 finds the first bad byte', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('héllo')), 6);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xff, 0x62])), 1);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc3])), 1);
  assert.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0); // surrogate
});
