/** Where one entry's record lives: segment sequence number, byte offset and record length. */
export interface EntryLocation {
  sequence: number;
  offset: number;
  bytes: number;
}

const initialCapacity = 1024;

/**
 * The term and on-disk location of every entry the log holds, in typed arrays (about 24 bytes an
 * entry) so that millions of entries cost little while their contents stay on disk.
 * Holds the run `firstIndex..lastIndex`.
 */
export class EntryIndex {
  private terms = new Float64Array(initialCapacity);
  private sequences = new Float64Array(initialCapacity);
  private offsets = new Float64Array(initialCapacity);
  private lengths = new Uint32Array(initialCapacity);
  /** Array slot of `firstIndex`; compaction advances it instead of moving the arrays each time. */
  private start = 0;
  private count = 0;
  private first: number;

  constructor(firstIndex: number) {
    this.first = firstIndex;
  }

  get firstIndex(): number {
    return this.first;
  }

  get lastIndex(): number {
    return this.first + this.count - 1;
  }

  term(index: number): number | undefined {
    const slot = this.slotOf(index);
    return slot === undefined ? undefined : this.terms[slot];
  }

  location(index: number): EntryLocation | undefined {
    const slot = this.slotOf(index);
    if (slot === undefined) return undefined;
    return { sequence: this.sequences[slot] ?? 0, offset: this.offsets[slot] ?? 0, bytes: this.lengths[slot] ?? 0 };
  }

  /** Appends the entry after `lastIndex`. */
  append(index: number, term: number, location: EntryLocation): void {
    if (index !== this.lastIndex + 1) throw new Error(`entry index: ${index} does not follow ${this.lastIndex}`);
    if (this.start + this.count === this.terms.length) this.makeRoom();
    const slot = this.start + this.count;
    this.terms[slot] = term;
    this.sequences[slot] = location.sequence;
    this.offsets[slot] = location.offset;
    this.lengths[slot] = location.bytes;
    this.count += 1;
  }

  /** Forgets `index` and everything after it. Below `firstIndex`, the log restarts at `index`. */
  truncateFrom(index: number): void {
    if (index <= this.first) {
      this.resetAfter(index - 1);
      return;
    }
    this.count = Math.min(this.count, index - this.first);
  }

  /** Empties the log; the next entry is `index + 1`. */
  resetAfter(index: number): void {
    this.first = index + 1;
    this.start = 0;
    this.count = 0;
  }

  /** Forgets `index` and everything before it. */
  dropThrough(index: number): void {
    if (index < this.first) return;
    if (index >= this.lastIndex) {
      this.resetAfter(index);
      return;
    }
    const dropped = index + 1 - this.first;
    this.start += dropped;
    this.count -= dropped;
    this.first = index + 1;
  }

  private slotOf(index: number): number | undefined {
    if (index < this.first || index > this.lastIndex) return undefined;
    return this.start + index - this.first;
  }

  /** Slides the live run to slot 0, growing the arrays only when the run itself fills them. */
  private makeRoom(): void {
    const capacity = this.count * 2 > this.terms.length ? this.terms.length * 2 : this.terms.length;
    const from = this.start;
    const to = this.start + this.count;
    this.terms = moved(this.terms, new Float64Array(capacity), from, to);
    this.sequences = moved(this.sequences, new Float64Array(capacity), from, to);
    this.offsets = moved(this.offsets, new Float64Array(capacity), from, to);
    this.lengths = moved(this.lengths, new Uint32Array(capacity), from, to);
    this.start = 0;
  }
}

function moved<T extends Float64Array | Uint32Array>(source: T, target: T, from: number, to: number): T {
  target.set(source.subarray(from, to));
  return target;
}
