import { describe, expect, it } from "vitest";
import { toKebab, toUpperSnake } from "./config-sources.js";
import { loadConfig, type LoadConfigInput } from "./load-config.js";

const threeMembers = [
  { id: "n1", peerAddress: "127.0.0.1:7401", clientUrl: "http://127.0.0.1:8401" },
  { id: "n2", peerAddress: "127.0.0.1:7402", clientUrl: "http://127.0.0.1:8402" },
  { id: "n3", peerAddress: "127.0.0.1:7403", clientUrl: "http://127.0.0.1:8403" },
];

function load(options: { argv?: string[]; environment?: NodeJS.ProcessEnv; file?: unknown }) {
  const input: LoadConfigInput = {
    argv: [...(options.file === undefined ? [] : ["--config", "/etc/lockstep/n1.json"]), ...(options.argv ?? [])],
    environment: options.environment ?? {},
    workingDirectory: "/srv",
    readFile: (path) => {
      if (path !== "/etc/lockstep/n1.json") throw new Error(`ENOENT: no such file ${path}`);
      return typeof options.file === "string" ? options.file : JSON.stringify(options.file);
    },
  };
  return loadConfig(input);
}

function message(result: ReturnType<typeof load>): string {
  if (result.ok) throw new Error("expected the config to be refused");
  return result.message;
}

