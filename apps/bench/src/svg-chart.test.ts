import { describe, expect, it } from "vitest";
import { niceCeiling, renderChart } from "./svg-chart.js";

describe("renderChart", () => {
  const chart = renderChart(
    [
      {
        title: "throughput",
        yLabel: "writes/s",
        series: [
          { name: "lockstep", color: "#1f77b4", points: [{ x: 1, value: 100 }, { x: 16, value: 900 }, { x: 256, value: 4000 }] },
          { name: "etcd <3.4>", color: "#ff7f0e", points: [{ x: 1, value: 80 }, { x: 16, value: Number.NaN }] },
        ],
      },
    ],
    "2 cores & a disk",
  );

  it("is one well-formed svg element with a line and a point per finite value", () => {
    expect(chart.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(chart.trimEnd().endsWith("</svg>")).toBe(true);
    expect(chart.match(/<polyline /g)).toHaveLength(2);
    // Three lockstep points and one etcd point: the NaN is left out, not drawn at zero.
    expect(chart.match(/<circle /g)).toHaveLength(4);
  });

  it("escapes text and labels the x axis with the concurrencies", () => {
    expect(chart).toContain("etcd &lt;3.4&gt;");
    expect(chart).toContain("2 cores &amp; a disk");
    for (const label of [">1<", ">16<", ">256<"]) expect(chart).toContain(label);
    expect(chart).toContain(">4k<");
  });
});

describe("niceCeiling", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceCeiling(0)).toBe(0);
    expect(niceCeiling(3.2)).toBe(5);
    expect(niceCeiling(1234)).toBe(2000);
    expect(niceCeiling(2100)).toBe(2500);
    expect(niceCeiling(9000)).toBe(10_000);
  });
});
