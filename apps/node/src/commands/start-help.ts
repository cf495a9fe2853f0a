import { defaultText } from "../config/configuration-doc.js";
import { environmentVariableOf, flagOf } from "../config/option-names.js";
import { nodeOption, nodeOptionNames, optionGroups, type OptionGroup } from "../config/node-options.js";

/** Markdown emphasis and code marks read badly in a terminal. */
function plain(text: string): string {
  return text.replace(/\*\*/g, "").replace(/`/g, "");
}

/** `lockstep start --help`: every option with its variable, type, unit and default, from node-options.ts. */
export function startHelp(): string {
  const lines = [
    "Usage: lockstep start [--config FILE] [--option value ...]",
    "",
    "Options come from, lowest precedence first: defaults, the JSON config file (--config or",
    "LOCKSTEP_CONFIG), LOCKSTEP_* environment variables, flags. An option named fooBarMs is",
    '"fooBarMs" in the file, LOCKSTEP_FOO_BAR_MS in the environment and --foo-bar-ms on the',
    "command line. Booleans also take --foo / --no-foo. Lists (members) are JSON.",
    "Every option is described in docs/configuration.md.",
  ];
  for (const group of Object.keys(optionGroups) as OptionGroup[]) {
    lines.push("", `${optionGroups[group]}:`);
    for (const name of nodeOptionNames) {
      const option = nodeOption(name);
      if (option.group !== group) continue;
      const type = option.unit === null ? option.expects : `${option.expects}, ${option.unit}`;
      lines.push(`  ${flagOf(name).padEnd(32)} ${environmentVariableOf(name).padEnd(40)} ${type}; default ${plain(defaultText(option))}`);
    }
  }
  lines.push("");
  return lines.join("\n");
}
