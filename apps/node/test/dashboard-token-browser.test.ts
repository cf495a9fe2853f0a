/**
 * The dashboard of a node whose client port requires tokens, in Debian's headless Chromium
 * (playwright-core, never a browser download): HTTPS with the cluster CA and tokens on. The page
 * asks for a token, says why a wrong one (401) or a too narrow one (403) is refused, keeps a good
 * one in sessionStorage (never in the URL), uses it for its fetches and for its WebSocket feeds
 * (offered as a subprotocol, checked by the node like a header), survives a reload, and asks
 * again once the token is revoked.
 *
 * Browsers do not take Ed25519 certificates in TLS (Chromium answers ERR_SSL_VERSION_OR_CIPHER_MISMATCH),
 * so this is also the test that lockstep's own certificates are ones a browser accepts: each client
 * port serves its node's certificate as `lockstep certs create-local` (what `pnpm start` runs)
 * made it, ECDSA P-256 under an ECDSA P-256 cluster CA, the same certificate its peer port uses.
 * Chromium trusts exactly those certificates (their SPKI hashes, `--ignore-certificate-errors-spki-list`),
 * not every certificate as `ignoreHTTPSErrors` would, and the page must load over HTTPS.
 */
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { keyTypeOf } from "@lockstep/certs";
import { LockstepClient } from "@lockstep/client";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricSum, waitFor } from "./support/node-api.js";
import { fastTiming, type ProcessCluster } from "./support/process-cluster.js";
import { secureMetricsText, secureRequest } from "./support/secure-api.js";
import { prepareSecureCluster, waitForAdminToken, type SecureProcessCluster } from "./support/secure-process-cluster.js";

const chromiumPath = "/usr/bin/chromium";
const pageWaitMs = 15_000;

let secure: SecureProcessCluster;
let cluster: ProcessCluster;
let browser: Browser | undefined;

/** What `--ignore-certificate-errors-spki-list` takes: base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo. */
function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

beforeAll(async () => {
  secure = await prepareSecureCluster({ cluster: "dashboard-tokens", config: { ...fastTiming, tickMs: 50, dashboardFeedIntervalMs: 200 } });
  cluster = secure.cluster;
  cluster.startAll();
  await waitForAdminToken(secure, 30_000);
}, 40_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.destroy();
});

function admin(): LockstepClient {
  return new LockstepClient({ endpoints: cluster.clientUrls, token: secure.adminToken, ca: secure.ca, retryDelayMs: 50, retryAttemptsMax: 10 });
}

async function refusals(clientUrl: string, reason: string): Promise<number> {
  return metricSum(await secureMetricsText(clientUrl, secure.ca), "lockstep_client_refusals_total", { reason });
}

async function enterToken(page: Page, token: string): Promise<void> {
  await page.locator("#auth-token").fill(token);
  await page.locator("#auth-form button[type=submit]").click();
}

