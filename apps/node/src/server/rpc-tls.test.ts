import { createCertificateAuthority, signClientCertificate, signNodeCertificate } from "@lockstep/certs";
import { LockstepClient, LockstepError } from "@lockstep/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

// /v1/rpc on an HTTPS port that requires client certificates: wss://, and each frame checked on the connection's certificate.

let api: TestApi;
let ca: { certPem: string; keyPem: string };
let client: { certPem: string; keyPem: string };

beforeAll(async () => {
  ca = await createCertificateAuthority();
  const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["127.0.0.1", "localhost"] });
  const signed = await signClientCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name: "ops" });
  client = { certPem: signed.certPem, keyPem: signed.keyPem! };
  api = await startTestApi({ tls: { cert: node.certPem, key: node.keyPem!, ca: ca.certPem } });
});

afterAll(async () => {
  await api.stop();
});

describe("/v1/rpc over TLS with client certificates", () => {
  it("serves the ws transport of a client presenting a certificate of the client CA", async () => {
    const lockstep = new LockstepClient({ endpoints: [api.baseUrl], transport: "ws", ca: ca.certPem, cert: client.certPem, key: client.keyPem, retryAttemptsMax: 0 });
    try {
      expect(await lockstep.transition("tls-1", "Running")).toMatchObject({ key: "tls-1", to: "Running" });
      expect(await lockstep.get("tls-1")).toMatchObject({ state: "Running" });
    } finally {
      lockstep.close();
    }
  });

  it("refuses a client without a certificate (the TLS handshake or the upgrade fails)", async () => {
    const lockstep = new LockstepClient({ endpoints: [api.baseUrl], transport: "ws", ca: ca.certPem, retryAttemptsMax: 0 });
    try {
      await expect(lockstep.get("tls-1")).rejects.toBeInstanceOf(LockstepError);
    } finally {
      lockstep.close();
    }
  });
});
