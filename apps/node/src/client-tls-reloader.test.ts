import { X509Certificate } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { createCertificateAuthority, signClientCertificate, signNodeCertificate, type IssuedKeyPair } from "@lockstep/certs";
import { LockstepClient } from "@lockstep/client";
import { silentLogger, type MetricsSink } from "@lockstep/consensus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createClientTlsReloader } from "./client-tls-reloader.js";
import type { ApiTls } from "./server/client-tls-material.js";
import { startTestApi, type TestApi } from "./testing/start-test-api.js";

// The client port's certificate is renewed under a running node: new connections get the new
// one, open sockets stay, unusable files are refused and the old certificate stays in use.

let directory: string;
let ca: IssuedKeyPair;
const files = () => ({ certFile: join(directory, "client-port.crt"), keyFile: join(directory, "client-port.key") });
const started: TestApi[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "lockstep-client-tls-reload-"));
  ca = await createCertificateAuthority();
});

afterAll(async () => {
  for (const api of started) await api.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function issue(): Promise<ApiTls> {
  const node = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId: "n1", hosts: ["127.0.0.1"] });
  return { cert: node.certPem, key: node.keyPem! };
}

/** Writes aside and renames, as an operator's tooling should. */
function install(path: string, text: string): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}

/** The serial of the certificate a new TLS connection to `port` is shown. */
function presentedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "127.0.0.1" }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber;
      socket.end();
      if (serial === undefined) reject(new Error("no certificate presented"));
      else resolve(serial);
    });
    socket.once("error", reject);
  });
}

function recordingMetrics(): MetricsSink & { counts: Map<string, number>; gauges: Map<string, number> } {
  const counts = new Map<string, number>();
  const gauges = new Map<string, number>();
  return {
    counts,
    gauges,
    increment: (name, labels) => void counts.set(`${name}:${labels?.result ?? ""}`, (counts.get(`${name}:${labels?.result ?? ""}`) ?? 0) + 1),
    observe: () => undefined,
    set: (name, _labels, value) => void gauges.set(name, value),
  };
}

describe("the client port's certificate reloads without a restart", () => {
  it("serves a renewed certificate to new connections while an open watch keeps streaming; refuses unusable files and keeps the one in use", async () => {
    const first = await issue();
    install(files().certFile, first.cert);
    install(files().keyFile, first.key);
    const api = await startTestApi({ tls: first });
    started.push(api);
    const port = Number(new URL(api.baseUrl).port);
    const metrics = recordingMetrics();
    const reloader = createClientTlsReloader({ files: files(), initial: first, api: api.api, onApplied: () => undefined, metrics, logger: silentLogger, intervalMs: 0 });
    expect(await presentedSerial(port)).toBe(serialOf(first.cert));

    const watch = new WebSocket(`${api.webSocketUrl}/v1/watch`, { ca: ca.certPem });
    const events: unknown[] = [];
    watch.on("message", (data: Buffer) => events.push(JSON.parse(data.toString("utf8"))));
    await new Promise((resolve, reject) => watch.once("open", resolve).once("error", reject));

    const renewed = await issue();
    install(files().keyFile, renewed.key);
    install(files().certFile, renewed.cert);
    expect(await reloader.reload()).toBe("reloaded");
    expect(await presentedSerial(port)).toBe(serialOf(renewed.cert));
    expect(metrics.counts.get("client_tls_reloads_total:ok")).toBe(1);
    expect(metrics.gauges.get("client_certificate_expiry_timestamp_seconds")).toBe(Math.floor(Date.parse(new X509Certificate(renewed.cert).validTo) / 1000));

    // The watch opened under the old certificate is still open and still gets what commits.
    const client = new LockstepClient({ endpoints: [api.baseUrl], ca: ca.certPem });
    expect(await client.transition("reload-1", "Running")).toMatchObject({ to: "Running" });
    client.close();
    await expect.poll(() => events.length, { timeout: 3_000 }).toBe(1);
    expect(events[0]).toMatchObject({ type: "transition", key: "reload-1" });
    expect(watch.readyState).toBe(WebSocket.OPEN);

    // A key that belongs to another certificate: refused as a whole, the renewed one stays.
    const other = await issue();
    install(files().keyFile, other.key);
    expect(await reloader.reload()).toBe("failed");
    expect(metrics.counts.get("client_tls_reloads_total:failed")).toBe(1);
    expect(await presentedSerial(port)).toBe(serialOf(renewed.cert));
    expect(() => api.api.reloadTls({ cert: renewed.cert, key: other.key })).toThrow(/key does not belong/);
    watch.close();
  });

  it("after the client CA bundle is replaced, an open watch whose certificate chains only to the dropped CA is closed with 4401", async () => {
    const server = await issue();
    const oldClientCa = await createCertificateAuthority();
    const newClientCa = await createCertificateAuthority();
    const client = await signClientCertificate({ caCertPem: oldClientCa.certPem, caKeyPem: oldClientCa.keyPem, name: "ops" });
    const api = await startTestApi({ tls: { ...server, ca: oldClientCa.certPem }, socketRecheckIntervalMs: 60_000 });
    started.push(api);
    const watch = new WebSocket(`${api.webSocketUrl}/v1/watch`, { ca: ca.certPem, cert: client.certPem, key: client.keyPem! });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => watch.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })));
    await new Promise((resolve, reject) => watch.once("open", resolve).once("error", reject));

    // Both CAs during the overlap: the watch stays.
    expect(api.api.reloadTls({ ...server, ca: `${oldClientCa.certPem}${newClientCa.certPem}` }).socketsClosed).toBe(0);
    expect(watch.readyState).toBe(WebSocket.OPEN);
    expect(api.api.reloadTls({ ...server, ca: newClientCa.certPem }).socketsClosed).toBe(1);
    expect(await closed).toEqual({ code: 4401, reason: expect.stringMatching(/^client_certificate_untrusted: .*client CA bundle now in use/) });
  });
});
