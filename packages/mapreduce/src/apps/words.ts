/**
 * Words as the lab defines them: maximal runs of Unicode letters (Go's `unicode.IsLetter`,
 * i.e. general category L). ASCII is decided inline; other BMP code units go through a table
 * built on first use; astral code points (surrogate pairs) are tested one by one.
 */

const LETTER_RE = /^\p{L}$/u;
let bmpLetters: Uint8Array | undefined;

function bmpTable(): Uint8Array {
  if (bmpLetters === undefined) {
    const table = new Uint8Array(0x10000);
    for (let c = 0x80; c < 0x10000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      if (LETTER_RE.test(String.fromCharCode(c))) table[c] = 1;
    }
    bmpLetters = table;
  }
  return bmpLetters;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The number of UTF-16 code units of the letter at `i`, or 0 when it is not a letter. */
function letterAt(text: string, i: number, c: number): number {
  if (c < 0x80) return (c | 32) >= 97 && (c | 32) <= 122 ? 1 : 0;
  if (c < 0xd800 || c > 0xdfff) return bmpTable()[c] as number;
  if (c <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (isLowSurrogate(low)) {
      const cp = String.fromCharCode(c, low);
      return LETTER_RE.test(cp) ? 2 : 0;
    }
  }
  return 0;
}

/** Calls `onWord` with each word of `text`, in order. */
export function forEachWord(text: string, onWord: (word: string) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip separators.
    let step = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      // The ASCII test is repeated inline: this loop is the hot path of word count.
      step = c < 0x80 ? ((c | 32) >= 97 && (c | 32) <= 122 ? 1 : 0) : letterAt(text, i, c);
      if (step > 0) break;
      // A non-letter surrogate pair is skipped whole, so its low half is not looked at alone.
      i += c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
    }
    if (i >= n) return;
    const start = i;
    i += step;
    while (i < n) {
      const c = text.charCodeAt(i);
      step = c < 0x80 ? ((c | 32) >= 97 && (c | 32) <= 122 ? 1 : 0) : letterAt(text, i, c);
      if (step === 0) break;
      i += step;
    }
    onWord(text.slice(start, i));
  }
}
