/** One line of a chart panel: a system's value at each x (concurrency, key count, cluster size). */
export interface ChartSeries {
  name: string;
  color: string;
  points: ReadonlyArray<{ x: number; value: number }>;
}

export interface ChartPanel {
  title: string;
  yLabel: string;
  /** The x axis's label; default "concurrent clients". */
  xLabel?: string;
  series: readonly ChartSeries[];
}

const panelWidth = 420;
const panelHeight = 300;
const margin = { top: 40, right: 20, bottom: 50, left: 70 };
const yTicks = 5;

/**
 * A self-contained SVG (no script, no external font or stylesheet) of panels side by side, each
 * with its x values (concurrency, keys, nodes) on a log2 x axis. Written by hand so that the bench needs no charting package.
 */
export function renderChart(panels: readonly ChartPanel[], caption: string): string {
  const width = panelWidth * panels.length;
  const height = panelHeight + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.map((panel, index) => `<g transform="translate(${index * panelWidth},0)">${renderPanel(panel)}</g>`),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${escapeXml(caption)}</text>`,
    "</svg>",
  ];
  return `${parts.join("\n")}\n`;
}

function renderPanel(panel: ChartPanel): string {
  const plotWidth = panelWidth - margin.left - margin.right;
  const plotHeight = panelHeight - margin.top - margin.bottom;
  const concurrencies = [...new Set(panel.series.flatMap((series) => series.points.map((point) => point.x)))].sort((a, b) => a - b);
  const values = panel.series.flatMap((series) => series.points.map((point) => point.value)).filter(Number.isFinite);
  const yMax = niceCeiling(Math.max(0, ...values));
  const xMin = Math.log2(concurrencies[0] ?? 1);
  const xMax = Math.log2(concurrencies[concurrencies.length - 1] ?? 2);
  const x = (concurrency: number): number => margin.left + (xMax === xMin ? plotWidth / 2 : ((Math.log2(concurrency) - xMin) / (xMax - xMin)) * plotWidth);
  const y = (value: number): number => margin.top + plotHeight - (yMax === 0 ? 0 : (value / yMax) * plotHeight);
  const out: string[] = [`<text x="${panelWidth / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`];
  for (let tick = 0; tick <= yTicks; tick++) {
    const value = (yMax * tick) / yTicks;
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${formatTick(value)}</text>`);
  }
  for (const concurrency of concurrencies) {
    out.push(`<text x="${x(concurrency).toFixed(1)}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${formatTick(concurrency)}</text>`);
  }
  out.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#333"/>`);
  out.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#333"/>`);
  out.push(`<text x="${margin.left + plotWidth / 2}" y="${panelHeight - 8}" text-anchor="middle">${escapeXml(panel.xLabel ?? "concurrent clients")}</text>`);
  out.push(`<text transform="translate(16,${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`);
  for (const [index, series] of panel.series.entries()) {
    const points = series.points.filter((point) => Number.isFinite(point.value));
    const path = points.map((point) => `${x(point.x).toFixed(1)},${y(point.value).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const point of points) out.push(`<circle cx="${x(point.x).toFixed(1)}" cy="${y(point.value).toFixed(1)}" r="3" fill="${series.color}"/>`);
    const legendY = margin.top + 4 + index * 16;
    out.push(`<rect x="${margin.left + 10}" y="${legendY - 8}" width="12" height="3" fill="${series.color}"/>`);
    out.push(`<text x="${margin.left + 28}" y="${legendY}">${escapeXml(series.name)}</text>`);
  }
  return out.join("\n");
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (0 stays 0). */
export function niceCeiling(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${Number((value / 1_000_000).toFixed(1))}M`;
  if (value >= 1000) return `${Number((value / 1000).toFixed(1))}k`;
  return `${Number(value.toFixed(2))}`;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
