import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCount } from './usage-format';

/** One line or set of bars: its name, values (one per x) and the CSS colour variable it is drawn in. */
export interface ChartSeries {
  label: string;
  values: number[];
  color: `--${string}`;
}

/** A chart's data: days (x in epoch seconds, drawn as lines) or named categories (drawn as bars). */
export type ChartData = { kind: 'days'; x: number[]; series: ChartSeries[] } | { kind: 'categories'; names: string[]; series: ChartSeries[] };

const height = 220;

function options(data: ChartData, width: number, style: CSSStyleDeclaration): uPlot.Options {
  const css = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const muted = css('--text-muted', '#6b6e78');
  const grid = { stroke: css('--border', '#e3e3e8'), width: 1 };
  const isBars = data.kind === 'categories';
  const bars = isBars ? uPlot.paths.bars?.({ size: [0.6, 64] }) : undefined;
  const names = isBars ? data.names : [];
  return {
    width,
    height,
    legend: { show: data.series.length > 1 },
    cursor: { points: { show: !isBars } },
    // Counts start at zero, so a quiet day looks quiet rather than like the bottom of the scale.
    scales: {
      x: isBars ? { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } : { time: true },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    // Days are UTC days: label them in UTC whatever the browser's zone.
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    axes: [
      isBars
        ? { stroke: muted, grid: { show: false }, ticks: { show: false }, splits: () => names.map((_, i) => i), values: (_u, splits) => splits.map((i) => names[i] ?? '') }
        : { stroke: muted, grid },
      { stroke: muted, grid, size: 56, values: (_u, splits) => splits.map(formatCount) },
    ],
    series: [
      {},
      ...data.series.map((series) => {
        const color = css(series.color, '#4f46e5');
        return { label: series.label, stroke: color, width: 2, ...(bars ? { fill: color, paths: bars, points: { show: false } } : {}) };
      }),
    ],
  };
}

/** A uPlot chart that fills its container's width; canvas-drawn, so callers give a text alternative too. */
export function UsageChart({ title, data, description }: { title: string; data: ChartData; description: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const x = data.kind === 'days' ? data.x : data.names.map((_, i) => i);
    const chart = new uPlot(options(data, element.clientWidth || 600, getComputedStyle(element)), [x, ...data.series.map((s) => s.values)], element);
    const observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height }));
    observer?.observe(element);
    return () => {
      observer?.disconnect();
      chart.destroy();
    };
  }, [data]);
  return (
    <figure className="usage-chart">
      <figcaption className="usage-chart__title">{title}</figcaption>
      <div ref={box} role="img" aria-label={description} className="usage-chart__plot" />
    </figure>
  );
}
