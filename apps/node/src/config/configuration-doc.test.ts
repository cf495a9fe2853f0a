import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defaultCoreConfig, defaultDriverConfig } from "@lockstep/consensus";
import { tcpTransportDefaults } from "@lockstep/transport-tcp";
import { describe, expect, it } from "vitest";
import { NodeConfigSchema } from "./node-config-schema.js";
import { renderOptionReference, withGeneratedReference } from "./configuration-doc.js";
import { environmentVariableOf, flagOf } from "./option-names.js";
import { nodeOptionNames } from "./node-options.js";
import { startHelp } from "../commands/start-help.js";

const documentPath = fileURLToPath(new URL("../../../../docs/configuration.md", import.meta.url));

describe("docs/configuration.md", () => {
  it("holds the option reference generated from node-options.ts (run `pnpm --filter node docs:config` after changing an option)", () => {
    const committed = readFileSync(documentPath, "utf8");
    expect(withGeneratedReference(committed)).toBe(committed);
  });

  it("lists every option with its variable and flag, and so does --help", () => {
    const reference = renderOptionReference();
    const help = startHelp();
    for (const name of nodeOptionNames) {
      expect(reference).toContain(`| \`${name}\` | \`${environmentVariableOf(name)}\` / \`${flagOf(name)}\``);
      expect(help).toContain(flagOf(name));
      expect(help).toContain(environmentVariableOf(name));
    }
  });
});

describe("the node's defaults are the libraries' defaults", () => {
  const defaults = NodeConfigSchema.parse({ nodeId: "n1" });

  it("consensus options default to defaultDriverConfig", () => {
    for (const [name, value] of Object.entries(defaultDriverConfig)) expect(defaults[name as keyof typeof defaults], name).toBe(value);
  });

  it("the driver and the core agree on every knob they share (they once said 10 000 and 20 000)", () => {
    for (const [name, value] of Object.entries(defaultCoreConfig)) {
      if (name in defaultDriverConfig) expect(defaultDriverConfig[name as keyof typeof defaultDriverConfig], name).toBe(value);
    }
  });

  it("peer transport options default to tcpTransportDefaults", () => {
    expect(defaults.frameBytesMax).toBe(tcpTransportDefaults.frameBytesMax);
    expect(defaults.sendQueueMessagesMax).toBe(tcpTransportDefaults.sendQueueMessagesMax);
    expect(defaults.sendQueueBytesMax).toBe(tcpTransportDefaults.sendQueueBytesMax);
    expect(defaults.peerConnectTimeoutMs).toBe(tcpTransportDefaults.connectTimeoutMs);
    expect(defaults.reconnectDelayMinMs).toBe(tcpTransportDefaults.reconnectDelayMinMs);
    expect(defaults.reconnectDelayMaxMs).toBe(tcpTransportDefaults.reconnectDelayMaxMs);
    expect(defaults.deliveryRetryAttemptsMax).toBe(tcpTransportDefaults.deliveryRetryAttemptsMax);
    expect(defaults.deliveryRetryDelayMs).toBe(tcpTransportDefaults.deliveryRetryDelayMs);
    expect(defaults.peerHeartbeatIntervalMs).toBe(tcpTransportDefaults.heartbeatIntervalMs);
    expect(defaults.peerIdleTimeoutMs).toBe(tcpTransportDefaults.idleTimeoutMs);
    expect(defaults.peerInboundConnectionsMax).toBe(tcpTransportDefaults.inboundConnectionsMax);
  });
});
