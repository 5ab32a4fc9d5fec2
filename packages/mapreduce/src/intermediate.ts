import { IntermediateError } from './errors.js';

/**
 * The intermediate format: one line per distinct key of a map task's bucket,
 * `key<TAB>value<TAB>value…<LF>`, with `\`, TAB and LF inside a key or value escaped as `\\`,
 * `\t` and `\n`. Grouping writes each key once per map task (and, with a combiner, one value),
 * where the lab writes one JSON object per occurrence. Tab-separated text parses about twice
 * as fast as a JSON array per line, and parsing is most of a reduce task's work.
 */

const SPECIAL = /[\t\n\\]/;
const SPECIAL_ALL = /[\t\n\\]/g;
const ESCAPED = /\\(.)/g;

function escapeField(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replace(SPECIAL_ALL, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\'));
}

function unescapeField(text: string, name: string, lineNo: number): string {
  return text.replace(ESCAPED, (_match, c: string) => {
    if (c === 't') return '\t';
    if (c === 'n') return '\n';
    if (c === '\\') return '\\';
    throw new IntermediateError(`${name} line ${lineNo}: bad escape \\${c}`);
  });
}

export function encodeRecords(
  records: ReadonlyArray<readonly [string, readonly string[]]>,
): string {
  if (records.length === 0) return '';
  const lines = new Array<string>(records.length);
  for (let i = 0; i < records.length; i++) {
    const [key, values] = records[i] as readonly [string, readonly string[]];
    let line = escapeField(key);
    for (const value of values) line += `\t${escapeField(value)}`;
    lines[i] = line;
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parses the records of one intermediate file into `groups`, appending to the values already
 * there. `name` is for error messages. Returns the number of records.
 */
export function decodeRecordsInto(
  text: string,
  name: string,
  groups: Map<string, string[]>,
): number {
  let records = 0;
  let lineNo = 0;
  let start = 0;
  const n = text.length;
  // The next backslash at or after `start` (n when none): found once per backslash, not once
  // per line, so a file without escapes is scanned for them only once.
  let backslash = -1;
  while (start < n) {
    lineNo++;
    const end = text.indexOf('\n', start);
    if (end < 0) throw new IntermediateError(`${name} line ${lineNo}: truncated (no newline)`);
    let tab = text.indexOf('\t', start);
    if (tab < 0 || tab > end) {
      throw new IntermediateError(`${name} line ${lineNo}: not a key<TAB>values record`);
    }
    if (backslash < start) {
      backslash = text.indexOf('\\', start);
      if (backslash < 0) backslash = n;
    }
    const plain = backslash > end;
    const rawKey = text.slice(start, tab);
    const key = plain ? rawKey : unescapeField(rawKey, name, lineNo);
    let values = groups.get(key);
    if (values === undefined) {
      values = [];
      groups.set(key, values);
    }
    for (;;) {
      const from = tab + 1;
      tab = text.indexOf('\t', from);
      const last = tab < 0 || tab > end;
      const raw = text.slice(from, last ? end : tab);
      values.push(plain ? raw : unescapeField(raw, name, lineNo));
      if (last) break;
    }
    records++;
    start = end + 1;
  }
  return records;
}
