#!/usr/bin/env node
import { runClientCommand } from "./cli/index.js";
import { runCertsCommand } from "./commands/certs.js";
import { runKeygenCommand } from "./commands/keygen.js";
import { exitCodes, runStartCommand } from "./commands/start.js";

const usage = `Usage: lockstep <command> [options]

Commands:
  start       run a node (lockstep start --help for its options)
  status      show the cluster as a node sees it
  get         read a key's state
  transition  move a key to another state
  delete      delete a key (it is back in the initial state)
  watch       stream committed transitions
  keygen      create an Ed25519 key for peer message authentication
  certs       create the cluster CA, node and client certificates (lockstep certs --help)
`;

/** The `lockstep` command: `start` runs a node; the client commands talk to one over HTTP. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return runStartCommand(rest);
    case "keygen":
      return runKeygenCommand(rest, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) });
    case "certs":
      return runCertsCommand(rest, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) });
    case "status":
    case "get":
    case "transition":
    case "delete":
    case "watch":
      return runClientCommand(argv);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return command === undefined ? exitCodes.invalidConfig : exitCodes.ok;
    default:
      process.stderr.write(`lockstep: unknown command "${command}"\n\n${usage}`);
      return exitCodes.invalidConfig;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`lockstep: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(exitCodes.failed);
  },
);
