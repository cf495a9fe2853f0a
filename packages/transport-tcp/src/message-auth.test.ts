import type { Envelope } from "@lockstep/protocol";
import { describe, expect, it } from "vitest";
import { canonicalJson, generateAuthKeyPair, MessageAuth, publicKeyOf } from "./message-auth.js";

const n1 = generateAuthKeyPair();
const n2 = generateAuthKeyPair();
const envelope: Envelope = {
  v: 1,
  cluster: "lab",
  from: "n1",
  to: "n2",
  body: { type: "Proposal", term: 3, prevIndex: 4, prevTerm: 2, commitIndex: 4, entries: [{ index: 5, term: 3, command: { kind: "noop" } }] },
};

describe("MessageAuth (Ed25519)", () => {
  const signer = MessageAuth.fromKeys({ privateKeyPem: n1.privateKeyPem, peerPublicKeys: { n2: n2.publicKey } });
  const receiver = MessageAuth.fromKeys({ privateKeyPem: n2.privateKeyPem, peerPublicKeys: { n1: n1.publicKey } });

  it("verifies what the sender signed, whatever the key order after a JSON round trip", () => {
    const signed = signer.sign(envelope);
    expect(signed.auth?.alg).toBe("ed25519");
    const reordered = JSON.parse(JSON.stringify({ auth: signed.auth, body: { ...signed.body }, to: signed.to, from: signed.from, cluster: signed.cluster, v: signed.v })) as Envelope;
    expect(receiver.verify(reordered)).toEqual({ ok: true });
  });

  it("refuses a tampered body, a missing signature, another signer's key and an unknown sender", () => {
    const signed = signer.sign(envelope);
    const tampered = { ...signed, body: { ...signed.body, term: 4 } } as Envelope;
    expect(receiver.verify(tampered).ok).toBe(false);
    const { auth: _dropped, ...unsigned } = signed;
    expect(receiver.verify(unsigned as Envelope)).toEqual({ ok: false, detail: "unsigned Proposal from n1" });
    const impostor = MessageAuth.fromKeys({ privateKeyPem: generateAuthKeyPair().privateKeyPem, peerPublicKeys: {} });
    expect(receiver.verify(impostor.sign(envelope)).ok).toBe(false);
    expect(receiver.verify({ ...signed, from: "n9" }).ok).toBe(false);
  });

  it("derives the public key peers configure from the private key", () => {
    expect(publicKeyOf(n1.privateKeyPem)).toBe(n1.publicKey);
  });

  it("refuses keys that are not Ed25519 or not keys, naming the peer", () => {
    expect(() => MessageAuth.fromKeys({ privateKeyPem: n1.privateKeyPem, peerPublicKeys: { n2: "bm90IGEga2V5" } })).toThrow(/public key of n2/);
  });

  it("canonical JSON sorts keys at every level and leaves out undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: undefined }], c: "x" } })).toBe('{"a":{"c":"x","d":[2,{"f":1}]},"b":1}');
  });
});
