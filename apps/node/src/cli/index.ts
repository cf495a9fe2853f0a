export { clientExitCodes, runClientCommand, type ClientCommandIo } from "./run-client-command.js";
export { parseClientArgs, type ClientCommand, type ParsedClientArgs } from "./client-args.js";
