#!/usr/bin/env node
/**
 * `node dist/testing/delay-relay-main.js LISTEN=TARGET ...` (each `host:port=host:port`): runs a
 * DelayRelay, for tests that run lockstep across network namespaces. Reads JSON lines on stdin,
 * `{"delayMs": 40, "jitterMs": 30}`, and answers each with the delay now in force; prints
 * `ready` once every route listens; exits when stdin closes.
 */
import { createInterface } from "node:readline";
import { DelayRelay, type RelayRoute } from "./delay-relay.js";

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(.+):([0-9]{1,5})$/.exec(text);
  if (match === null) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  return { host: match[1]!, port: Number(match[2]) };
}

const routes: RelayRoute[] = process.argv.slice(2).map((argument) => {
  const [listen, target] = argument.split("=");
  if (listen === undefined || target === undefined) throw new Error(`expected LISTEN=TARGET, got ${JSON.stringify(argument)}`);
  return { listen: parseHostPort(listen), target: parseHostPort(target) };
});
const relay = await DelayRelay.start(routes);
process.stdout.write("ready\n");
const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
  try {
    const command = JSON.parse(line) as { delayMs?: unknown; jitterMs?: unknown };
    relay.setDelay({ delayMs: Number(command.delayMs ?? 0), jitterMs: Number(command.jitterMs ?? 0) });
    process.stdout.write(`${JSON.stringify(relay.currentDelay)}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  }
});
input.once("close", () => {
  void relay.close().then(() => process.exit(0));
});