describe("loadConfig precedence", () => {
  it("fills defaults for a minimal config: one member on the default ports, lifecycle, fsync on", () => {
    const result = load({ argv: ["--node-id", "n1"] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.members).toEqual([{ id: "n1", peerAddress: "127.0.0.1:7401", clientUrl: "http://127.0.0.1:8401" }]);
    expect(result.config.peerListen).toEqual({ host: "127.0.0.1", port: 7401 });
    expect(result.config.clientListen).toEqual({ host: "127.0.0.1", port: 8401 });
    expect(result.config.dataDirectory).toBe("/srv/lockstep-data/n1");
    expect(result.config.fsyncPolicy).toBe("always");
    expect(result.config.tickMs).toBe(50);
    expect(result.config.definitionFile).toBeUndefined();
  });

  it("lets the environment override the file and flags override both", () => {
    const file = { nodeId: "n1", members: threeMembers, tickMs: 10, electionTimeoutTicks: 7, heartbeatTicks: 2 };
    const result = load({
      file,
      environment: { LOCKSTEP_TICK_MS: "20", LOCKSTEP_ELECTION_TIMEOUT_TICKS: "8" },
      argv: ["--tick-ms", "30"],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.tickMs).toBe(30);
    expect(result.config.electionTimeoutTicks).toBe(8);
    expect(result.config.heartbeatTicks).toBe(2);
    expect(result.config.self.id).toBe("n1");
    expect(result.config.clientListen).toEqual({ host: "127.0.0.1", port: 8401 });
  });

  it("resolves file paths against the file's directory and flag paths against the working directory", () => {
    const fromFile = load({ file: { nodeId: "n1", dataDirectory: "data/n1", definitionFile: "def.json" } });
    expect(fromFile.ok && fromFile.config.dataDirectory).toBe("/etc/lockstep/data/n1");
    expect(fromFile.ok && fromFile.config.definitionFile).toBe("/etc/lockstep/def.json");
    const fromFlag = load({ file: { nodeId: "n1", dataDirectory: "data/n1" }, argv: ["--data-directory=here"] });
    expect(fromFlag.ok && fromFlag.config.dataDirectory).toBe("/srv/here");
  });

  it("reads booleans, JSON lists and --no- flags", () => {
    const result = load({
      environment: { LOCKSTEP_NODE_ID: "n2", LOCKSTEP_MEMBERS: JSON.stringify(threeMembers), LOCKSTEP_PRE_VOTE: "false" },
      argv: ["--no-check-quorum", "--fsync-policy", "none"],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.preVote).toBe(false);
    expect(result.config.checkQuorum).toBe(false);
    expect(result.config.fsyncPolicy).toBe("none");
    expect(result.config.peerListen.port).toBe(7402);
  });

  it("maps camelCase names to UPPER_SNAKE variables and kebab-case flags", () => {
    expect(toUpperSnake("electionTimeoutTicks")).toBe("ELECTION_TIMEOUT_TICKS");
    expect(toKebab("requestBodyBytesMax")).toBe("request-body-bytes-max");
  });

  it("warns about unknown LOCKSTEP_ variables instead of failing", () => {
    const result = load({ argv: ["--node-id", "n1"], environment: { LOCKSTEP_TICK_MSS: "5" } });
    expect(result.ok && result.warnings).toEqual(["config: ignoring unknown environment variable LOCKSTEP_TICK_MSS"]);
  });
});

describe("loadConfig errors name the field, the value and its source", () => {
  it("refuses a non-numeric tick from the environment", () => {
    expect(message(load({ argv: ["--node-id", "n1"], environment: { LOCKSTEP_TICK_MS: "abc" } }))).toBe(
      'config: tickMs: expected a positive integer, got "abc" (from LOCKSTEP_TICK_MS)',
    );
  });

  it("refuses a negative number from a flag and a fraction from the file", () => {
    expect(message(load({ argv: ["--node-id", "n1", "--consensus-timeout-ms", "-5"] }))).toBe(
      "config: consensusTimeoutMs: expected a positive integer, got -5 (from --consensus-timeout-ms)",
    );
    expect(message(load({ file: { nodeId: "n1", heartbeatTicks: 1.5 } }))).toBe(
      "config: heartbeatTicks: expected a positive integer, got 1.5 (from /etc/lockstep/n1.json)",
    );
  });

  it("requires a node id", () => {
    expect(message(load({}))).toMatch(/^config: nodeId: required/);
  });

  it("refuses a node that is not a member, duplicate members and a bad address", () => {
    expect(message(load({ file: { nodeId: "n9", members: threeMembers } }))).toBe(
      "config: nodeId: \"n9\" is not one of the members (n1, n2, n3) (from /etc/lockstep/n1.json)",
    );
    expect(message(load({ file: { nodeId: "n1", members: [threeMembers[0], threeMembers[0]] } }))).toMatch(/duplicate member id "n1"/);
    expect(message(load({ file: { nodeId: "n1", members: [{ ...threeMembers[0], peerAddress: "nowhere" }] } }))).toBe(
      "config: members[0].peerAddress: expected host:port (from /etc/lockstep/n1.json)",
    );
  });

  it("refuses unknown options in the file and on the command line", () => {
    expect(message(load({ file: { nodeId: "n1", tickMilliseconds: 5 } }))).toBe("config: tickMilliseconds: unknown option (from /etc/lockstep/n1.json)");
    expect(message(load({ argv: ["--node-id", "n1", "--tick", "5"] }))).toMatch(/^config: unknown option --tick/);
  });

  it("reports an unreadable or malformed config file", () => {
    expect(message(load({ argv: ["--config", "/nope.json"] }))).toMatch(/^config: cannot read config file \/nope.json/);
    expect(message(load({ file: "{ not json" }))).toMatch(/^config: \/etc\/lockstep\/n1.json is not valid JSON/);
  });

  it("refuses an enum value it does not know and inconsistent transport timing", () => {
    expect(message(load({ argv: ["--node-id", "n1", "--fsync-policy", "sometimes"] }))).toBe(
      'config: fsyncPolicy: expected "always" or "none", got "sometimes" (from --fsync-policy)',
    );
    expect(message(load({ argv: ["--node-id", "n1", "--peer-idle-timeout-ms", "100", "--peer-heartbeat-interval-ms", "200"] }))).toMatch(
      /^config: peerIdleTimeoutMs: must be at least twice peerHeartbeatIntervalMs/,
    );
  });
});

describe("loadConfig cross-field rules", () => {
  // Each combination used to pass the loader and then crash the node at start (exit 1, stack trace).
  it.each([
    [["--heartbeat-ticks", "10", "--election-timeout-ticks", "10"], "config: heartbeatTicks: must be below electionTimeoutTicks (10), got 10 (from --heartbeat-ticks)"],
    [["--entries-per-proposal-max", "5000"], "config: entriesPerProposalMax: must be at most 4096 (the wire limit), got 5000 (from --entries-per-proposal-max)"],
    [["--snapshot-chunk-bytes-max", "1000000"], "config: snapshotChunkBytesMax: must be at most 786432 (its base64 must fit a chunk), got 1000000 (from --snapshot-chunk-bytes-max)"],
    [["--frame-bytes-max", "100"], "config: frameBytesMax: must be at least 1024, got 100 (from --frame-bytes-max)"],
    [["--frame-bytes-max", "4096", "--send-queue-bytes-max", "4099"], "config: sendQueueBytesMax: must hold at least one largest frame (frameBytesMax + 4 = 4100), got 4099 (from --send-queue-bytes-max)"],
    [["--peer-heartbeat-interval-ms", "500", "--peer-idle-timeout-ms", "600"], "config: peerIdleTimeoutMs: must be at least twice peerHeartbeatIntervalMs (1000), got 600 (from --peer-idle-timeout-ms)"],
    [["--http-headers-timeout-ms", "40000"], "config: httpHeadersTimeoutMs: must be at most httpRequestTimeoutMs (30000), got 40000 (from --http-headers-timeout-ms)"],
  ])("refuses %j with a message naming the field", (argv, expected) => {
    expect(message(load({ argv: ["--node-id", "n1", ...argv] }))).toBe(expected);
  });
});

describe("loadConfig peer TLS files", () => {
  it("defaults to ca.crt, node.crt and node.key in certsDirectory, resolved against the config file's folder", () => {
    const result = load({ file: { nodeId: "n1", members: threeMembers, certsDirectory: "certs/n1" } });
    expect(result.ok && result.config.peerTls).toEqual({
      caFile: "/etc/lockstep/certs/n1/ca.crt",
      certFile: "/etc/lockstep/certs/n1/node.crt",
      keyFile: "/etc/lockstep/certs/n1/node.key",
    });
  });

  it("takes each file on its own, and refuses a handshake budget that cannot hold a Hello", () => {
    const result = load({ file: { nodeId: "n1", members: threeMembers, peerCaFile: "/pki/bundle.pem" } });
    expect(result.ok && result.config.peerTls.caFile).toBe("/pki/bundle.pem");
    expect(message(load({ argv: ["--node-id", "n1", "--peer-handshake-bytes-max", "100"] }))).toBe(
      "config: peerHandshakeBytesMax: must be at least 1024, got 100 (from --peer-handshake-bytes-max)",
    );
  });
});

describe("loadConfig client port security (secure unless told otherwise)", () => {
  const wide = [{ id: "n1", peerAddress: "10.0.0.1:7401", clientUrl: "http://10.0.0.1:8401" }];
  const wideTls = [{ id: "n1", peerAddress: "10.0.0.1:7401", clientUrl: "https://10.0.0.1:8401" }];

  it("serves loopback without tokens by default, and asks for tokens elsewhere", () => {
    const loopback = load({ argv: ["--node-id", "n1"] });
    expect(loopback.ok && loopback.config.clientAuthentication).toBe("none");
    expect(loopback.ok && loopback.config.initialAdminTokenFile).toBeUndefined();
    const secure = load({ file: { nodeId: "n1", members: wideTls, clientTlsCertFile: "n1.crt", clientTlsKeyFile: "n1.key" } });
    expect(secure.ok).toBe(true);
    if (!secure.ok) return;
    expect(secure.config.clientAuthentication).toBe("tokens");
    expect(secure.config.clientTls).toEqual({ certFile: "/etc/lockstep/n1.crt", keyFile: "/etc/lockstep/n1.key" });
    expect(secure.config.initialAdminTokenFile).toBe("/srv/lockstep-data/n1/initial-admin-token");
  });

  it("refuses a non-loopback client port without HTTPS, in one line that says why and how to override", () => {
    expect(message(load({ file: { nodeId: "n1", members: wide } }))).toBe(
      "config: clientListenAddress: 10.0.0.1:8401 is not a loopback address, so the client port needs HTTPS (clientTlsCertFile, clientTlsKeyFile); pass --insecure to serve it without",
    );
    expect(message(load({ file: { nodeId: "n1", members: wideTls, clientTlsCertFile: "c", clientTlsKeyFile: "k", clientAuthentication: "none" } }))).toMatch(
      /needs tokens \(clientAuthentication "tokens"\); pass --insecure/,
    );
    expect(message(load({ file: { nodeId: "n1", members: wide }, argv: ["--client-listen-address", "0.0.0.0:8401"] }))).toMatch(/^config: clientListenAddress: 0\.0\.0\.0:8401 is not a loopback address/);
  });

  it("starts a non-loopback client port without HTTPS when --insecure is said out loud", () => {
    const result = load({ file: { nodeId: "n1", members: wide }, argv: ["--insecure"] });
    expect(result.ok && result.config.insecure).toBe(true);
  });

  it("refuses half a TLS setup and a clientUrl whose scheme does not match", () => {
    expect(message(load({ argv: ["--node-id", "n1", "--client-tls-cert-file", "c.pem"] }))).toMatch(/^config: clientTlsKeyFile: clientTlsCertFile and clientTlsKeyFile go together/);
    expect(message(load({ argv: ["--node-id", "n1", "--client-tls-ca-file", "ca.pem"] }))).toMatch(/^config: clientTlsCaFile: client certificates need HTTPS/);
    expect(message(load({ argv: ["--node-id", "n1", "--client-tls-cert-file", "c.pem", "--client-tls-key-file", "k.pem"] }))).toMatch(/clientUrl http:\/\/127\.0\.0\.1:8401 must be https:\/\//);
  });
});
