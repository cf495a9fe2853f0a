import { assert } from "./assert.js";
import type { SessionAnswer } from "./session-table.js";

/** Slots a window starts with; it doubles on a collision, up to the window's length. */
const initialSlots = 4;

/**
 * A session's remembered answers by seq, for seqs inside its window (no two held seqs are
 * `windowSeqs` or more apart; the session table forgets older ones first). Slot `seq % slots`
 * of two parallel arrays holds the answer to `seq`: a lookup, an insert and a removal are an
 * array access each, where a Map hashed, chained and rehashed on every write of every replica.
 * Two held seqs share a slot only while there are fewer slots than the window; the arrays then
 * double, and with as many slots as the window no two held seqs can collide.
 */
export class AnswerWindow {
  #windowSeqs: number;
  /** 0 marks an empty slot (seqs are positive). */
  #seqs: number[] = [];
  #answers: (SessionAnswer | undefined)[] = [];
  #size = 0;

  constructor(windowSeqs: number) {
    this.#windowSeqs = windowSeqs;
  }

  /** A window holding `answers` (seqs inside one window of each other, as a snapshot's are). */
  static of(windowSeqs: number, answers: Iterable<readonly [number, SessionAnswer]>): AnswerWindow {
    const window = new AnswerWindow(windowSeqs);
    for (const [seq, answer] of answers) window.set(seq, answer);
    return window;
  }

  /** Answers held. */
  get size(): number {
    return this.#size;
  }

  /** A new window length (a `limits` entry): the caller forgets the seqs the new window leaves out. */
  setWindowSeqs(windowSeqs: number): void {
    this.#windowSeqs = windowSeqs;
  }

  get(seq: number): SessionAnswer | undefined {
    const slots = this.#seqs.length;
    if (slots === 0) return undefined;
    const slot = seq % slots;
    return this.#seqs[slot] === seq ? this.#answers[slot] : undefined;
  }

  /** Holds `answer` for `seq`, replacing an answer already held for it. */
  set(seq: number, answer: SessionAnswer): void {
    for (;;) {
      const slots = this.#seqs.length;
      if (slots > 0) {
        const slot = seq % slots;
        const held = this.#seqs[slot]!;
        if (held === 0 || held === seq) {
          if (held === 0) this.#size++;
          this.#seqs[slot] = seq;
          this.#answers[slot] = answer;
          return;
        }
        // A held seq this far from `seq` would be outside the window: the caller forgot to forget it.
        if (slots >= this.#windowSeqs) assert(false, `answers for seqs ${held} and ${seq} held in a window of ${this.#windowSeqs}`);
      }
      this.#resize(Math.min(Math.max(initialSlots, slots * 2), this.#windowSeqs));
    }
  }

  delete(seq: number): void {
    const slots = this.#seqs.length;
    if (slots === 0) return;
    const slot = seq % slots;
    if (this.#seqs[slot] !== seq) return;
    this.#seqs[slot] = 0;
    this.#answers[slot] = undefined;
    this.#size--;
  }

  /**
   * Forgets every answer for a seq in `[fromSeq, toSeq)`. A client may jump far ahead, so the loop
   * walks whichever is shorter: the seq range or the slots.
   */
  forgetRange(fromSeq: number, toSeq: number): void {
    if (toSeq <= fromSeq || this.#size === 0) return;
    if (toSeq - fromSeq <= this.#seqs.length) {
      for (let seq = fromSeq; seq < toSeq; seq++) this.delete(seq);
      return;
    }
    this.forgetBelow(toSeq);
  }

  /** Forgets every answer for a seq below `oldestSeq`. */
  forgetBelow(oldestSeq: number): void {
    for (let slot = 0; slot < this.#seqs.length; slot++) {
      const seq = this.#seqs[slot]!;
      if (seq !== 0 && seq < oldestSeq) this.delete(seq);
    }
  }

  /** The seqs held, in no particular order. */
  *keys(): IterableIterator<number> {
    for (const seq of this.#seqs) if (seq !== 0) yield seq;
  }

  /** `[seq, answer]` for every answer held, in no particular order. */
  *[Symbol.iterator](): IterableIterator<[number, SessionAnswer]> {
    for (let slot = 0; slot < this.#seqs.length; slot++) {
      const seq = this.#seqs[slot]!;
      if (seq !== 0) yield [seq, this.#answers[slot]!];
    }
  }

  #resize(slots: number): void {
    const seqs = this.#seqs;
    const answers = this.#answers;
    this.#seqs = new Array<number>(slots).fill(0);
    this.#answers = new Array<SessionAnswer | undefined>(slots).fill(undefined);
    this.#size = 0;
    for (let slot = 0; slot < seqs.length; slot++) {
      const seq = seqs[slot]!;
      if (seq !== 0) this.set(seq, answers[slot]!);
    }
  }
}
