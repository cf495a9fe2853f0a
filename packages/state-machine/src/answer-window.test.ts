import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AnswerWindow } from "./answer-window.js";
import type { SessionAnswer } from "./session-table.js";

const answer = (seq: number): SessionAnswer => ({ fingerprint: `f${seq}`, result: { ok: true, kind: "transition", key: "k", from: "Init", to: "Running", revision: seq } });

describe("AnswerWindow", () => {
  it("holds what a Map would, for any sequence of writes that slide the window", () => {
    // Each step: a seq relative to the highest so far (inside the window, or a jump ahead), as a session sees them.
    const step = fc.oneof(fc.integer({ min: -70, max: 3 }), fc.integer({ min: 50, max: 500 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.array(step, { maxLength: 300 }), (windowSeqs, steps) => {
        const window = new AnswerWindow(windowSeqs);
        const model = new Map<number, SessionAnswer>();
        let highestSeq = 0;
        for (const delta of steps) {
          const seq = Math.max(1, highestSeq + delta);
          const oldestSeq = Math.max(1, highestSeq - windowSeqs + 1);
          if (seq < oldestSeq) continue; // the table refuses these before remembering anything
          if (seq > highestSeq) {
            const newOldestSeq = Math.max(1, seq - windowSeqs + 1);
            window.forgetRange(oldestSeq, newOldestSeq);
            for (const held of [...model.keys()]) if (held < newOldestSeq) model.delete(held);
            highestSeq = seq;
          }
          window.set(seq, answer(seq));
          model.set(seq, answer(seq));
          expect(window.size).toBe(model.size);
        }
        for (let seq = Math.max(1, highestSeq - 2 * windowSeqs); seq <= highestSeq + 1; seq++) expect(window.get(seq)).toEqual(model.get(seq));
        expect([...window].sort((left, right) => left[0] - right[0])).toEqual([...model].sort((left, right) => left[0] - right[0]));
        expect([...window.keys()].sort((left, right) => left - right)).toEqual([...model.keys()].sort((left, right) => left - right));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps an answer replaced for the same seq once, and forgets below a new window", () => {
    const window = new AnswerWindow(4);
    for (const seq of [1, 2, 3, 4]) window.set(seq, answer(seq));
    window.set(2, answer(20));
    expect(window.size).toBe(4);
    expect(window.get(2)).toEqual(answer(20));
    window.setWindowSeqs(2);
    window.forgetBelow(3);
    expect([...window.keys()].sort()).toEqual([3, 4]);
    expect(window.get(1)).toBeUndefined();
  });

  it("crashes on two held seqs a whole window apart: the caller must forget before it remembers", () => {
    const window = new AnswerWindow(4);
    window.set(1, answer(1));
    expect(() => window.set(5, answer(5))).toThrow(/window of 4/);
  });
});
