import { execFileSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { certificateIdentities, nodeIdOfCertificate } from "./certificate-identity.js";
import { generateEd25519KeyPair, generateKeyPair, keyTypeOf } from "./key-pairs.js";
import {
  createCertificateAuthority,
  createNodeCertificateRequest,
  signClientCertificate,
  signNodeCertificate,
} from "./issue-certificates.js";
import { issuedByOneOf, parseCertificateBundle } from "./pem-bundle.js";

const directory = mkdtempSync(join(tmpdir(), "lockstep-certs-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** openssl is the independent judge: what it accepts, TLS stacks accept. */
function openssl(args: string[], files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return execFileSync("openssl", args, { cwd: directory, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const ca = await createCertificateAuthority();

describe("createCertificateAuthority", () => {
  it("makes a self-signed ECDSA P-256 CA certificate by default, signed with ecdsa-with-SHA256, that openssl reads as a CA", () => {
    const text = openssl(["x509", "-in", "ca.crt", "-noout", "-text"], { "ca.crt": ca.certPem });
    expect(text).toContain("CA:TRUE");
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
    expect(text).toMatch(/NIST CURVE: P-256|ASN1 OID: prime256v1/);
    expect(text).toMatch(/Certificate Sign/);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(keyTypeOf(createPublicKey(ca.keyPem))).toBe("ecdsa-p256");
  });

  it("makes an Ed25519 CA when asked", async () => {
    const edCa = await createCertificateAuthority({ keyType: "ed25519" });
    const text = openssl(["x509", "-in", "ed-ca.crt", "-noout", "-text"], { "ed-ca.crt": edCa.certPem });
    expect(text).toContain("Signature Algorithm: ED25519");
    expect(keyTypeOf(createPublicKey(edCa.keyPem))).toBe("ed25519");
  });

  it("gives every CA a distinct subject, so the old and new CA of a rotation are told apart", async () => {
    const other = await createCertificateAuthority();
    expect(new X509Certificate(other.certPem).subject).not.toBe(new X509Certificate(ca.certPem).subject);
  });
});

describe("signNodeCertificate", () => {
  it("names the member id in a URI SAN plus every host, and openssl verifies it against the CA", async () => {
    const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["localhost", "127.0.0.1", "::1", "Node1.Example.com"] });
    expect(node.keyPem).toContain("PRIVATE KEY");
    const verified = openssl(["verify", "-CAfile", "ca.crt", "node.crt"], { "ca.crt": ca.certPem, "node.crt": node.certPem });
    expect(verified.trim()).toBe("node.crt: OK");
    const text = openssl(["x509", "-in", "node.crt", "-noout", "-ext", "subjectAltName,extendedKeyUsage"], { "node.crt": node.certPem });
    expect(text).toContain("URI:lockstep://node/n1");
    expect(text).toContain("DNS:localhost");
    expect(text).toContain("DNS:node1.example.com");
    expect(text).toContain("IP Address:127.0.0.1");
    expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    expect(nodeIdOfCertificate(new X509Certificate(node.certPem))).toBe("n1");
  });

  it("certifies a given public key and returns no private key", async () => {
    const keys = generateEd25519KeyPair();
    const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n4", hosts: [], publicKeyPem: keys.publicKeyPem });
    expect(node.keyPem).toBeUndefined();
    const certified = new X509Certificate(node.certPem).publicKey.export({ type: "spki", format: "pem" });
    expect(certified).toBe(keys.publicKeyPem);
  });

  it.each(["ecdsa-p256", "ed25519"] as const)("issues a %s node key under either CA type, and openssl verifies each chain", async (keyType) => {
    const edCa = await createCertificateAuthority({ keyType: "ed25519" });
    for (const authority of [ca, edCa]) {
      const node = await signNodeCertificate({ caCertPem: authority.certPem, caKeyPem: authority.keyPem, nodeId: "n2", hosts: ["127.0.0.1"], keyType });
      expect(keyTypeOf(createPublicKey(node.keyPem!))).toBe(keyType);
      expect(openssl(["verify", "-CAfile", "ca.crt", "node.crt"], { "ca.crt": authority.certPem, "node.crt": node.certPem }).trim()).toBe("node.crt: OK");
    }
  });

  it.each(["ecdsa-p256", "ed25519"] as const)("certifies the %s key of a CSR (the join flow)", async (keyType) => {
    const keys = generateKeyPair(keyType);
    const csrPem = await createNodeCertificateRequest({ nodeId: "n6", privateKeyPem: keys.privateKeyPem });
    const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n6", hosts: [], csrPem });
    expect(new X509Certificate(node.certPem).publicKey.export({ type: "spki", format: "pem" })).toBe(keys.publicKeyPem);
  });

  it("certifies the key of a CSR (the join flow), and refuses a CSR whose signature was tampered with", async () => {
    const keys = generateEd25519KeyPair();
    const csrPem = await createNodeCertificateRequest({ nodeId: "n5", privateKeyPem: keys.privateKeyPem });
    expect(() => openssl(["req", "-in", "n5.csr", "-noout", "-verify"], { "n5.csr": csrPem })).not.toThrow();
    const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n5", hosts: ["127.0.0.1"], csrPem });
    expect(new X509Certificate(node.certPem).publicKey.export({ type: "spki", format: "pem" })).toBe(keys.publicKeyPem);

    const der = Buffer.from(csrPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    der[der.length - 1] = der[der.length - 1]! ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n5", hosts: [], csrPem: tampered })).rejects.toMatchObject({ code: "invalid_csr" });
  });

  it("signs with the CA of a bundle that owns the key, so a rotation bundle issues under the new CA", async () => {
    const next = await createCertificateAuthority();
    const bundle = `${ca.certPem}${next.certPem}`;
    const node = await signNodeCertificate({ caCertPem: bundle, caKeyPem: next.keyPem, nodeId: "n1", hosts: [] });
    const [oldCa, newCa] = parseCertificateBundle(bundle, "bundle");
    const leaf = new X509Certificate(node.certPem);
    expect(issuedByOneOf(leaf, [newCa!])).toBe(true);
    expect(issuedByOneOf(leaf, [oldCa!])).toBe(false);
    expect(openssl(["verify", "-CAfile", "bundle.crt", "leaf.crt"], { "bundle.crt": bundle, "leaf.crt": node.certPem }).trim()).toBe("leaf.crt: OK");
  });

  it("can issue a certificate that is already expired (for tests of refusal), which openssl rejects", async () => {
    const expired = await signNodeCertificate({
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      nodeId: "n1",
      hosts: [],
      validFrom: new Date(Date.now() - 3 * 86_400_000),
      validityDays: 1,
    });
    expect(() => openssl(["verify", "-CAfile", "ca.crt", "expired.crt"], { "ca.crt": ca.certPem, "expired.crt": expired.certPem })).toThrow(/expired/);
  });

  it.each([
    { case: "a CA key of another CA", change: { caKeyPem: generateEd25519KeyPair().privateKeyPem }, code: "ca_key_mismatch" },
    { case: "a P-384 public key", change: { publicKeyPem: generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "pem" }).toString() }, code: "invalid_key" },
    { case: "a node id with a slash", change: { nodeId: "n1/../admin" }, code: "invalid_identity" },
    { case: "a host that is neither IP nor DNS name", change: { hosts: ["bad host"] }, code: "invalid_host" },
    { case: "zero days", change: { validityDays: 0 }, code: "invalid_validity" },
    { case: "a lifetime beyond the CA's", change: { validityDays: 4000 }, code: "invalid_validity" },
    { case: "an RSA public key", change: { publicKeyPem: "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMJd0aBIh3/oOHdSDM5aALiPJ9n2L1zd\nR3NmR0k0RAKvQ0qfzYNQNkwoHtmxZjgrcbNG8cQzEEXsQ7z9PafE1EUCAwEAAQ==\n-----END PUBLIC KEY-----\n" }, code: "invalid_key" },
  ])("refuses $case with a CertsError naming the problem", async ({ change, code }) => {
    await expect(signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: [], ...change })).rejects.toMatchObject({ name: "CertsError", code });
  });
});

describe("signClientCertificate", () => {
  it("names the client in a URI SAN and is valid for client authentication only", async () => {
    const client = await signClientCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name: "ops" });
    const text = openssl(["x509", "-in", "client.crt", "-noout", "-ext", "subjectAltName,extendedKeyUsage"], { "client.crt": client.certPem });
    expect(text).toContain("URI:lockstep://client/ops");
    expect(text).not.toContain("Server Authentication");
    const certificate = new X509Certificate(client.certPem);
    expect(certificateIdentities(certificate)).toEqual([{ kind: "client", name: "ops" }]);
    expect(nodeIdOfCertificate(certificate)).toBeUndefined();
    expect(keyTypeOf(createPublicKey(client.keyPem!))).toBe("ecdsa-p256");
  });
});
