/**
 * The dashboard in a real browser (issue 5, item 8): Debian's Chromium, driven headless by
 * playwright-core, loads `/` from a running three-process cluster and must show the leader the
 * cluster reports and the state of a key we moved; the page is saved as .test-results/dashboard.png
 * (LOCKSTEP_SCREENSHOT_PATH overrides it; docs/dashboard.png is such a screenshot, committed by hand).
 *
 * Needs `apt-get install -y chromium` (/usr/bin/chromium). No browser is ever downloaded; a
 * missing one fails this test with that instruction instead of skipping it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreedLeader } from "../src/cluster/cluster-probe.js";
import { clusterStatus, postTransition, waitForConvergence } from "./support/node-api.js";
import { fastTiming, ProcessCluster } from "./support/process-cluster.js";

const chromiumPath = "/usr/bin/chromium";
const screenshotPath = process.env.LOCKSTEP_SCREENSHOT_PATH ?? fileURLToPath(new URL("../../../.test-results/dashboard.png", import.meta.url));
const startTimeoutMs = 20_000;
const pageWaitMs = 15_000;

let cluster: ProcessCluster;
let browser: Browser | undefined;

beforeAll(async () => {
  // A slower tick than the other tests: the dashboard is about what a user sees, not speed.
  cluster = await ProcessCluster.prepare({ cluster: "dashboard", config: { ...fastTiming, tickMs: 50, dashboardFeedIntervalMs: 200 } });
  cluster.startAll();
  if ((await waitForAgreedLeader(cluster.clientUrls, startTimeoutMs)) === null) throw new Error(`no leader\n${cluster.logTail()}`);
}, startTimeoutMs + 5_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.destroy();
});

describe("the dashboard in headless Chromium", () => {
  it("shows the real leader and the states of the keys, and is saved as a screenshot", async () => {
    expect(existsSync(chromiumPath), `${chromiumPath} is missing: install it with \`apt-get update && apt-get install -y chromium\``).toBe(true);

    const moves: Array<[string, string]> = [["web-1", "Running"], ["web-2", "Running"], ["web-2", "Stopped"], ["db-1", "Running"]];
    for (const [key, to] of moves) {
      const answer = await postTransition(cluster.nodes[0]!.clientUrl, key, { to });
      expect(answer.status, `${key} -> ${to}: ${JSON.stringify(answer.body)}`).toBe(200);
    }
    await waitForConvergence(cluster.clientUrls, 10_000);
    const { leader } = await clusterStatus(cluster.nodes[1]!.clientUrl);
    expect(leader).not.toBeNull();

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // Served by a follower on purpose: its page must still name the leader the cluster agrees on.
    const served = cluster.nodes.find((node) => node.id !== leader)!;
    await page.goto(`${served.clientUrl}/`, { timeout: pageWaitMs });

    await expect.poll(() => page.locator("#leader").textContent(), { timeout: pageWaitMs }).toBe(leader);
    for (const [key, state] of [["web-1", "Running"], ["web-2", "Stopped"], ["db-1", "Running"]]) {
      const cell = page.locator(`[data-key="${key}"] .state`);
      await cell.filter({ hasText: state! }).waitFor({ timeout: pageWaitMs });
      expect((await cell.textContent())?.trim(), key).toBe(state);
    }
    // Every member shows up as reachable, and exactly one row is the leader.
    await expect.poll(() => page.locator('#nodes tr[data-node] td.reachable[data-reachable="yes"]').count(), { timeout: pageWaitMs }).toBe(3);
    await expect.poll(() => page.locator('#nodes tr[data-role="leader"]').count(), { timeout: pageWaitMs }).toBe(1);
    expect(await page.locator('#nodes tr[data-role="leader"]').getAttribute("data-node")).toBe(leader);
    expect(await page.locator("#self").textContent()).toBe(served.id);

    // Live: a transition made while the page is open reaches its state table and its event list.
    await page.locator("#connection[data-state=live]").waitFor({ timeout: pageWaitMs });
    const live = await postTransition(cluster.nodes[2]!.clientUrl, "web-1", { to: "Stopped" });
    expect(live.status, JSON.stringify(live.body)).toBe(200);
    const revision = (live.body as { revision: number }).revision;
    await page.locator('[data-key="web-1"] .state').filter({ hasText: "Stopped" }).waitFor({ timeout: pageWaitMs });
    expect((await page.locator(`#events li[data-revision="${revision}"]`).textContent({ timeout: pageWaitMs }))?.replace(/\s+/g, " ")).toBe(`#${revision} web-1: Running → Stopped`);
    expect(pageErrors).toEqual([]);
    // Charts (a flat line has no height, so "attached" rather than "visible"): commits/s and commit latency from this node's feed, follower lag from the leader's samples.
    for (let index = 0; index < 12; index++) {
      const answer = await postTransition(served.clientUrl, `chart-${index % 3}`, { to: ["Running", "Stopped", "Init"][Math.floor(index / 3) % 3]! });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await expect.poll(async () => Number(await page.locator("#chart-commits").getAttribute("data-points")), { timeout: pageWaitMs }).toBeGreaterThan(1);
    await page.locator('#chart-commits polyline[data-series="commits/s"]').waitFor({ state: "attached", timeout: pageWaitMs });
    await page.locator('#chart-latency polyline[data-series="p99"]').waitFor({ state: "attached", timeout: pageWaitMs });
    const followers = cluster.nodes.filter((node) => node.id !== leader).map((node) => node.id);
    for (const follower of followers) await page.locator(`#chart-lag polyline[data-series="${follower}"]`).waitFor({ state: "attached", timeout: pageWaitMs });
    // Membership: every member a voter here; the leader election the page saw, with its term.
    expect(await page.locator("#nodes td.voter").allTextContents()).toEqual(["voter", "voter", "voter"]);
    expect(await page.locator("#leader-changes li").first().textContent()).toContain(leader!);
    expect(await page.locator("#page-info").textContent()).toMatch(/^Page 1 of 1 \([0-9]+ keys\)$/);
    // The nodes table polls every member once a second; wait until it caught up with the commit, so the screenshot is consistent.
    const commitShown = async (): Promise<string[]> => [(await page.locator("#commit-index").textContent()) ?? "", ...(await page.locator("#nodes td.commit").allTextContents())];
    await expect.poll(async () => new Set(await commitShown()).size, { timeout: pageWaitMs }).toBe(1);

    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(existsSync(screenshotPath)).toBe(true);
  }, 60_000);
});
