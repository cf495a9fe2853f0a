/**
 * The Grafana dashboard in deploy/grafana: importable (a datasource input, unique panel ids, every
 * query on the dashboard's datasource variable, panels on the 24-column grid without overlap) and
 * reading only metrics a node exports. The real Prometheus server evaluates every one of its
 * queries in apps/node/test/prometheus-server.test.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exportedSeriesNames, lockstepNamesIn } from "./support/exported-metrics.js";

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
  annotations: { list: Array<{ expr?: string }> };
}

const dashboard = JSON.parse(readFileSync(new URL("../grafana/lockstep-dashboard.json", import.meta.url), "utf8")) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== "row");
const expressions = [...queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr }))), ...dashboard.annotations.list.flatMap((annotation) => (annotation.expr === undefined ? [] : [{ where: "annotation", expr: annotation.expr }]))];

describe("the Grafana dashboard", () => {
  it("has unique panel ids, a query in every panel and every query on the datasource variable", () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.find((variable) => variable.name === "datasource")?.type).toBe("datasource");
    for (const panel of queryPanels) {
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe("${datasource}");
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe("${datasource}");
    }
  });

  it("lays its panels on the 24-column grid without overlap", () => {
    const taken = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let column = x; column < x + w; column++) {
        for (let line = y; line < y + h; line++) {
          const cell = `${column},${line}`;
          expect(taken.has(cell), `${panel.title} overlaps at ${cell}`).toBe(false);
          taken.add(cell);
        }
      }
    }
  });

  it("shows leader, term, commit rate, per-stage latency, fsync, follower lag and refusals", () => {
    const all = expressions.map((expression) => expression.expr).join("\n");
    for (const needed of ["lockstep_is_leader", "lockstep_term", "lockstep_transitions_total", "lockstep_entry_stage_seconds_bucket", "lockstep_wal_fsync_seconds_bucket", "lockstep_applied_index", "lockstep_peer_connections_refused_total", "lockstep_messages_invalid_total"]) {
      expect(all, needed).toContain(needed);
    }
  });

  it("reads only metrics a node exports", async () => {
    const exported = await exportedSeriesNames();
    const unknown = expressions.flatMap(({ where, expr }) => lockstepNamesIn(expr).filter((name) => !exported.has(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
  });
});
