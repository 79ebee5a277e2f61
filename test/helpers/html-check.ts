/**
 * A small well-formedness check for the HTML rare-mine writes (XHTML syntax: every element closed or self-closed,
 * attributes quoted, `<` and `&` escaped in text), and readers for its tables. Not a general HTML parser: it
 * accepts exactly the syntax the report promises, so anything looser is reported.
 */

/** Problems found (empty when well-formed), and how many of each element the document has. */
export function checkWellFormed(html: string): { errors: string[]; elements: Map<string, number> } {
  const errors: string[] = [];
  const elements = new Map<string, number>();
  const doctype = '<!DOCTYPE html>';
  if (!html.startsWith(doctype)) errors.push('does not start with <!DOCTYPE html>');
  const body = html.slice(html.startsWith(doctype) ? doctype.length : 0);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let roots = 0;
  let i = 0;
  const where = (at: number) => `at ${at} (…${JSON.stringify(body.slice(Math.max(0, at - 40), at + 40))}…)`;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const textEnd = lt < 0 ? body.length : lt;
    const text = body.slice(i, textEnd);
    for (const match of text.matchAll(/&([^;\s]{0,10});?/g)) {
      if (!/^&(amp|lt|gt|quot|#39|#\d+|#x[0-9a-fA-F]+);$/.test(match[0])) errors.push(`bad entity ${JSON.stringify(match[0])} ${where(i + match.index!)}`);
    }
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (!m) {
      errors.push(`unescaped "<" or malformed tag ${where(lt)}`);
      i = lt + 1;
      continue;
    }
    const [whole, closing, name, attributes, selfClosing] = m;
    for (const attr of attributes.matchAll(/="([^"]*)"/g)) {
      for (const e of attr[1].matchAll(/&([^;\s]{0,10});?/g)) {
        if (!/^&(amp|lt|gt|quot|#39|#\d+);$/.test(e[0])) errors.push(`bad entity in attribute ${JSON.stringify(e[0])} ${where(lt)}`);
      }
    }
    if (closing) {
      const open = stack.pop();
      if (open !== name) errors.push(`</${name}> closes <${open ?? 'nothing'}> ${where(lt)}`);
    } else {
      elements.set(name, (elements.get(name) ?? 0) + 1);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    i = lt + whole.length;
  }
  if (stack.length > 0) errors.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) errors.push(`${roots} root elements`);
  return { errors, elements };
}

/** Decode the few entities the report uses and strip tags: the text a reader sees in a cell. */
export function cellText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#160;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

/** The body rows (cell texts) of every table whose opening tag matches `opening` (e.g. `<table class="stats">`). */
export function tableRows(html: string, after: string, opening = '<table'): string[][] {
  const start = html.indexOf(opening, html.indexOf(after));
  if (start < 0) return [];
  const end = html.indexOf('</table>', start);
  const tbody = html.slice(html.indexOf('<tbody>', start), end);
  return [...tbody.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((cell) => cellText(cell[1])));
}
