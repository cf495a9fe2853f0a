import { parseArgs, type ParseArgsConfig } from "node:util";
import { KeySchema, StateNameSchema } from "@lockstep/protocol";
import { commandHelp, type ClientCommandName } from "./client-help.js";
import { connectionFlagOptions, parseConnectionFlags } from "./connection-flags.js";

export const defaultEndpoints = ["http://127.0.0.1:8401", "http://127.0.0.1:8402", "http://127.0.0.1:8403"] as const;
/** The key the CLI uses when none is given (DESIGN.md §1). */
export const defaultKey = "default";

export type ClientCommand =
  | { readonly name: "status" }
  | { readonly name: "get"; readonly key: string; readonly stale: boolean }
  | { readonly name: "transition"; readonly key: string; readonly to: string; readonly expect?: string }
  | { readonly name: "delete"; readonly key: string; readonly expect?: string }
  | { readonly name: "watch"; readonly from?: number };

export type ParsedClientArgs =
  | {
      readonly kind: "run";
      readonly command: ClientCommand;
      readonly endpoints: readonly string[];
      readonly json: boolean;
      /** `--token` or LOCKSTEP_TOKEN. */
      readonly token?: string;
      /** `--cacert` or LOCKSTEP_CACERT: a PEM file of CAs to trust for https:// endpoints. */
      readonly caFile?: string;
      /** `--cert`/`--key` or LOCKSTEP_CERT/LOCKSTEP_KEY: a client certificate and its key (PEM files). */
      readonly certFile?: string;
      readonly keyFile?: string;
    }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "usage_error"; readonly message: string; readonly help: string };

type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

const commonOptions = {
  endpoints: { type: "string" },
  ...connectionFlagOptions,
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const optionsByCommand: Record<ClientCommandName, NonNullable<ParseArgsConfig["options"]>> = {
  status: commonOptions,
  get: { ...commonOptions, stale: { type: "boolean" } },
  transition: { ...commonOptions, expect: { type: "string" } },
  delete: { ...commonOptions, expect: { type: "string" } },
  watch: { ...commonOptions, from: { type: "string" } },
};

function isCommandName(name: string | undefined): name is ClientCommandName {
  return name === "status" || name === "get" || name === "transition" || name === "delete" || name === "watch";
}

/**
 * `argv` starts with the subcommand (`["get", "web-1", "--stale"]`). Never throws: a bad command
 * line comes back as `usage_error` with a message that names what was wrong.
 */
export function parseClientArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedClientArgs {
  const [name, ...rest] = argv;
  if (!isCommandName(name)) {
    return { kind: "usage_error", message: `unknown command ${JSON.stringify(name ?? "")}`, help: commandHelp("status") };
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: optionsByCommand[name], allowPositionals: true, strict: true });
  } catch (error) {
    return usageError(name, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "help", text: commandHelp(name) };
  const endpoints = parseEndpoints(stringValue(values.endpoints) ?? env.LOCKSTEP_ENDPOINTS);
  if (typeof endpoints === "string") return usageError(name, endpoints);
  const command = parseCommand(name, positionals, values);
  if (typeof command === "string") return usageError(name, command);
  const connection = parseConnectionFlags(values, env, endpoints);
  if (typeof connection === "string") return usageError(name, connection);
  return { kind: "run", command, endpoints, json: values.json === true, ...connection };
}

function usageError(name: ClientCommandName, message: string): ParsedClientArgs {
  return { kind: "usage_error", message, help: commandHelp(name) };
}

function stringValue(value: OptionValues[string]): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The endpoints, or a message saying which one is not an http(s) URL. */
export function parseEndpoints(text: string | undefined): string[] | string {
  if (text === undefined || text.trim() === "") return [...defaultEndpoints];
  const endpoints = text.split(",").map((endpoint) => endpoint.trim()).filter((endpoint) => endpoint !== "");
  for (const endpoint of endpoints) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(endpoint) || !URL.canParse(endpoint)) {
      return `--endpoints: ${JSON.stringify(endpoint)} is not an http://host:port URL`;
    }
  }
  return endpoints.length === 0 ? [...defaultEndpoints] : endpoints;
}

function parseCommand(
  name: ClientCommandName,
  positionals: readonly string[],
  values: OptionValues,
): ClientCommand | string {
  switch (name) {
    case "status":
      return positionals.length === 0 ? { name } : `status takes no arguments, got ${positionals.join(" ")}`;
    case "get": {
      if (positionals.length > 1) return `get takes one KEY, got ${positionals.join(" ")}`;
      const key = checkKey(positionals[0] ?? defaultKey);
      return key.ok ? { name, key: key.value, stale: values.stale === true } : key.message;
    }
    case "transition":
      return parseTransition(positionals, stringValue(values.expect));
    case "delete":
      return parseDelete(positionals, stringValue(values.expect));
    case "watch":
      return parseWatch(stringValue(values.from));
  }
}

function parseDelete(positionals: readonly string[], expect: string | undefined): ClientCommand | string {
  // No default key: deleting "default" by leaving the key out would be too easy a mistake.
  if (positionals.length !== 1) return "delete needs one KEY";
  const key = checkKey(positionals[0] ?? "");
  if (!key.ok) return key.message;
  if (expect !== undefined && !StateNameSchema.safeParse(expect).success) {
    return `--expect: ${JSON.stringify(expect)} is not a valid state name`;
  }
  return { name: "delete", key: key.value, ...(expect === undefined ? {} : { expect }) };
}

function parseTransition(positionals: readonly string[], expect: string | undefined): ClientCommand | string {
  if (positionals.length === 0 || positionals.length > 2) return "transition needs [KEY] STATE";
  const [keyText, stateText] = positionals.length === 1 ? [defaultKey, positionals[0] ?? ""] : [positionals[0] ?? "", positionals[1] ?? ""];
  const key = checkKey(keyText);
  if (!key.ok) return key.message;
  if (!StateNameSchema.safeParse(stateText).success) return `${JSON.stringify(stateText)} is not a valid state name`;
  if (expect !== undefined && !StateNameSchema.safeParse(expect).success) {
    return `--expect: ${JSON.stringify(expect)} is not a valid state name`;
  }
  return { name: "transition", key: key.value, to: stateText, ...(expect === undefined ? {} : { expect }) };
}

function parseWatch(fromText: string | undefined): ClientCommand | string {
  if (fromText === undefined) return { name: "watch" };
  if (!/^[0-9]{1,16}$/.test(fromText) || !Number.isSafeInteger(Number(fromText))) {
    return `--from: expected a revision (a non-negative integer), got ${JSON.stringify(fromText)}`;
  }
  // Revision 0 holds no transition (log indexes start at 1): from 0 means from the start.
  return { name: "watch", from: Math.max(Number(fromText), 1) };
}

function checkKey(key: string): { ok: true; value: string } | { ok: false; message: string } {
  return KeySchema.safeParse(key).success ? { ok: true, value: key } : { ok: false, message: `${JSON.stringify(key)} is not a valid key` };
}