describe("the dashboard asks for a token on a node that requires one", () => {
  it("refuses to show anything without one, explains 401 and 403, then goes live with a read token", async () => {
    expect(existsSync(chromiumPath), `${chromiumPath} is missing: install it with \`apt-get update && apt-get install -y chromium\``).toBe(true);
    const viewer = (await admin().createToken({ name: "viewer", role: "read", prefixes: [] })).token;
    const narrow = (await admin().createToken({ name: "narrow", role: "read", prefixes: ["web-"] })).token;
    const writer = new LockstepClient({ endpoints: cluster.clientUrls, token: (await admin().createToken({ name: "writer", role: "write", prefixes: [] })).token, ca: secure.ca });
    await writer.transition("web-1", "Running");
    const { leader } = await writer.cluster();
    const served = cluster.nodes[0]!;
    const unauthenticatedBefore = await refusals(served.clientUrl, "unauthenticated");

    // Every client port serves its node certificate, made by lockstep with the default key type.
    const servedCertificates = cluster.nodes.map((node) => readFileSync(join(cluster.certsDirectory(node.id), "node.crt"), "utf8"));
    for (const pem of servedCertificates) expect(keyTypeOf(new X509Certificate(pem).publicKey)).toBe("ecdsa-p256");
    expect(keyTypeOf(new X509Certificate(readFileSync(cluster.caFiles.certFile, "utf8")).publicKey)).toBe("ecdsa-p256");

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        // The cluster CA is not in the browser's store: trust exactly these certificates' keys.
        `--ignore-certificate-errors-spki-list=${servedCertificates.map(spkiHash).join(",")}`,
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const answer = await page.goto(`${served.clientUrl}/`, { timeout: pageWaitMs });
    expect(served.clientUrl).toMatch(/^https:\/\//);
    expect(answer?.status()).toBe(200);
    expect((await answer?.securityDetails())?.protocol).toMatch(/^TLS 1\.[23]$/);

    // No token: the form, a message that says so, and no cluster data.
    const auth = page.locator("#auth");
    await auth.waitFor({ state: "visible", timeout: pageWaitMs });
    expect(await auth.getAttribute("data-status")).toBe("401");
    expect(await page.locator("#auth-message").textContent()).toMatch(/requires a token/);
    expect(await page.locator("#leader").textContent()).toBe("—");
    expect(await refusals(served.clientUrl, "unauthenticated")).toBeGreaterThan(unauthenticatedBefore);

    // A token the cluster does not know: 401, said as such.
    await enterToken(page, "viewer.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    await expect.poll(() => page.locator("#auth-message").textContent(), { timeout: pageWaitMs }).toMatch(/refused this token \(401/);
    // A read token limited to a prefix cannot page through every key: 403, said as such.
    await enterToken(page, narrow);
    await expect.poll(() => auth.getAttribute("data-status"), { timeout: pageWaitMs }).toBe("403");
    expect(await page.locator("#auth-message").textContent()).toMatch(/may not see the dashboard \(403 forbidden\)/);
    expect(await page.locator("#auth-detail").textContent()).toMatch(/limited to keys starting with web-/);

    // A read token: the page goes live, fetches and both WebSockets carrying it.
    await enterToken(page, viewer);
    await auth.waitFor({ state: "hidden", timeout: pageWaitMs });
    await expect.poll(() => page.locator("#leader").textContent(), { timeout: pageWaitMs }).toBe(leader);
    await page.locator('[data-key="web-1"] .state').filter({ hasText: "Running" }).waitFor({ timeout: pageWaitMs });
    await page.locator("#connection[data-state=live]").waitFor({ timeout: pageWaitMs });
    await expect.poll(() => page.locator('#nodes tr[data-node] td.reachable[data-reachable="yes"]').count(), { timeout: pageWaitMs }).toBe(3);
    const live = await writer.transition("web-1", "Stopped");
    await page.locator(`#events li[data-revision="${live.revision}"]`).waitFor({ timeout: pageWaitMs });
    await page.locator('[data-key="web-1"] .state').filter({ hasText: "Stopped" }).waitFor({ timeout: pageWaitMs });
    expect(await page.evaluate("sessionStorage.getItem('lockstep.token')")).toBe(viewer);
    expect(page.url()).toBe(`${served.clientUrl}/`);

    // A reload keeps the token for this tab: no form, straight to live.
    await page.reload({ timeout: pageWaitMs });
    await page.locator("#connection[data-state=live]").waitFor({ timeout: pageWaitMs });
    expect(await auth.isHidden()).toBe(true);
    expect(page.url()).not.toContain(viewer.split(".")[1]!);

    // Revoked: the page's next fetches are refused and it asks for a token again.
    await admin().revokeToken("viewer");
    await expect.poll(() => auth.getAttribute("data-status"), { timeout: pageWaitMs }).toBe("401");
    await auth.waitFor({ state: "visible", timeout: pageWaitMs });
    expect(await page.locator("#auth-message").textContent()).toMatch(/unknown or was revoked/);
    await waitFor("the revoked token counted", async () => ((await refusals(served.clientUrl, "invalid_token")) > 0 ? true : undefined), pageWaitMs);
    expect(await refusals(served.clientUrl, "forbidden_prefix")).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
    // The upgrade checks the subprotocol's token as the HTTP path checks the header: a wrong one is refused.
    const plain = await secureRequest(`${served.clientUrl}/v1/dashboard-samples`, { ca: secure.ca, token: viewer });
    expect(plain.status).toBe(401);
  }, 90_000);
});
