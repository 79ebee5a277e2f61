/**
 * A parser for the small subset of Python literal syntax that a .npy header uses — what `ast.literal_eval` would
 * accept of `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` — so the header is read without
 * evaluating anything. What must hold: only dicts with string keys, tuples, lists, strings ('…' or "…", escapes
 * \\ \' \" only), integers (optionally with Python 2's L suffix, as old NumPy wrote them; safe integers only),
 * True, False and None are accepted; nesting is bounded (MAX_DEPTH); anything else is a PythonLiteralError
 * saying where.
 */

export type PythonValue =
  | { kind: 'str'; value: string }
  | { kind: 'int'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'none' }
  | { kind: 'tuple' | 'list'; items: PythonValue[] }
  | { kind: 'dict'; entries: Map<string, PythonValue> };

/** Deepest nesting accepted (a .npy header of a structured dtype nests 3–4 deep; ours need 2). */
export const MAX_DEPTH = 16;

/** Text that is not a literal of the subset; `offset` is the character where parsing stopped. */
export class PythonLiteralError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at character ${offset}`);
  }
}

/** Parse `text` (one literal, surrounded by any whitespace). */
export function parsePythonLiteral(text: string): PythonValue {
  let at = 0;
  const fail = (reason: string): never => {
    throw new PythonLiteralError(reason, at);
  };
  const skipSpace = () => {
    while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[at] !== char) fail(`expected ${JSON.stringify(char)}${at < text.length ? ` but found ${JSON.stringify(text[at])}` : ' but the text ended'}`);
    at++;
  };

  const parseString = (): string => {
    const quoteChar = text[at++];
    let value = '';
    for (;;) {
      if (at >= text.length) fail('unterminated string');
      const char = text[at++];
      if (char === quoteChar) return value;
      if (char === '\n') fail('newline inside a string');
      if (char === '\\') {
        const escaped = text[at++];
        if (escaped !== '\\' && escaped !== "'" && escaped !== '"') fail(`unsupported escape \\${escaped ?? ''} in a string`);
        value += escaped;
      } else value += char;
    }
  };

  const parseInteger = (): number => {
    const match = /^-?[0-9]+[lL]?/.exec(text.slice(at, at + 40));
    if (!match) return fail('expected a value');
    const digits = match[0].replace(/[lL]$/, '');
    if (/^-?0[0-9]/.test(digits)) fail(`integer ${digits} has a leading zero`);
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) fail(`integer ${digits} is too large`);
    at += match[0].length;
    if (/[0-9A-Za-z_.]/.test(text[at] ?? '')) fail('unsupported number (only integers are read)');
    return value;
  };

  /** Items up to `close`, comma-separated with an optional trailing comma; `sawComma` tells a 1-tuple from parentheses. */
  const parseSequence = (close: string, item: () => void): { count: number; sawComma: boolean } => {
    let count = 0;
    let sawComma = false;
    for (;;) {
      skipSpace();
      if (text[at] === close) {
        at++;
        return { count, sawComma };
      }
      if (count > 0) {
        expect(',');
        sawComma = true;
        skipSpace();
        if (text[at] === close) {
          at++;
          return { count, sawComma };
        }
      }
      item();
      count++;
    }
  };

  const parseValue = (depth: number): PythonValue => {
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} deep`);
    skipSpace();
    const char = text[at];
    if (char === undefined) return fail('expected a value but the text ended');
    if (char === "'" || char === '"') return { kind: 'str', value: parseString() };
    if (char === '{') {
      at++;
      const entries = new Map<string, PythonValue>();
      parseSequence('}', () => {
        skipSpace();
        const keyAt = at;
        if (text[at] !== "'" && text[at] !== '"') fail('expected a string key');
        const key = parseString();
        if (entries.has(key)) {
          at = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        expect(':');
        entries.set(key, parseValue(depth + 1));
      });
      return { kind: 'dict', entries };
    }
    if (char === '(' || char === '[') {
      at++;
      const items: PythonValue[] = [];
      const { count, sawComma } = parseSequence(char === '(' ? ')' : ']', () => items.push(parseValue(depth + 1)));
      if (char === '(' && count === 1 && !sawComma) return items[0]; // (x) is x, not a tuple
      return { kind: char === '(' ? 'tuple' : 'list', items };
    }
    for (const [word, value] of [
      ['True', { kind: 'bool', value: true }],
      ['False', { kind: 'bool', value: false }],
      ['None', { kind: 'none' }],
    ] as const) {
      if (text.startsWith(word, at) && !/[0-9A-Za-z_]/.test(text[at + word.length] ?? '')) {
        at += word.length;
        return value;
      }
    }
    return { kind: 'int', value: parseInteger() };
  };

  const value = parseValue(0);
  skipSpace();
  if (at < text.length) fail(`unexpected ${JSON.stringify(text[at])} after the value`);
  return value;
}

/** A value written back in Python syntax, for messages ((3, 4), '<f4', False). */
export function pythonRepr(value: PythonValue): string {
  switch (value.kind) {
    case 'str':
      return `'${value.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'int':
      return String(value.value);
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'tuple':
      return value.items.length === 1 ? `(${pythonRepr(value.items[0])},)` : `(${value.items.map(pythonRepr).join(', ')})`;
    case 'list':
      return `[${value.items.map(pythonRepr).join(', ')}]`;
    case 'dict':
      return `{${[...value.entries].map(([key, item]) => `'${key}': ${pythonRepr(item)}`).join(', ')}}`;
  }
}
