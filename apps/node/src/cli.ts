#!/usr/bin/env node
import { runClientCommand } from "./cli/index.js";
import { runTokenCommand } from "./cli/token-command.js";
import { runCertsCommand } from "./commands/certs.js";
import { exitCodes, runStartCommand } from "./commands/start.js";
import { runMemberCommand } from "./cli/member-command.js";
import { runRecoverCommand } from "./commands/recover.js";
import { runSnapshotCommand, type CommandIo } from "./commands/snapshot.js";

function commandIo(): CommandIo {
  return { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), env: process.env, workingDirectory: process.cwd() };
}

const usage = `Usage: lockstep <command> [options]

Commands:
  start       run a node (lockstep start --help for its options)
  status      show the cluster as a node sees it
  get         read a key's state
  transition  move a key to another state
  delete      delete a key (it is back in the initial state)
  watch       stream committed transitions
  token       create, list and revoke client tokens (lockstep token --help)
  member      list, add, promote or remove members; create a join token
  snapshot    save a backup from a running node, or restore one into a new cluster
  recover     --force-new-cluster: restart one survivor as a one-member cluster
  certs       create the cluster CA, node and client certificates (lockstep certs --help)
`;

/** The `lockstep` command: `start` runs a node; the client commands talk to one over HTTP. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return runStartCommand(rest);
    case "certs":
      return runCertsCommand(rest, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) });
    case "member":
      return runMemberCommand(rest, commandIo());
    case "snapshot":
      return runSnapshotCommand(rest, commandIo());
    case "recover":
      return runRecoverCommand(rest, commandIo());
    case "token":
      return runTokenCommand(rest, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), env: process.env });
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
