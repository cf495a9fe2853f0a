import { describe, expect, it } from "vitest";
import { defaultEndpoints, parseClientArgs } from "./client-args.js";

const noEnv = {};

describe("parseClientArgs", () => {
  it("parses each command with its options", () => {
    expect(parseClientArgs(["status"], noEnv)).toEqual({ kind: "run", command: { name: "status" }, endpoints: [...defaultEndpoints], json: false });
    expect(parseClientArgs(["get", "web-1", "--stale", "--json"], noEnv)).toMatchObject({
      kind: "run",
      command: { name: "get", key: "web-1", stale: true },
      json: true,
    });
    expect(parseClientArgs(["transition", "web-1", "Running", "--expect", "Init"], noEnv)).toMatchObject({
      command: { name: "transition", key: "web-1", to: "Running", expect: "Init" },
    });
    expect(parseClientArgs(["watch", "--from", "42"], noEnv)).toMatchObject({ command: { name: "watch", from: 42 } });
    expect(parseClientArgs(["watch"], noEnv)).toMatchObject({ command: { name: "watch" } });
  });

  it("uses the default key when none is given", () => {
    expect(parseClientArgs(["get"], noEnv)).toMatchObject({ command: { name: "get", key: "default", stale: false } });
    expect(parseClientArgs(["transition", "Running"], noEnv)).toMatchObject({ command: { name: "transition", key: "default", to: "Running" } });
  });

  it("takes endpoints from the flag, else LOCKSTEP_ENDPOINTS, else the local defaults", () => {
    const env = { LOCKSTEP_ENDPOINTS: "http://10.0.0.1:8401, http://10.0.0.2:8401" };
    expect(parseClientArgs(["status"], env)).toMatchObject({ endpoints: ["http://10.0.0.1:8401", "http://10.0.0.2:8401"] });
    expect(parseClientArgs(["status", "--endpoints", "http://a:1"], env)).toMatchObject({ endpoints: ["http://a:1"] });
  });

  it("reads --from 0 as from the start", () => {
    expect(parseClientArgs(["watch", "--from", "0"], noEnv)).toMatchObject({ command: { name: "watch", from: 1 } });
  });

  it("returns help for --help and -h", () => {
    const help = parseClientArgs(["transition", "--help"], noEnv);
    expect(help.kind).toBe("help");
    expect(help.kind === "help" && help.text).toMatch(/Usage: lockstep transition \[KEY\] STATE/);
    expect(parseClientArgs(["watch", "-h"], noEnv).kind).toBe("help");
  });

  it.each([
    [["get", "a", "b"], /one KEY/],
    [["get", "bad key"], /not a valid key/],
    [["transition"], /\[KEY\] STATE/],
    [["transition", "a", "b", "c"], /\[KEY\] STATE/],
    [["transition", "a", "9lives"], /not a valid state name/],
    [["transition", "a", "Running", "--expect", "no way"], /--expect/],
    [["watch", "--from", "-3"], /--from|argument/],
    [["watch", "--from", "abc"], /--from/],
    [["status", "extra"], /no arguments/],
    [["status", "--stale"], /Unknown option '--stale'/],
    [["get", "--endpoints", "127.0.0.1:8401"], /not an http:\/\/host:port URL/],
    [["get", "--endpoints", "ftp://x:1"], /not an http/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("refuses %j as a usage error", (argv, message) => {
    const parsed = parseClientArgs(argv, noEnv);
    expect(parsed.kind).toBe("usage_error");
    expect(parsed.kind === "usage_error" && parsed.message).toMatch(message);
  });
});

describe("connection flags", () => {
  it("takes the token and CA file from flags or LOCKSTEP_TOKEN / LOCKSTEP_CACERT, flags first", () => {
    const fromEnvironment = parseClientArgs(["status", "--endpoints", "https://n1:8401"], { LOCKSTEP_TOKEN: "app.env", LOCKSTEP_CACERT: "/etc/lockstep/ca.crt" });
    expect(fromEnvironment).toMatchObject({ kind: "run", token: "app.env", caFile: "/etc/lockstep/ca.crt" });
    const fromFlags = parseClientArgs(["status", "--endpoints", "https://n1:8401", "--token", "app.flag", "--cacert", "ca.pem"], { LOCKSTEP_TOKEN: "app.env" });
    expect(fromFlags).toMatchObject({ kind: "run", token: "app.flag", caFile: "ca.pem" });
  });

  it("refuses a CA file with http:// endpoints instead of sending in the clear", () => {
    const parsed = parseClientArgs(["status", "--cacert", "ca.pem"], {});
    expect(parsed.kind).toBe("usage_error");
    expect(parsed.kind === "usage_error" && parsed.message).toMatch(/--cacert: every endpoint must be https/);
  });

  it("takes a client certificate and key from --cert/--key or LOCKSTEP_CERT/LOCKSTEP_KEY", () => {
    const fromFlags = parseClientArgs(["status", "--endpoints", "https://n1:8401", "--cert", "client.ops.crt", "--key", "client.ops.key"], {});
    expect(fromFlags).toMatchObject({ kind: "run", certFile: "client.ops.crt", keyFile: "client.ops.key" });
    const fromEnvironment = parseClientArgs(["status", "--endpoints", "https://n1:8401"], { LOCKSTEP_CERT: "a.crt", LOCKSTEP_KEY: "a.key" });
    expect(fromEnvironment).toMatchObject({ kind: "run", certFile: "a.crt", keyFile: "a.key" });
  });

  it.each([
    [["--endpoints", "https://n1:8401", "--cert", "client.crt"], /--cert and --key go together/],
    [["--endpoints", "https://n1:8401", "--key", "client.key"], /--cert and --key go together/],
    [["--endpoints", "http://n1:8401", "--cert", "client.crt", "--key", "client.key"], /--cert: every endpoint must be https/],
  ])("refuses %j", (flags, message) => {
    const parsed = parseClientArgs(["status", ...flags], {});
    expect(parsed.kind === "usage_error" && parsed.message).toMatch(message);
  });
});
