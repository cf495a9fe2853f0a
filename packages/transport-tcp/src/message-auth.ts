import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import type { Envelope, NodeId } from "@lockstep/protocol";

export type AuthCheck = { ok: true } | { ok: false; detail: string };

/**
 * Message authentication between peers (DESIGN.md §4): every envelope a node sends carries an
 * Ed25519 signature in `auth`, over the canonical JSON of the envelope without `auth` (keys
 * sorted at every level, so both ends compute the same bytes whatever order they built or parsed
 * the object in). A receiver verifies it with the sender's public key from its configuration; a
 * frame that fails is refused like any invalid frame. Keys are raw Ed25519, exchanged as base64
 * of the SPKI DER encoding (44 bytes).
 */
export class MessageAuth {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly peerKeys: ReadonlyMap<NodeId, KeyObject>,
  ) {}

  /** Throws with a message naming the key that is unusable: this runs at start, from configuration. */
  static fromKeys(options: { privateKeyPem: string; peerPublicKeys: Readonly<Record<NodeId, string>> }): MessageAuth {
    const privateKey = createPrivateKey(options.privateKeyPem);
    if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`private key is ${privateKey.asymmetricKeyType ?? "unknown"}, not ed25519`);
    const peerKeys = new Map<NodeId, KeyObject>();
    for (const [peer, encoded] of Object.entries(options.peerPublicKeys)) peerKeys.set(peer, parsePublicKey(peer, encoded));
    return new MessageAuth(privateKey, peerKeys);
  }

  /** A copy of `envelope` with its signature. */
  sign(envelope: Envelope): Envelope {
    const { auth: _ignored, ...unsigned } = envelope;
    const signature = sign(null, Buffer.from(canonicalJson(unsigned), "utf8"), this.privateKey);
    return { ...unsigned, auth: { alg: "ed25519", sig: signature.toString("base64") } };
  }

  /** Whether `envelope` carries a valid signature by its sender's key. */
  verify(envelope: Envelope): AuthCheck {
    const key = this.peerKeys.get(envelope.from);
    if (key === undefined) return { ok: false, detail: `no public key configured for ${envelope.from}` };
    if (envelope.auth === undefined) return { ok: false, detail: `unsigned ${envelope.body.type} from ${envelope.from}` };
    const { auth, ...unsigned } = envelope;
    const signature = Buffer.from(auth.sig, "base64");
    if (signature.byteLength !== 64) return { ok: false, detail: `signature of ${signature.byteLength} bytes from ${envelope.from}` };
    const valid = verify(null, Buffer.from(canonicalJson(unsigned), "utf8"), key, signature);
    return valid ? { ok: true } : { ok: false, detail: `bad signature on ${envelope.body.type} from ${envelope.from}` };
  }
}

/** A new Ed25519 key pair: the private key as PKCS#8 PEM, the public key as base64 SPKI DER. */
export function generateAuthKeyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** The base64 SPKI public key that belongs to a PEM private key (what peers configure). */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "der" }).toString("base64");
}

function parsePublicKey(peer: NodeId, encoded: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(encoded, "base64"), format: "der", type: "spki" });
  } catch (error) {
    throw new Error(`public key of ${peer} is not a base64 SPKI key: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`public key of ${peer} is ${key.asymmetricKeyType ?? "unknown"}, not ed25519`);
  return key;
}

/** JSON with object keys sorted at every level and `undefined` members left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(",")}}`;
}
