/** One line a child printed, without its newline. */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export const DEFAULT_MAX_OUTPUT_LINES = 2000;
export const DEFAULT_MAX_LINE_CHARS = 16 * 1024;

/**
 * The last `maxLines` lines of a child's stdout and stderr, in arrival order. Memory stays
 * bounded whatever the child prints: old lines are forgotten, and a line longer than
 * `maxLineChars` (or a run of text with no newline that long) is cut into pieces.
 */
export class OutputBuffer {
  readonly #lines: OutputLine[] = [];
  readonly #partial = { stdout: '', stderr: '' };
  readonly #listeners = new Set<(line: OutputLine) => void>();
  readonly #maxLines: number;
  readonly #maxLineChars: number;
  /** Lines forgotten to keep the bound. */
  dropped = 0;

  constructor(maxLines = DEFAULT_MAX_OUTPUT_LINES, maxLineChars = DEFAULT_MAX_LINE_CHARS) {
    this.#maxLines = maxLines;
    this.#maxLineChars = maxLineChars;
  }

  get lines(): readonly OutputLine[] {
    return this.#lines;
  }

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    let text = this.#partial[stream] + chunk;
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      this.#add(stream, text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    while (text.length >= this.#maxLineChars) {
      this.#add(stream, text.slice(0, this.#maxLineChars));
      text = text.slice(this.#maxLineChars);
    }
    this.#partial[stream] = text;
  }

  /** The stream ended: a last line without a newline still counts. */
  end(stream: 'stdout' | 'stderr'): void {
    const rest = this.#partial[stream];
    this.#partial[stream] = '';
    if (rest !== '') this.#add(stream, rest);
  }

  /** Calls `listener` with every later line; returns the unsubscribe. */
  onLine(listener: (line: OutputLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #add(stream: 'stdout' | 'stderr', raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    for (let i = 0; i < text.length || i === 0; i += this.#maxLineChars) {
      const line = { stream, text: text.slice(i, i + this.#maxLineChars) };
      this.#lines.push(line);
      if (this.#lines.length > this.#maxLines) {
        this.#lines.shift();
        this.dropped++;
      }
      for (const listener of this.#listeners) listener(line);
    }
  }
}
