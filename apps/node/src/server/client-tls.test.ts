import { createCertificateAuthority, signNodeCertificate } from "@lockstep/certs";
import { LockstepClient, LockstepError } from "@lockstep/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let ca: { certPem: string; keyPem: string };
let node: { certPem: string; keyPem?: string };
const started: TestApi[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority();
  node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["127.0.0.1", "localhost"] });
});

afterAll(async () => {
  for (const api of started) await api.stop();
});

async function start(options: { requireClientCertificates: boolean }): Promise<TestApi> {
  const api = await startTestApi({ tls: { cert: node.certPem, key: node.keyPem!, ...(options.requireClientCertificates ? { ca: ca.certPem } : {}) } });
  started.push(api);
  return api;
}

describe("HTTPS on the client port", () => {
  it("serves a client that trusts the cluster CA, and refuses to be reached without TLS", async () => {
    const api = await start({ requireClientCertificates: false });
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem, retryAttemptsMax: 0 });
    expect(await client.get("web-1")).toEqual({ key: "web-1", state: "Init", revision: 0 });
    await expect(fetch(api.baseUrl.replace("https:", "http:") + "/livez")).rejects.toThrow();
    // The system's trust store does not know the cluster CA: a client without it cannot connect.
    const untrusting = new LockstepClient({ endpoints: [api.baseUrl], retryAttemptsMax: 0 });
    await expect(untrusting.get("web-1")).rejects.toBeInstanceOf(LockstepError);
  });

  it("with client certificates required, refuses a client that has none at the handshake", async () => {
    const api = await start({ requireClientCertificates: true });
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem, retryAttemptsMax: 0 });
    await expect(client.get("web-1")).rejects.toMatchObject({ code: "unavailable" });
  });
});
