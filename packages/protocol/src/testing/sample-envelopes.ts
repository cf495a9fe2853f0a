/**
 * A few fixed, valid envelopes for tests that want readable, deterministic inputs (byte-offset
 * splits, hand-made corruptions). Not exported from `index.ts`; import by relative path.
 */
import { protocolVersion, type Envelope } from "../messages.js";

const addressing = { v: protocolVersion, cluster: "lab", from: "n1", to: "n2" } as const;

export const sampleProposalEnvelope: Envelope = {
  ...addressing,
  body: {
    type: "Proposal",
    term: 3,
    prevIndex: 7,
    prevTerm: 2,
    entries: [
      { index: 8, term: 3, command: { kind: "noop" } },
      {
        index: 9,
        term: 3,
        command: { kind: "transition", key: "web-1", to: "Running", expect: "Starting", session: { clientId: "c1", seq: 4 } },
      },
    ],
    commitIndex: 7,
    context: 12,
  },
};

export const sampleAcknowledgmentEnvelope: Envelope = {
  v: protocolVersion,
  cluster: "lab",
  from: "n2",
  to: "n1",
  body: { type: "Acknowledgment", term: 3, matchIndex: 9 },
  auth: { alg: "ed25519", sig: "c2lnbmF0dXJl" },
};

/** Its detail holds two-, three- and four-byte UTF-8 characters, so byte splits land inside them. */
export const sampleGoodbyeEnvelope: Envelope = {
  ...addressing,
  body: { type: "Goodbye", reason: "definition_mismatch", detail: "définition ≠ 定義 🚦" },
};

export const sampleEnvelopes: readonly Envelope[] = [
  sampleProposalEnvelope,
  sampleAcknowledgmentEnvelope,
  sampleGoodbyeEnvelope,
];
