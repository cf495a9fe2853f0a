import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MemberInfo } from "@lockstep/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { LockstepClient } from "./lockstep-client.js";
import { LockstepError } from "./lockstep-error.js";

/** A one-node fake of the membership API: enough to check what the client sends and how it reads answers. */
class FakeMembershipNode {
  members: MemberInfo[] = [{ id: "n1", peerAddress: "127.0.0.1:7401", clientUrl: "http://127.0.0.1:8401", voter: true }];
  index = 10;
  readonly requests: Array<{ method: string; path: string; body: unknown }> = [];
  /** The next N requests are answered 503 no_leader, as during an election. */
  noLeaderAnswers = 0;
  snapshotBytes = Buffer.from("lockstep-backup 1\n{}\nbytes");
  url = "";
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = request.url ?? "/";
    const method = request.method ?? "GET";
    this.requests.push({ method, path, body: text === "" ? undefined : JSON.parse(text) });
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const refuse = (status: number, code: string, message: string) => send(status, { error: { code, message, reason: code } });
    if (path === "/v1/cluster") return send(200, { self: "n1", leader: "n1", term: 2, commitIndex: this.index, appliedIndex: this.index, members: this.members.map((member) => ({ ...member, role: "leader", matchIndex: null, lag: null })) });
    if (this.noLeaderAnswers > 0) {
      this.noLeaderAnswers -= 1;
      return refuse(503, "no_leader", "no leader: an election is under way");
    }
    if (method === "GET" && path === "/v1/members") return send(200, { leader: "n1", members: this.members });
    if (method === "GET" && path === "/v1/snapshot") {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(this.snapshotBytes);
      return;
    }
    if (method === "POST" && path === "/v1/members") {
      const body = JSON.parse(text) as { id: string; peerAddress: string; clientUrl: string };
      if (this.members.some((member) => member.id === body.id)) return refuse(409, "already_member", `${body.id} is already a member`);
      this.members.push({ ...body, voter: false });
      return send(200, { index: ++this.index, members: this.members });
    }
    const promote = /^\/v1\/members\/([^/]+)\/promote$/.exec(path);
    if (method === "POST" && promote !== null) {
      const member = this.members.find((candidate) => candidate.id === promote[1]);
      if (member === undefined) return refuse(404, "unknown_member", `${promote[1]} is not a member`);
      if (member.voter) return refuse(409, "not_a_learner", `${member.id} already votes`);
      member.voter = true;
      return send(200, { index: ++this.index, members: this.members });
    }
    const remove = /^\/v1\/members\/([^/]+)$/.exec(path);
    if (method === "DELETE" && remove !== null) {
      if (remove[1] === "n1") return refuse(409, "would_lose_quorum", "removing n1 would leave no voter");
      this.members = this.members.filter((member) => member.id !== remove[1]);
      return send(200, { index: ++this.index, members: this.members });
    }
    if (method === "POST" && path === "/v1/join-tokens") return send(200, { token: `abc123.${"x".repeat(32)}`, tokenId: "abc123", expiresAtMs: 1_000 });
    refuse(404, "not_found", `no route for ${method} ${path}`);
  }
}

let fake: FakeMembershipNode;
afterEach(async () => {
  await fake.stop();
});

async function started(): Promise<{ client: LockstepClient }> {
  fake = new FakeMembershipNode();
  await fake.start();
  return { client: new LockstepClient({ endpoints: [fake.url], retryDelayMs: 1, retryDelayMaxMs: 5 }) };
}

async function caught(promise: Promise<unknown>): Promise<LockstepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LockstepError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("membership methods", () => {
  it("adds a learner, promotes it and removes it, with the routes and bodies of docs/api.md", async () => {
    const { client } = await started();
    const added = await client.addMember({ id: "n4", peerAddress: "127.0.0.1:7404", clientUrl: "http://127.0.0.1:8404" });
    expect(added.members.find((member) => member.id === "n4")).toMatchObject({ voter: false });
    expect((await client.promoteMember("n4")).members.find((member) => member.id === "n4")).toMatchObject({ voter: true });
    expect((await client.members()).members.map((member) => member.id)).toEqual(["n1", "n4"]);
    expect((await client.removeMember("n4")).members.map((member) => member.id)).toEqual(["n1"]);
    expect(fake.requests.filter((request) => request.path !== "/v1/cluster").map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /v1/members",
      "POST /v1/members/n4/promote",
      "GET /v1/members",
      "DELETE /v1/members/n4",
    ]);
    expect(fake.requests.find((request) => request.method === "POST")?.body).toEqual({ id: "n4", peerAddress: "127.0.0.1:7404", clientUrl: "http://127.0.0.1:8404" });
  });

  it("throws the server's refusal with its code, status and reason, without retrying it", async () => {
    const { client } = await started();
    const quorum = await caught(client.removeMember("n1"));
    expect(quorum).toMatchObject({ code: "would_lose_quorum", status: 409, details: { reason: "would_lose_quorum" } });
    expect(await caught(client.promoteMember("n9"))).toMatchObject({ code: "unknown_member", status: 404 });
    expect(await caught(client.promoteMember("n1"))).toMatchObject({ code: "not_a_learner", status: 409 });
    expect(fake.requests.filter((request) => request.method === "DELETE")).toHaveLength(1);
  });

  it("retries a 503 no_leader (nothing was proposed) and refuses bad input before sending", async () => {
    const { client } = await started();
    fake.noLeaderAnswers = 2;
    await expect(client.addMember({ id: "n5", peerAddress: "127.0.0.1:7405", clientUrl: "http://127.0.0.1:8405" })).resolves.toMatchObject({ index: 11 });
    const before = fake.requests.length;
    expect(await caught(client.addMember({ id: "n6", peerAddress: "nowhere", clientUrl: "http://127.0.0.1:8406" }))).toMatchObject({ code: "bad_request", message: expect.stringMatching(/peerAddress/) });
    expect(await caught(client.removeMember("bad id"))).toMatchObject({ code: "bad_request" });
    expect(fake.requests.length).toBe(before);
  });

  it("downloads a snapshot as bytes and creates a join token", async () => {
    const { client } = await started();
    expect(Buffer.from(await client.snapshot()).equals(fake.snapshotBytes)).toBe(true);
    await expect(client.snapshot({ bytesMax: 4 })).rejects.toMatchObject({ code: "protocol" });
    expect(await client.createJoinToken({ ttlSeconds: 60 })).toMatchObject({ tokenId: "abc123" });
    expect(fake.requests.at(-1)).toMatchObject({ method: "POST", path: "/v1/join-tokens", body: { ttlSeconds: 60 } });
  });
});
