import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/**
 * A V8 CPU profile of THIS process over a chosen stretch (one measured phase), written as a
 * `.cpuprofile` that Chrome DevTools, VS Code and speedscope open. Sampling every 100 µs.
 */
export class InspectorProfiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: 100 });
    await this.session.post("Profiler.start");
  }

  /** Stops profiling and writes the profile to `path`. */
  async stop(path: string): Promise<void> {
    const { profile } = await this.session.post("Profiler.stop");
    writeFileSync(path, JSON.stringify(profile));
    await this.session.post("Profiler.disable");
    this.session.disconnect();
  }
}
