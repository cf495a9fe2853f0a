/**
 * The Proposals sent to one follower and not yet acknowledged, by the last index each carried
 * (etcd's tracker/inflights). A ring buffer of fixed capacity: pipelining stops when it is full.
 */
export class Inflights {
  private readonly lastIndexes: number[];
  private head = 0;
  private size = 0;

  constructor(readonly capacityMax: number) {
    if (!Number.isInteger(capacityMax) || capacityMax < 1) throw new Error(`inflights capacity must be >= 1, got ${capacityMax}`);
    this.lastIndexes = new Array<number>(capacityMax).fill(0);
  }

  get count(): number {
    return this.size;
  }

  isFull(): boolean {
    return this.size >= this.capacityMax;
  }

  /** Records a Proposal whose last entry is `lastIndex`; indexes must be added in increasing order. */
  add(lastIndex: number): void {
    if (this.isFull()) throw new Error("inflights: add on a full window");
    this.lastIndexes[(this.head + this.size) % this.capacityMax] = lastIndex;
    this.size++;
  }

  /** Frees every Proposal whose last index is at or below `index` (they are acknowledged). */
  freeTo(index: number): void {
    while (this.size > 0 && (this.lastIndexes[this.head] ?? 0) <= index) {
      this.head = (this.head + 1) % this.capacityMax;
      this.size--;
    }
  }

  reset(): void {
    this.head = 0;
    this.size = 0;
  }
}
