import type { ConsensusEnvelope, ConsensusMessage } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import type { DurableLogView } from "./commit-quorum.js";
import { ReplacedDiskViews } from "./replaced-disk-views.js";

function log(terms: Record<number, number>): DurableLogView {
  return { durableTermAt: (index) => terms[index] ?? null, durableSnapshotIndex: () => 0 };
}

function from(sender: string, body: ConsensusMessage): ConsensusEnvelope {
  return { v: 1, cluster: "sim", from: sender, to: "n1", body };
}

const acknowledgment: ConsensusMessage = { type: "Acknowledgment", term: 3, matchIndex: 0 };

describe("ReplacedDiskViews", () => {
  it("counts a replaced disk for a leader until it hears from the new one, then only the new one", () => {
    const views = new ReplacedDiskViews();
    views.add("n1", log({ 5: 3 }));
    views.add("n2", log({ 5: 3 }));
    // n2 (incarnation 1) loses its disk; incarnation 2 starts on an empty one.
    views.replaced("n2", log({}), 1);
    expect(views.logsFor("n1", 3).get("n2")?.durableTermAt(5)).toBe(3);
    // A message of the dead incarnation delivered before the restart says nothing of the new disk.
    views.delivered("n1", 3, from("n2", acknowledgment), 1);
    expect(views.heardFromCurrentDisk("n1", 3, "n2")).toBe(false);
    expect(views.logsFor("n1", 3).get("n2")?.durableTermAt(5)).toBe(3);
    views.delivered("n1", 3, from("n2", { type: "Reject", term: 3, reason: "log_mismatch", rejectedIndex: 5, hintIndex: 0, hintTerm: 0, recovering: true }), 2);
    expect(views.heardFromCurrentDisk("n1", 3, "n2")).toBe(true);
    expect(views.logsFor("n1", 3).get("n2")?.durableTermAt(5)).toBeNull();
    // Another leader, or the same one in another term, has not heard it.
    expect(views.logsFor("n3", 3).get("n2")?.durableTermAt(5)).toBe(3);
    expect(views.logsFor("n1", 4).get("n2")?.durableTermAt(5)).toBe(3);
  });

  it("learns nothing from messages that are not answers, of another term, or to a node that does not lead", () => {
    const views = new ReplacedDiskViews();
    views.add("n2", log({ 5: 3 }));
    views.replaced("n2", log({}), 1);
    views.delivered("n1", 3, from("n2", { type: "HistoryProbe", term: 3 }), 2);
    views.delivered("n1", 3, from("n2", { ...acknowledgment, term: 2 }), 2);
    views.delivered("n1", null, from("n2", acknowledgment), 2);
    expect(views.heardFromCurrentDisk("n1", 3, "n2")).toBe(false);
    expect(views.logsFor("n1", 3).get("n2")?.durableTermAt(5)).toBe(3);
  });

  it("counts a disk the leader has not heard from yet after the one it heard from", () => {
    const views = new ReplacedDiskViews();
    views.add("n2", log({ 5: 3 }));
    views.replaced("n2", log({ 6: 3 }), 1);
    views.delivered("n1", 3, from("n2", acknowledgment), 2);
    views.replaced("n2", log({}), 2);
    const n2 = views.logsFor("n1", 3).get("n2");
    expect(n2?.durableTermAt(5)).toBeNull();
    expect(n2?.durableTermAt(6)).toBe(3);
    expect(views.heardFromCurrentDisk("n1", 3, "n2")).toBe(false);
  });
});
