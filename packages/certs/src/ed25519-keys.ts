import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { CertsError } from "./certs-error.js";

/** A new Ed25519 key pair: the private key as PKCS#8 PEM, the public key as SPKI PEM. */
export function generateEd25519KeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/**
 * Reads a PEM private key and insists on Ed25519: node keys sign the session-bound Hello with
 * it, and the CA keys lockstep makes are Ed25519 too. `role` names the key in the error.
 */
export function readEd25519PrivateKey(pem: string, role: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new CertsError("invalid_key", `${role} is not a PEM private key`, { cause: error });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new CertsError("invalid_key", `${role} is ${key.asymmetricKeyType ?? "an unknown key type"}; lockstep uses Ed25519 keys`);
  }
  return key;
}

export function readEd25519PublicKey(pem: string, role: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new CertsError("invalid_key", `${role} is not a PEM public key`, { cause: error });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new CertsError("invalid_key", `${role} is ${key.asymmetricKeyType ?? "an unknown key type"}; lockstep uses Ed25519 keys`);
  }
  return key;
}

/** Whether two keys (private or public) have the same public half. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (key: KeyObject) => (key.type === "private" ? createPublicKey(key) : key).export({ type: "spki", format: "der" });
  return spki(a).equals(spki(b));
}
