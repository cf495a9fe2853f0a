const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const levelColors: Record<number, string> = { 10: "90", 20: "90", 30: "32", 40: "33", 50: "31", 60: "35" };
const idColors = ["36", "35", "34", "33", "32"];
/** Fields every line has, shown in the prefix or not at all. */
const hiddenFields = new Set(["level", "time", "pid", "hostname", "nodeId", "msg", "v"]);
const fieldTextLengthMax = 200;

export interface FormatOptions {
  color: boolean;
  /** The node's position, for a stable colour per node. */
  nodeIndex: number;
}

/**
 * One pino JSON line as a short readable line: `n1 | 12:00:01.234 INFO  leader changed term=2 leader=n1`.
 * A line that is not pino JSON is shown as it is.
 */
export function formatLogLine(nodeId: string, line: string, options: FormatOptions): string {
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const prefix = paint(idColors[options.nodeIndex % idColors.length]!, nodeId.padEnd(3)) + " | ";
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return prefix + line;
    record = parsed as Record<string, unknown>;
  } catch {
    return prefix + line;
  }
  const level = typeof record.level === "number" ? record.level : 30;
  const time = typeof record.time === "string" ? record.time.slice(11, 23) : typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const fields = Object.entries(record)
    .filter(([key]) => !hiddenFields.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(" ");
  const levelText = paint(levelColors[level] ?? "0", (levelNames[level] ?? String(level)).padEnd(5));
  const message = typeof record.msg === "string" ? record.msg : "";
  return `${prefix}${paint("90", time)} ${levelText} ${message}${fields === "" ? "" : " " + paint("90", fields)}`;
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return value.includes(" ") ? JSON.stringify(value) : value;
  if (typeof value === "object" && value !== null && "message" in value && typeof value.message === "string") return JSON.stringify(value.message);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > fieldTextLengthMax ? `${text.slice(0, fieldTextLengthMax)}…` : text;
}
