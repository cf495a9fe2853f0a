import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeCluster, unusedEndpoint } from "../../../../packages/client/src/testing/fake-server.js";
import { waitFor } from "../../../../packages/client/src/testing/wait-for.js";
import { runClientCommand, type ClientCommandIo } from "./run-client-command.js";

let fake: FakeCluster;
beforeEach(async () => {
  fake = await FakeCluster.start(3);
});
afterEach(async () => {
  await fake.stop();
});

interface Captured {
  stdout: string;
  stderr: string;
}

function captureIo(stopSignal?: AbortSignal): { io: ClientCommandIo; captured: Captured } {
  const captured: Captured = { stdout: "", stderr: "" };
  const io: ClientCommandIo = {
    stdout: (text) => (captured.stdout += text),
    stderr: (text) => (captured.stderr += text),
    env: { LOCKSTEP_ENDPOINTS: fake.nodes.map((node) => node.url).join(",") },
    clientOptions: { retryDelayMs: 1, retryDelayMaxMs: 5, retryAttemptsMax: 2 },
    ...(stopSignal === undefined ? {} : { stopSignal }),
  };
  return { io, captured };
}

async function run(argv: string[]): Promise<Captured & { code: number }> {
  const { io, captured } = captureIo();
  const code = await runClientCommand(argv, io);
  return { code, ...captured };
}

describe("lockstep transition / get", () => {
  it("moves a key and reads it back", async () => {
    expect(await run(["transition", "web-1", "Running"])).toEqual({ code: 0, stdout: "web-1: Init -> Running (revision 1)\n", stderr: "" });
    expect(await run(["get", "web-1"])).toEqual({ code: 0, stdout: "web-1: Running (revision 1)\n", stderr: "" });
    expect(await run(["get", "web-1", "--stale", "--json"])).toEqual({
      code: 0,
      stdout: '{"key":"web-1","state":"Running","revision":1}\n',
      stderr: "",
    });
    expect(fake.requests.at(-1)?.path).toBe("/v1/machines/web-1?consistency=stale");
  });

  it("exits 1 with the allowed states when the cluster refuses", async () => {
    const result = await run(["transition", "web-1", "Stopped"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("lockstep: refused (invalid_transition): cannot go from Init to Stopped; allowed from Init: Running\n");
  });

  it("reports a refusal as JSON on stdout with --json", async () => {
    const result = await run(["transition", "web-1", "Running", "--expect", "Stopped", "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "expect_failed", status: 409, actual: "Init" } });
  });

  it("exits 1 when no endpoint answers", async () => {
    const result = await run(["get", "web-1", "--endpoints", await unusedEndpoint()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lockstep: cluster unavailable: /);
  });

  it("exits 2 with the command's help on a usage error", async () => {
    const result = await run(["transition", "web-1", "no such"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"no such" is not a valid state name\n\nUsage: lockstep transition/);
  });

  it("deletes a key, refusing to guess which one", async () => {
    await run(["transition", "web-1", "Running"]);
    expect(await run(["delete", "web-1"])).toEqual({ code: 0, stdout: "web-1: deleted (was Running; revision 2)\n", stderr: "" });
    expect(fake.machines.has("web-1")).toBe(false);
    expect(await run(["delete", "web-1"])).toMatchObject({ code: 0, stdout: "web-1: nothing to delete (it is Init; revision 3)\n" });
    const missing = await run(["delete"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/delete needs one KEY\n\nUsage: lockstep delete KEY/);
  });

  it("prints help with exit 0", async () => {
    const result = await run(["get", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: lockstep get \[KEY\]/);
  });
});

describe("lockstep status", () => {
  it("prints one row per member, the leader marked, an unreachable member shown", async () => {
    fake.applyTransition("a", "Running");
    await fake.stopNode("n3");
    const result = await run(["status"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("leader n1, term 1");
    expect(lines[2]).toMatch(/^NODE\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+CLIENT URL$/);
    expect(lines[3]).toMatch(/^n1 \*\s+leader\s+1\s+1\s+1\s+0\s+http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[4]).toMatch(/^n2\s+follower\s+1\s+1\s+1\s+0\s+http/);
    expect(lines[5]).toMatch(/^n3\s+unreachable\s+-\s+-\s+-\s+0\s+http/);
  });

  it("prints the report as JSON with --json", async () => {
    const result = await run(["status", "--json"]);
    const report = JSON.parse(result.stdout) as { leader: string; members: { id: string; isLeader: boolean; reachable: boolean }[] };
    expect(report.leader).toBe("n1");
    expect(report.members.map((member) => [member.id, member.isLeader, member.reachable])).toEqual([
      ["n1", true, true],
      ["n2", false, true],
      ["n3", false, true],
    ]);
  });
});

describe("lockstep watch", () => {
  it("prints one line per event until stopped, then exits 0", async () => {
    fake.applyTransition("a", "Running");
    const controller = new AbortController();
    const { io, captured } = captureIo(controller.signal);
    const exit = runClientCommand(["watch", "--from", "1"], io);
    await waitFor(() => captured.stdout.split("\n").length === 2);
    fake.applyTransition("a", "Stopped");
    await waitFor(() => captured.stdout.split("\n").length === 3);
    controller.abort();
    expect(await exit).toBe(0);
    expect(captured.stdout).toBe("#1 a: Init -> Running\n#2 a: Running -> Stopped\n");
  });

  it("prints JSON lines with --json and exits 1 when the revision was compacted", async () => {
    fake.watchOldestRevision = 10;
    const { io, captured } = captureIo(new AbortController().signal);
    expect(await runClientCommand(["watch", "--from", "3", "--json"], io)).toBe(1);
    expect(JSON.parse(captured.stdout)).toMatchObject({ error: { code: "compacted", oldestRevision: 10 } });
  });
});
