import { configFieldKind, configFieldNames, type ConfigFieldName } from "./node-config-schema.js";
import { environmentPrefix, environmentVariableOf, toKebab } from "./option-names.js";

export { toKebab, toUpperSnake } from "./option-names.js";

/** One option's value and where it came from, for error messages that say which source to fix. */
export interface SourcedValue {
  value: unknown;
  source: string;
}

export type SourcedValues = Partial<Record<ConfigFieldName, SourcedValue>>;

export type SourceResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** LOCKSTEP_CONFIG names the config file (like `--config`); it is not an option itself. */
export const configFileEnvironmentVariable = "LOCKSTEP_CONFIG";
/** Test only, not an option: read by `lockstep start` itself (src/testing/power-cut-journal-option.ts). */
const testPowerCutJournalVariable = "LOCKSTEP_TEST_POWER_CUT_JOURNAL";

const fieldByEnvironmentName = new Map(configFieldNames.map((name) => [environmentVariableOf(name), name]));
const fieldByFlag = new Map(configFieldNames.map((name) => [toKebab(name), name]));

/**
 * Turns a text value into what the field wants. A value that does not convert is passed on as
 * the text it was, so that validation reports it as the user wrote it.
 */
export function convertText(name: ConfigFieldName, text: string): unknown {
  switch (configFieldKind(name)) {
    case "number":
      return /^-?[0-9]+(\.[0-9]+)?$/.test(text.trim()) ? Number(text) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    case "json":
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    case "string":
      return text;
  }
}

/**
 * Reads `LOCKSTEP_*` variables: `LOCKSTEP_` + the option's name in UPPER_SNAKE case. Unknown
 * `LOCKSTEP_*` names are returned as warnings rather than errors: other tools (test harnesses,
 * turbo) share the prefix.
 */
export function readEnvironment(environment: NodeJS.ProcessEnv): { values: SourcedValues; warnings: string[] } {
  const values: SourcedValues = {};
  const warnings: string[] = [];
  for (const [variable, text] of Object.entries(environment)) {
    if (!variable.startsWith(environmentPrefix) || text === undefined || variable === configFileEnvironmentVariable || variable === testPowerCutJournalVariable) continue;
    const name = fieldByEnvironmentName.get(variable);
    if (name === undefined) {
      warnings.push(`config: ignoring unknown environment variable ${variable}`);
      continue;
    }
    values[name] = { value: convertText(name, text), source: variable };
  }
  return { values, warnings };
}

export interface ParsedFlags {
  configFile: string | undefined;
  values: SourcedValues;
}

/**
 * Reads `--option value`, `--option=value`, and for booleans `--option` / `--no-option`.
 * `--config FILE` names the config file. Anything else is an error naming the argument.
 */
export function readFlags(argv: readonly string[]): SourceResult<ParsedFlags> {
  const values: SourcedValues = {};
  let configFile: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (!argument.startsWith("--")) return { ok: false, message: `config: unexpected argument "${argument}"` };
    const equals = argument.indexOf("=");
    const flag = equals === -1 ? argument.slice(2) : argument.slice(2, equals);
    let text: string | undefined = equals === -1 ? undefined : argument.slice(equals + 1);
    if (flag === "config") {
      text ??= argv[++index];
      if (text === undefined) return { ok: false, message: "config: --config needs a file path" };
      configFile = text;
      continue;
    }
    const name = fieldByFlag.get(flag);
    if (name === undefined && flag.startsWith("no-") && text === undefined) {
      const negated = fieldByFlag.get(flag.slice(3));
      if (negated !== undefined && configFieldKind(negated) === "boolean") {
        values[negated] = { value: false, source: argument };
        continue;
      }
    }
    if (name === undefined) return { ok: false, message: `config: unknown option ${argument} (see \`lockstep start --help\`)` };
    if (text === undefined) {
      const next = argv[index + 1];
      if (configFieldKind(name) === "boolean" && (next === undefined || next.startsWith("--"))) {
        values[name] = { value: true, source: argument };
        continue;
      }
      if (next === undefined) return { ok: false, message: `config: ${argument} needs a value` };
      text = next;
      index++;
    }
    values[name] = { value: convertText(name, text), source: `--${flag}` };
  }
  return { ok: true, value: { configFile, values } };
}
