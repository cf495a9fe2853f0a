import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, signClientCertificate, signNodeCertificate } from "@lockstep/certs";
import { LockstepClient, LockstepError, type WatchEvent } from "@lockstep/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClientCommand } from "../cli/run-client-command.js";
import { runCertsCommand } from "../commands/certs.js";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let ca: { certPem: string; keyPem: string };
let node: { certPem: string; keyPem?: string };
/** What `lockstep certs create-client ops` wrote, as files. */
let certsDirectory: string;
let goodClient: { certFile: string; keyFile: string; certPem: string; keyPem: string };
/** A client certificate of another CA: looks right, is not ours. */
let foreignClient: { certPem: string; keyPem: string };
const started: TestApi[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority();
  node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["127.0.0.1", "localhost"] });
  certsDirectory = mkdtempSync(join(tmpdir(), "lockstep-client-tls-"));
  writeFileSync(join(certsDirectory, "ca.crt"), ca.certPem);
  writeFileSync(join(certsDirectory, "ca.key"), ca.keyPem, { mode: 0o600 });
  const output = { stdout: () => {}, stderr: (text: string) => process.stderr.write(text) };
  expect(await runCertsCommand(["create-client", "ops", "--certs-dir", certsDirectory, "--ca-key", join(certsDirectory, "ca.key")], output)).toBe(0);
  const certFile = join(certsDirectory, "client.ops.crt");
  const keyFile = join(certsDirectory, "client.ops.key");
  goodClient = { certFile, keyFile, certPem: readFileSync(certFile, "utf8"), keyPem: readFileSync(keyFile, "utf8") };
  const otherCa = await createCertificateAuthority();
  const foreign = await signClientCertificate({ caCertPem: otherCa.certPem, caKeyPem: otherCa.keyPem, name: "ops" });
  foreignClient = { certPem: foreign.certPem, keyPem: foreign.keyPem! };
});

afterAll(async () => {
  for (const api of started) await api.stop();
  rmSync(certsDirectory, { recursive: true, force: true });
});

async function start(options: { requireClientCertificates: boolean }): Promise<TestApi> {
  const api = await startTestApi({ tls: { cert: node.certPem, key: node.keyPem!, ...(options.requireClientCertificates ? { ca: ca.certPem } : {}) } });
  started.push(api);
  return api;
}

async function refusals(api: TestApi, reason: string): Promise<number> {
  const line = (await api.metricsText()).split("\n").find((text) => text.startsWith(`lockstep_client_refusals_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

/** One raw HTTPS GET with exactly this TLS material: the status and JSON body a user would see. */
function rawGet(url: string, tls: { cert?: string; key?: string }): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { ca: ca.certPem, ...tls }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    request.on("error", reject);
    request.end();
  });
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

  it("counts a failed handshake (plain HTTP sent to the HTTPS port)", async () => {
    const api = await start({ requireClientCertificates: false });
    const before = await refusals(api, "tls_handshake");
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(api.baseUrl).port), "127.0.0.1", () => socket.write("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      socket.on("close", () => resolve());
      socket.on("error", () => {});
    });
    expect(await refusals(api, "tls_handshake")).toBe(before + 1);
  });
});

describe("client certificates on the client port (clientTlsCaFile)", () => {
  it("refuses a client without a certificate: 401 with the reason, on every route, counted", async () => {
    const api = await start({ requireClientCertificates: true });
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem, retryAttemptsMax: 0 });
    await expect(client.get("web-1")).rejects.toMatchObject({ code: "unauthenticated", status: 401 });
    const before = await refusals(api, "no_client_certificate");
    expect(before).toBeGreaterThan(0);
    const answer = await rawGet(`${api.baseUrl}/livez`, {});
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: "unauthenticated", message: expect.stringMatching(/requires a client certificate/) } });
    expect(await refusals(api, "no_client_certificate")).toBe(before + 1);
  });

  it("refuses a certificate of another CA: 401 untrusted, counted", async () => {
    const api = await start({ requireClientCertificates: true });
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem, cert: foreignClient.certPem, key: foreignClient.keyPem, retryAttemptsMax: 0 });
    await expect(client.transition("web-1", "Running")).rejects.toMatchObject({ code: "unauthenticated", status: 401 });
    const answer = await rawGet(`${api.baseUrl}/v1/machines/web-1`, { cert: foreignClient.certPem, key: foreignClient.keyPem });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { message: expect.stringMatching(/not one this node trusts/) } });
    expect(await refusals(api, "client_certificate_untrusted")).toBeGreaterThanOrEqual(2);
    expect(await refusals(api, "no_client_certificate")).toBe(0);
  });

  it("accepts the certificate `lockstep certs create-client` made: typed client, watch and CLI", async () => {
    const api = await start({ requireClientCertificates: true });
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem, cert: goodClient.certPem, key: goodClient.keyPem, retryAttemptsMax: 0 });
    const events: WatchEvent[] = [];
    const watch = client.watch({ onEvent: (event) => events.push(event) });
    expect(await client.transition("web-1", "Running")).toMatchObject({ key: "web-1", from: "Init", to: "Running" });
    const deadline = Date.now() + 5_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    watch.close();
    expect(events.map((event) => `${event.key}:${event.type === "transition" ? event.to : "deleted"}`)).toEqual(["web-1:Running"]);

    let stdout = "";
    let stderr = "";
    const io = { stdout: (text: string) => (stdout += text), stderr: (text: string) => (stderr += text), env: {}, clientOptions: { retryAttemptsMax: 0 } };
    const cli = ["--endpoints", api.baseUrl, "--cacert", join(certsDirectory, "ca.crt"), "--cert", goodClient.certFile, "--key", goodClient.keyFile];
    expect(await runClientCommand(["get", "web-1", ...cli], io), stderr).toBe(0);
    expect(stdout).toMatch(/^web-1: Running \(revision [0-9]+\)\n$/);
    expect(await refusals(api, "no_client_certificate")).toBe(0);
    expect(await refusals(api, "client_certificate_untrusted")).toBe(0);
  });
});
