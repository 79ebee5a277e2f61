/**
 * The elements of a file holding one top-level JSON array (`corpus.json`), streamed element by element with the
 * line and byte offset where each starts and its exact text. Text policy as the JSONL reader's (line-reader.ts):
 * invalid UTF-8 is an error naming the element's line and the byte offset, never replacement characters; a UTF-8
 * BOM at the start is removed; no element longer than `maxElementBytes` is buffered whole.
 * What must hold: anything that is not exactly one array — an empty file, a truncated array, trailing data after
 * it, a second array, a trailing comma — is an InputError naming the file, line and byte, and read errors are too;
 * nothing escapes as an unhandled stream error. Elements are handed out as text; the caller parses each
 * (JSON.parse) and reports a malformed one at its line.
 */
import { createReadStream } from './fs.js';
import { InputError } from '../errors.js';
import { firstInvalidUtf8 } from './line-reader.js';

export interface ArrayElement {
  /** 0-based position in the array. */
  index: number;
  /** 1-based line where the element starts. */
  lineNumber: number;
  /** Byte offset of its first byte in the file. */
  byteOffset: number;
  /** The element's text exactly as written. */
  text: string;
}

export interface JsonArrayReaderOptions {
  /** Longest element accepted, in bytes. */
  maxElementBytes: number;
  /** Name used in messages instead of the path. */
  displayName?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type State = 'start' | 'first' | 'next' | 'element' | 'after' | 'end';

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const isSpace = (b: number) => b === SPACE || b === TAB || b === LF || b === CR;

/** Yield the array's elements in order; InputError for anything that is not one well-formed array. */
export async function* readJsonArray(path: string, options: JsonArrayReaderOptions): AsyncGenerator<ArrayElement> {
  const file = options.displayName ?? path;
  let state: State = 'start';
  let offset = 0;
  let line = 1;
  let index = 0;
  // The element being read: its start, its bytes so far, and the scanner's nesting state.
  let element: { lineNumber: number; byteOffset: number; chunks: Buffer[]; bytes: number; depth: number; inString: boolean; escaped: boolean; scalar: boolean } | undefined;
  const where = () => `line ${line}, byte ${offset}`;
  const fail = (reason: string, at = line) => new InputError(file, at, reason);

  const finishElement = (): ArrayElement => {
    const current = element!;
    element = undefined;
    const bytes = Buffer.concat(current.chunks);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (cause) {
      const at = current.byteOffset + firstInvalidUtf8(bytes);
      throw new InputError(file, current.lineNumber, `invalid UTF-8 at byte ${at} of the file (array element ${index})`, { cause, hint: 're-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)' });
    }
    return { index: index++, lineNumber: current.lineNumber, byteOffset: current.byteOffset, text };
  };

  let stream;
  try {
    stream = createReadStream(path, { highWaterMark: 1 << 20 });
  } catch (cause) {
    throw new InputError(file, undefined, `cannot open: ${(cause as Error).message}`, { cause });
  }
  try {
    let bomChecked = false;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = 0;
      if (!bomChecked) {
        bomChecked = true;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          i = 3;
          offset = 3;
        }
      }
      let elementFrom = -1;
      const keep = (to: number) => {
        if (!element || elementFrom < 0 || to <= elementFrom) return;
        element.bytes += to - elementFrom;
        if (element.bytes > options.maxElementBytes) {
          throw fail(`array element ${index} is longer than ${options.maxElementBytes} bytes`, element.lineNumber);
        }
        element.chunks.push(Buffer.from(chunk.subarray(elementFrom, to)));
      };
      if (state === 'element') elementFrom = i;
      const results: ArrayElement[] = [];
      for (; i < chunk.length; i++, offset++) {
        const b = chunk[i];
        if (state === 'element') {
          const e = element!;
          if (e.inString) {
            if (e.escaped) e.escaped = false;
            else if (b === 0x5c) e.escaped = true;
            else if (b === 0x22) {
              e.inString = false;
              if (e.depth === 0) {
                keep(i + 1);
                results.push(finishElement());
                state = 'after';
              }
            }
          } else if (e.scalar) {
            if (isSpace(b) || b === 0x2c || b === 0x5d) {
              keep(i);
              results.push(finishElement());
              state = 'after';
              i--; // read the delimiter again in state 'after'
              offset--;
              continue;
            }
          } else if (b === 0x22) e.inString = true;
          else if (b === 0x7b || b === 0x5b) e.depth++;
          else if (b === 0x7d || b === 0x5d) {
            e.depth--;
            if (e.depth === 0) {
              keep(i + 1);
              results.push(finishElement());
              state = 'after';
            }
          }
          if (b === LF) line++;
          continue;
        }
        if (b === LF) line++;
        if (isSpace(b)) continue;
        switch (state) {
          case 'start':
            if (b !== 0x5b) throw fail(`expected a JSON array ("["), found ${describeByte(b)} at ${where()}`);
            state = 'first';
            break;
          case 'first':
          case 'next':
            if (b === 0x5d) {
              if (state === 'next') throw fail(`trailing comma before "]" at ${where()}`);
              state = 'end';
              break;
            }
            if (b === 0x2c) throw fail(`unexpected "," at ${where()}: an element is missing`);
            element = { lineNumber: line, byteOffset: offset, chunks: [], bytes: 0, depth: 0, inString: false, escaped: false, scalar: false };
            elementFrom = i;
            state = 'element';
            if (b === 0x22) element.inString = true;
            else if (b === 0x7b || b === 0x5b) element.depth = 1;
            else element.scalar = true;
            break;
          case 'after':
            if (b === 0x2c) state = 'next';
            else if (b === 0x5d) state = 'end';
            else throw fail(`expected "," or "]" after array element ${index - 1}, found ${describeByte(b)} at ${where()}`);
            break;
          case 'end':
            throw fail(`trailing data after the JSON array: ${describeByte(b)} at ${where()}${b === 0x5b ? ' (a second array? a .json corpus holds one array)' : ''}`);
        }
      }
      if (state === 'element') keep(chunk.length);
      yield* results;
    }
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(file, undefined, `cannot read: ${(cause as Error).message}`, { cause });
  }
  if (state === 'element' && element?.scalar) {
    yield finishElement();
    state = 'after';
  }
  if (state === 'start') throw fail(`expected a JSON array, found ${offset === 0 ? 'an empty file' : 'only whitespace'}`);
  if ((state as State) !== 'end') throw fail(`truncated: the JSON array is not closed (the file ends at ${where()}${state === 'element' ? `, inside array element ${index}` : ''})`);
}

function describeByte(b: number): string {
  return b >= 0x21 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
