/**
 * deploy/docker/Dockerfile, without a Docker engine: linted by dockerfile-utils (the Dockerfile
 * linter of the VS Code Docker extension), held to what an operator expects of the image, and its
 * build and run steps replayed on this machine: the production folder its build stage cuts with
 * `pnpm --filter node deploy --prod` starts a node with the image's environment, the image's
 * HEALTHCHECK command passes against it, and SIGTERM stops it cleanly with exit 0.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { validate } from "dockerfile-utils";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalCertificates } from "../../apps/node/src/certs/local-certificates.js";
import { freePorts } from "../../apps/node/src/cluster/free-ports.js";
import { deployDirectory } from "./support/manifests.js";
import { environmentNamesIn, knownEnvironmentNames } from "./support/option-names.js";

const dockerfile = readFileSync(`${deployDirectory}docker/Dockerfile`, "utf8");
const repositoryRoot = join(deployDirectory, "..");
const startTimeoutMs = 20_000;
const pollIntervalMs = 100;
const scratch = mkdtempSync(join(tmpdir(), "lockstep-image-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The instructions of each stage, continuation lines joined. */
function stages(): Array<{ from: string; instructions: string[] }> {
  const joined = dockerfile.replace(/\\\n/g, " ").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  const result: Array<{ from: string; instructions: string[] }> = [];
  for (const line of joined) {
    if (/^FROM\s/i.test(line)) result.push({ from: line, instructions: [] });
    else result.at(-1)?.instructions.push(line);
  }
  return result;
}

function instruction(list: readonly string[], name: string): string[] {
  return list.filter((line) => line.toUpperCase().startsWith(`${name} `));
}

describe("the Dockerfile", () => {
  it("has no finding from the Dockerfile linter", () => {
    expect(validate(dockerfile).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value}`)).toEqual([]);
    expect(validate("FROM node:20\nCMD a\nCMD b\n").length, "the linter reports a doubled CMD").toBeGreaterThan(0);
  });

  it("builds in one stage and runs in another, as a non-root user, with tini as PID 1 and a health check on /livez", () => {
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all[0]!.instructions.join("\n")).toContain("pnpm install --frozen-lockfile");
    const runtime = all.at(-1)!.instructions;
    expect(instruction(runtime, "COPY").join("\n")).toMatch(/--from=build/);
    const user = instruction(runtime, "USER").at(-1);
    expect(user, "the runtime stage sets a USER").toBeDefined();
    expect(user).not.toMatch(/\b(root|0)\b/);
    expect(instruction(runtime, "ENTRYPOINT").at(-1)).toMatch(/"\/usr\/bin\/tini", "--"/);
    expect(instruction(runtime, "STOPSIGNAL").at(-1)).toBe("STOPSIGNAL SIGTERM");
    expect(dockerfile).toMatch(/HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:8401\/livez/);
    expect(instruction(runtime, "HEALTHCHECK").at(-1)).toMatch(/CMD \["node", "-e", /);
  });

  it("sets only options lockstep start knows", () => {
    const known = knownEnvironmentNames();
    expect(environmentNamesIn(dockerfile).filter((name) => !known.has(name))).toEqual([]);
  });

  it("cuts a production folder that runs a node which passes the image's health check and stops cleanly on SIGTERM", async () => {
    const output = join(scratch, "opt-lockstep");
    execFileSync("pnpm", ["--filter", "node", "deploy", "--prod", output], { cwd: repositoryRoot, stdio: "pipe", timeout: 120_000 });
    const [peerPort, clientPort] = await freePorts("127.0.0.1", 2);
    const certificates = await ensureLocalCertificates({ directory: join(scratch, "certs"), nodeIds: ["n1"], hosts: ["127.0.0.1"] });
    const healthUrl = `http://127.0.0.1:${clientPort}/livez`;
    // The image's environment, with loopback addresses in place of 0.0.0.0 (this test stays on loopback).
    const environment = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      NODE_ENV: "production",
      LOCKSTEP_NODE_ID: "n1",
      LOCKSTEP_DATA_DIRECTORY: join(scratch, "data"),
      // The image's /etc/lockstep/certs, made here for the test.
      LOCKSTEP_CERTS_DIRECTORY: dirname(certificates.nodes.n1!.certFile),
      LOCKSTEP_MEMBERS: JSON.stringify([{ id: "n1", peerAddress: `127.0.0.1:${peerPort}`, clientUrl: `http://127.0.0.1:${clientPort}` }]),
      HEALTHCHECK_URL: healthUrl,
    };
    const child = spawn(process.execPath, [join(output, "dist", "cli.js"), "start"], { cwd: scratch, env: environment, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const healthCommand = /HEALTHCHECK[^\n]*\n\s*CMD \["node", "-e", ("(?:[^"\\]|\\.)*")\]/.exec(dockerfile)?.[1];
      expect(healthCommand, "the HEALTHCHECK's node -e script").toBeDefined();
      const script = JSON.parse(healthCommand!) as string;
      let healthy = false;
      for (let waitedMs = 0; waitedMs < startTimeoutMs && !healthy; waitedMs += pollIntervalMs) {
        healthy = spawnSync(process.execPath, ["-e", script], { env: environment, timeout: 5_000 }).status === 0;
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
      expect(healthy, `the image's health check never passed\n${log}`).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, log).toBe(0);
    expect(log).toContain('"msg":"stopped"');
  }, 60_000);
});
