/** Every `LOCKSTEP_*` variable that sets an option starts with this. */
export const environmentPrefix = "LOCKSTEP_";

/** `tickMs` -> `TICK_MS`: every capital starts a new word. */
export function toUpperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** `tickMs` -> `tick-ms`. */
export function toKebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** The environment variable of option `name`: `tickMs` -> `LOCKSTEP_TICK_MS`. */
export function environmentVariableOf(name: string): string {
  return environmentPrefix + toUpperSnake(name);
}

/** The command-line flag of option `name`: `tickMs` -> `--tick-ms`. */
export function flagOf(name: string): string {
  return `--${toKebab(name)}`;
}
