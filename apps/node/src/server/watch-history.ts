import type { WatchEvent } from "@lockstep/protocol";

/**
 * The recent applied transitions, oldest first, in a fixed ring of `eventsMax` slots. Events are
 * numbered by a sequence that only grows, so a reader's cursor stays valid while old events are
 * evicted under it: a cursor below `firstSequence` has lost events.
 *
 * `oldestRevision` is the lowest revision a watch can resume from: every transition at or after
 * it is still here.
 */
export class WatchHistory {
  private readonly slots: (WatchEvent | undefined)[];
  private first = 0;
  private next = 0;
  private oldest: number;

  constructor(
    private readonly eventsMax: number,
    /** The first revision this history is complete from (the store's applied index + 1 at start). */
    oldestRevision: number,
  ) {
    if (!Number.isSafeInteger(eventsMax) || eventsMax < 1) throw new Error(`watch history: eventsMax must be a positive integer, got ${eventsMax}`);
    this.slots = new Array<WatchEvent | undefined>(eventsMax);
    this.oldest = oldestRevision;
  }

  get firstSequence(): number {
    return this.first;
  }

  get nextSequence(): number {
    return this.next;
  }

  get oldestRevision(): number {
    return this.oldest;
  }

  get size(): number {
    return this.next - this.first;
  }

  /** Appends an event (revisions must grow). Returns the event evicted to make room, if any. */
  append(event: WatchEvent): WatchEvent | undefined {
    let evicted: WatchEvent | undefined;
    if (this.size === this.eventsMax) {
      evicted = this.slots[this.first % this.eventsMax];
      this.slots[this.first % this.eventsMax] = undefined;
      this.first++;
      if (evicted !== undefined) this.oldest = evicted.revision + 1;
    }
    this.slots[this.next % this.eventsMax] = event;
    this.next++;
    return evicted;
  }

  /** Forgets everything: transitions before `oldestRevision` can no longer be replayed (a snapshot was installed). */
  reset(oldestRevision: number): void {
    this.slots.fill(undefined);
    this.first = this.next;
    this.oldest = oldestRevision;
  }

  at(sequence: number): WatchEvent | undefined {
    if (sequence < this.first || sequence >= this.next) return undefined;
    return this.slots[sequence % this.eventsMax];
  }

  /** The sequence of the first event whose revision is >= `revision` (`nextSequence` if none is yet). */
  sequenceFor(revision: number): number {
    let low = this.first;
    let high = this.next;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (this.at(middle)!.revision < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
