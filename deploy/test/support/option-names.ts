import { NodeConfigSchema } from "node";

/** `LOCKSTEP_FOO_BAR_MS` for every option `fooBarMs` of `lockstep start`, plus LOCKSTEP_CONFIG. */
export function knownEnvironmentNames(): Set<string> {
  const names = Object.keys(NodeConfigSchema.shape).map((name) => `LOCKSTEP_${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`);
  return new Set([...names, "LOCKSTEP_CONFIG"]);
}

/** `--foo-bar-ms` for every option `fooBarMs`. */
export function knownFlags(): Set<string> {
  return new Set(Object.keys(NodeConfigSchema.shape).map((name) => `--${name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`));
}

/** Every `LOCKSTEP_*` name a text mentions. */
export function environmentNamesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\bLOCKSTEP_[A-Z0-9_]+\b/g)].map((match) => match[0]))];
}
