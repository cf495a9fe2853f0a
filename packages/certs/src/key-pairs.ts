import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { CertsError } from "./certs-error.js";

/**
 * The key types lockstep issues and accepts. `ecdsa-p256` (ECDSA on NIST P-256 with SHA-256) is
 * what every browser, TLS stack and HSM takes; `ed25519` is smaller and faster but browsers refuse
 * it for HTTPS. Both sign the peer port's session-bound Hello.
 */
export const keyTypes = ["ecdsa-p256", "ed25519"] as const;
export type KeyType = (typeof keyTypes)[number];

/** What `lockstep certs` issues when no `--key-type` is given (docs/security.md says why). */
export const defaultKeyType: KeyType = "ecdsa-p256";

/** A new key pair: the private key as PKCS#8 PEM, the public key as SPKI PEM. */
export function generateKeyPair(keyType: KeyType): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = keyType === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** A new Ed25519 key pair (`generateKeyPair("ed25519")`). */
export function generateEd25519KeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  return generateKeyPair("ed25519");
}

/** The type of a key (private or public), or undefined for any other algorithm or curve. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  if (key.asymmetricKeyType === "ed25519") return "ed25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ecdsa-p256";
  return undefined;
}

/**
 * Reads a PEM private key and insists on a type lockstep uses (Ed25519 or ECDSA P-256): node keys
 * sign the session-bound Hello with it, and CA keys sign certificates. `role` names the key in
 * the error.
 */
export function readPrivateKey(pem: string, role: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new CertsError("invalid_key", `${role} is not a PEM private key`, { cause: error });
  }
  return ofKnownType(key, role);
}

export function readPublicKey(pem: string, role: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new CertsError("invalid_key", `${role} is not a PEM public key`, { cause: error });
  }
  return ofKnownType(key, role);
}

function ofKnownType(key: KeyObject, role: string): KeyObject {
  if (keyTypeOf(key) !== undefined) return key;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const described = `${key.asymmetricKeyType ?? "an unknown key type"}${curve === undefined ? "" : ` (${curve})`}`;
  throw new CertsError("invalid_key", `${role} is ${described}; lockstep uses ECDSA P-256 or Ed25519 keys`);
}

/** Whether two keys (private or public) have the same public half. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (key: KeyObject) => (key.type === "private" ? createPublicKey(key) : key).export({ type: "spki", format: "der" });
  return spki(a).equals(spki(b));
}
