/** Intern tables shared by all the values reached from one `KvState.empty()`. */
interface Interner {
  readonly empty: KvState;
  readonly puts: Map<string, KvState>;
  /** The next `id`. */
  next: number;
}

/**
 * One key's value in the KV model, hash-consed: the node for (previous value, appended text)
 * or for a put text is created once per check, so states compare by identity (cheap cache
 * keys) and each value string is built once, not once per search step. Two paths to the same
 * text may give two nodes; that only costs the cache a hit, never soundness.
 */
export class KvState {
  /** The value of the key. */
  readonly value: string;
  /**
   * Unique among the values sharing these intern tables: a hash consistent with identity (two
   * nodes with one text may have two ids, as they are two nodes).
   */
  readonly id: number;
  private readonly interner: Interner;
  /**
   * The values this one was appended to so far: the first inline (most values get one or
   * two in a search, and a map each would cost more than the search), the rest in `more`.
   */
  private firstText: string | undefined;
  private firstNext: KvState | undefined;
  private more: Map<string, KvState> | undefined;

  private constructor(value: string, interner: Interner | undefined) {
    this.value = value;
    this.interner = interner ?? { empty: this, puts: new Map(), next: 0 };
    this.id = this.interner.next++;
  }

  /** A fresh empty value, with its own intern tables. */
  static empty(): KvState {
    return new KvState('', undefined);
  }

  append(text: string): KvState {
    if (text === '') return this;
    if (this.firstText === text) return this.firstNext as KvState;
    if (this.firstText === undefined) {
      this.firstText = text;
      this.firstNext = new KvState(this.value + text, this.interner);
      return this.firstNext;
    }
    this.more ??= new Map();
    let next = this.more.get(text);
    if (next === undefined) {
      next = new KvState(this.value + text, this.interner);
      this.more.set(text, next);
    }
    return next;
  }

  put(text: string): KvState {
    if (text === '') return this.interner.empty;
    let next = this.interner.puts.get(text);
    if (next === undefined) {
      next = new KvState(text, this.interner);
      this.interner.puts.set(text, next);
    }
    return next;
  }

  toString(): string {
    return this.value;
  }
}
