/**
 * Every binary file of an index dir × every damage (truncated, a corrupted payload byte, a newer format version, not
 * an index file): mining exits 3 with the damage's message and a rebuild hint, and writes no result. npm test's
 * test/index-integrity.test.ts runs each damage on one file.
 */
import { test } from 'node:test';
import { assertDamageRefused, damages, INDEX_FILES } from '../helpers/index-damage.js';

for (const file of INDEX_FILES) {
  for (const [name, damage, message] of damages) {
    test(`${file} ${name}: error with a rebuild hint, exit 3`, () => assertDamageRefused(file, damage, message));
  }
}
