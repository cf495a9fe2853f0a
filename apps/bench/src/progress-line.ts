import type { PhaseProgress } from "./load-generator.js";

/** On a non-terminal (a CI log, a file), one progress line per this many ms instead of a line rewritten in place. */
export const plainProgressIntervalMs = 5_000;

/**
 * Progress while the bench runs, on stderr so that stdout carries only results: on a terminal
 * one line rewritten in place, elsewhere a line every few seconds.
 */
export class ProgressLine {
  private lastPlainMs = 0;
  private dirty = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(label: string, progress: PhaseProgress): void {
    const seconds = Math.min(progress.elapsedMs, progress.durationMs) / 1000;
    const rate = progress.elapsedMs > 0 ? Math.round((progress.committed * 1000) / progress.elapsedMs) : 0;
    const text = `${label}  ${seconds.toFixed(0)}/${(progress.durationMs / 1000).toFixed(0)} s  ${progress.committed} committed (${rate}/s)${progress.failed > 0 ? `  ${progress.failed} failed` : ""}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.dirty = true;
      return;
    }
    const nowMs = Date.now();
    if (nowMs - this.lastPlainMs < plainProgressIntervalMs) return;
    this.lastPlainMs = nowMs;
    this.stream.write(`${text}\n`);
  }

  /** A line that stays: the end of a phase, a cluster started, a warning. */
  done(text: string): void {
    if (this.dirty) this.stream.write("\r\x1b[2K");
    this.dirty = false;
    this.stream.write(`${text}\n`);
  }
}
