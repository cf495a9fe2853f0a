/**
 * Loaded into every node of a `--timeline` cluster with `node --import`: when
 * `BENCH_TIMELINE_DIR` is set, records this process's timeline and writes it when the process
 * exits (a node exits on the bench's SIGTERM after its graceful stop).
 */
import { installTimelineHooks, timelineDirectoryVariable } from "./commit-timeline-hooks.js";

const directory = process.env[timelineDirectoryVariable];
if (directory !== undefined && directory !== "") {
  const hooks = await installTimelineHooks(directory);
  process.on("exit", () => hooks.dump());
}
