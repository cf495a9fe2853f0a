import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import { createCertificateAuthority, generateEd25519KeyPair, nodeIdOfCertificate, signNodeCertificate } from "@lockstep/certs";
import { CreateJoinTokenResponseSchema, ErrorResponseSchema, JoinResponseSchema, MembersResponseSchema, MembershipChangeResponseSchema } from "@lockstep/protocol";
import { definitionHash, lifecycleDefinition } from "@lockstep/state-machine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMembership } from "../testing/fake-membership.js";
import { startTestApi, type TestApi } from "../testing/start-test-api.js";

let api: TestApi;
let membership: FakeMembership;
let nowMs = 1_000_000;
let ca: { certPem: string; keyPem: string };

beforeAll(async () => {
  membership = new FakeMembership([
    { id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2", voter: true },
    { id: "n2", peerAddress: "127.0.0.1:3", clientUrl: "http://127.0.0.1:4", voter: true },
  ]);
  ca = await createCertificateAuthority();
  api = await startTestApi({
    membership,
    nowMs: () => nowMs,
    joinSigner: async ({ nodeId, hosts, publicKeyPem }) => {
      const signed = await signNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeId, hosts, publicKeyPem });
      return { certPem: signed.certPem, caCertPem: ca.certPem };
    },
  });
});
afterAll(async () => {
  await api.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

function errorOf(json: unknown) {
  return ErrorResponseSchema.parse(json).error;
}

describe("membership API", () => {
  it("adds a learner, promotes it, removes it; GET /v1/members shows each step", async () => {
    const added = await call("POST", "/v1/members", { id: "n3", peerAddress: "127.0.0.1:5", clientUrl: "http://127.0.0.1:6" });
    expect(added.status).toBe(200);
    expect(MembershipChangeResponseSchema.parse(added.json).members.find((member) => member.id === "n3")).toMatchObject({ voter: false });
    const listed = MembersResponseSchema.parse((await call("GET", "/v1/members")).json);
    expect(listed).toMatchObject({ leader: "n1" });
    expect(listed.members.map((member) => `${member.id}:${member.voter}`)).toEqual(["n1:true", "n2:true", "n3:false"]);
    expect((await call("POST", "/v1/members/n3/promote")).status).toBe(200);
    const promotedAgain = await call("POST", "/v1/members/n3/promote");
    expect(promotedAgain.status).toBe(409);
    expect(errorOf(promotedAgain.json)).toMatchObject({ code: "not_a_learner", reason: "not_a_learner" });
    expect((await call("DELETE", "/v1/members/n3")).status).toBe(200);
    expect(membership.changes.map((change) => change.kind)).toEqual(["add_learner", "promote", "promote", "remove"]);
  });

  it("refuses with the documented codes: 400 naming the field, 404 unknown_member, 409 change_in_progress and would_lose_quorum", async () => {
    const badAddress = await call("POST", "/v1/members", { id: "n4", peerAddress: "nowhere", clientUrl: "http://127.0.0.1:8" });
    expect(badAddress.status).toBe(400);
    expect(errorOf(badAddress.json).message).toMatch(/^peerAddress: /);
    const unknownField = await call("POST", "/v1/members", { id: "n4", peerAddress: "127.0.0.1:7", clientUrl: "http://127.0.0.1:8", voter: true });
    expect(errorOf(unknownField.json)).toMatchObject({ code: "bad_request", message: expect.stringMatching(/unknown field voter/) });
    expect(errorOf((await call("DELETE", "/v1/members/n9")).json)).toMatchObject({ code: "unknown_member" });
    expect((await call("DELETE", "/v1/members/n9")).status).toBe(404);
    membership.scripted.push({ ok: false, reason: "change_in_progress" }, { ok: false, reason: "would_lose_quorum" });
    const busy = await call("POST", "/v1/members", { id: "n4", peerAddress: "127.0.0.1:7", clientUrl: "http://127.0.0.1:8" });
    expect([busy.status, errorOf(busy.json).code]).toEqual([409, "change_in_progress"]);
    const quorum = await call("DELETE", "/v1/members/n2");
    expect([quorum.status, errorOf(quorum.json).code]).toEqual([409, "would_lose_quorum"]);
    expect(errorOf(quorum.json).message).toMatch(/n2/);
  });
});

describe("join with a one-time token", () => {
  async function newToken(ttlSeconds?: number): Promise<string> {
    const created = await call("POST", "/v1/join-tokens", ttlSeconds === undefined ? {} : { ttlSeconds });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    return CreateJoinTokenResponseSchema.parse(created.json).token;
  }

  it("adds the node as a learner and certifies its key for its id; the token cannot be used by another node", async () => {
    const token = await newToken();
    const keys = generateEd25519KeyPair();
    const member = { id: "n5", peerAddress: "127.0.0.1:7405", clientUrl: "http://127.0.0.1:8405" };
    const joined = await call("POST", "/v1/join", { token, member, publicKeyPem: keys.publicKeyPem, dataDirectoryEmpty: true });
    expect(joined.status, JSON.stringify(joined.json)).toBe(200);
    const answer = JoinResponseSchema.parse(joined.json);
    expect(answer).toMatchObject({ cluster: "test", clusterUuid: "6f1c2a3e-8d4b-4c2a-9f00-0123456789ab", definitionHash: definitionHash(lifecycleDefinition) });
    expect(answer.members.find((candidate) => candidate.id === "n5")).toMatchObject({ voter: false });
    const certificate = new X509Certificate(answer.certificatePem!);
    expect(nodeIdOfCertificate(certificate)).toBe("n5");
    expect(certificate.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(certificate.checkIP("127.0.0.1")).toBe("127.0.0.1");

    // The same node retrying (its answer was lost) is answered again; another node is refused.
    expect((await call("POST", "/v1/join", { token, member, publicKeyPem: keys.publicKeyPem, dataDirectoryEmpty: true })).status).toBe(200);
    const stolen = await call("POST", "/v1/join", { token, member: { ...member, id: "n6" }, dataDirectoryEmpty: true });
    expect(stolen.status).toBe(403);
    expect(errorOf(stolen.json)).toMatchObject({ code: "join_token_refused", reason: "used" });
    // Spent through the log: the store every replica applies says so.
    expect(api.node.localStore.joinToken(token.slice(0, 6))?.usedBy).toBe("n5");
  });

  it("refuses an unknown, malformed or expired token", async () => {
    const member = { id: "n7", peerAddress: "127.0.0.1:7407", clientUrl: "http://127.0.0.1:8407" };
    const unknown = await call("POST", "/v1/join", { token: `zzzzzz.${"a".repeat(32)}`, member, dataDirectoryEmpty: true });
    expect([unknown.status, errorOf(unknown.json).reason]).toEqual([403, "unknown"]);
    expect(errorOf((await call("POST", "/v1/join", { token: "nope", member, dataDirectoryEmpty: true })).json).message).toMatch(/^token: /);
    const token = await newToken(60);
    nowMs += 61_000;
    const expired = await call("POST", "/v1/join", { token, member, dataDirectoryEmpty: true });
    expect([expired.status, errorOf(expired.json).reason]).toEqual([403, "expired"]);
  });

  it("takes a known id with an empty data directory as a replaced disk: removed, then added back as a learner", async () => {
    const member = { id: "n2", peerAddress: "127.0.0.1:3", clientUrl: "http://127.0.0.1:4" };
    const kept = await call("POST", "/v1/join", { token: await newToken(), member, dataDirectoryEmpty: false });
    expect([kept.status, errorOf(kept.json).code]).toEqual([409, "already_member"]);
    membership.changes.length = 0;
    const repaired = await call("POST", "/v1/join", { token: await newToken(), member, dataDirectoryEmpty: true });
    expect(repaired.status, JSON.stringify(repaired.json)).toBe(200);
    expect(membership.changes).toEqual([{ kind: "remove", id: "n2" }, { kind: "add_learner", member }]);
    expect(JoinResponseSchema.parse(repaired.json).members.find((candidate) => candidate.id === "n2")).toMatchObject({ voter: false });
  });
});

describe("a follower forwards membership requests to the leader", () => {
  it("relays the leader's answer once, and never forwards a forwarded request again", async () => {
    const seen: Array<{ path: string; forwardedBy: string | undefined }> = [];
    const leaderServer = createServer((request: IncomingMessage, response) => {
      seen.push({ path: request.url ?? "", forwardedBy: request.headers["x-lockstep-forwarded-by"] as string | undefined });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ index: 7, members: [] }));
    });
    leaderServer.listen(0, "127.0.0.1");
    await once(leaderServer, "listening");
    const leaderUrl = `http://127.0.0.1:${(leaderServer.address() as AddressInfo).port}`;
    const follower = new FakeMembership([
      { id: "n1", peerAddress: "127.0.0.1:1", clientUrl: "http://127.0.0.1:2", voter: true },
      { id: "n9", peerAddress: "127.0.0.1:9", clientUrl: leaderUrl, voter: true },
    ]);
    const followerApi = await startTestApi({ membership: follower });
    try {
      follower.scripted.push({ ok: false, reason: "not_leader", leader: "n9" });
      const relayed = await fetch(`${followerApi.baseUrl}/v1/members/n1/promote`, { method: "POST", headers: { "content-type": "application/json" } });
      expect([relayed.status, await relayed.json()]).toEqual([200, { index: 7, members: [] }]);
      expect(seen).toEqual([{ path: "/v1/members/n1/promote", forwardedBy: "n1" }]);
      follower.scripted.push({ ok: false, reason: "not_leader", leader: "n9" });
      const looped = await fetch(`${followerApi.baseUrl}/v1/members/n1/promote`, { method: "POST", headers: { "content-type": "application/json", "x-lockstep-forwarded-by": "n3" } });
      expect(looped.status).toBe(503);
      expect(errorOf(await looped.json())).toMatchObject({ code: "no_leader" });
      expect(seen).toHaveLength(1);
    } finally {
      await followerApi.stop();
      leaderServer.close();
    }
  });
});
