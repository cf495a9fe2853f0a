/**
 * The text format of golden scenario files (etcd-io/raft's datadriven `testdata/*.txt`):
 *
 *     # a comment, kept as written
 *     campaign n1
 *     ----
 *     n1 ready mustSync=true commitIndex=0
 *       ...
 *
 * A step is one command line, a `----` line, and its output up to the next blank line (output
 * never contains a blank line). Comment lines (`#`) and blank lines between steps are kept when
 * the file is rewritten, so a rewrite changes only outputs.
 */

export type ScenarioItem = { kind: "comment"; text: string } | { kind: "step"; command: string; line: number; output: string[] };

export type ScenarioParse = { ok: true; items: ScenarioItem[] } | { ok: false; reason: string };

export const outputSeparator = "----";

export function parseScenario(text: string): ScenarioParse {
  const lines = text.split("\n");
  const items: ScenarioItem[] = [];
  let position = 0;
  while (position < lines.length) {
    const line = lines[position] ?? "";
    if (line.trim() === "") {
      position++;
      continue;
    }
    if (line.startsWith("#")) {
      items.push({ kind: "comment", text: line });
      position++;
      continue;
    }
    if (lines[position + 1] !== outputSeparator) return { ok: false, reason: `line ${position + 1}: "${line}" is not followed by a ${outputSeparator} line` };
    const output: string[] = [];
    let cursor = position + 2;
    while (cursor < lines.length && (lines[cursor] ?? "").trim() !== "") output.push(lines[cursor++] ?? "");
    items.push({ kind: "step", command: line.trim(), line: position + 1, output });
    position = cursor;
  }
  return { ok: true, items };
}

/** The file text: comments grouped above their step, one blank line after each step's output. */
export function formatScenario(items: readonly ScenarioItem[]): string {
  const parts: string[] = [];
  for (const item of items) {
    if (item.kind === "comment") parts.push(`${item.text}\n`);
    else parts.push(`${item.command}\n${outputSeparator}\n${item.output.map((line) => `${line}\n`).join("")}\n`);
  }
  return parts.join("");
}
