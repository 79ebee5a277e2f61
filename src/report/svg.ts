/**
 * The report's plots as inline SVG strings: a histogram over a numeric axis and a bar chart over named buckets.
 * Drawn here rather than by a charting library so the report stays one offline file with no script.
 * What must hold: the output is well-formed XML (every text escaped, every element closed) and depends only on
 * its arguments, so the same data draws the same bytes.
 */

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number for an axis or a tooltip: integers as such, others with at most 4 significant digits. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

/** Tick positions covering [lo, hi] with a 1-2-5 step, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const rough = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** One bin of a histogram: [from, to) (the last bin includes `to`), with its count. */
export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** One bar of a bar chart. */
export interface Bar {
  label: string;
  value: number;
  /** Tooltip (an SVG <title>); default "label: value". */
  title?: string;
}

/** Bar charts: wide; histograms: two fit side by side in the report's width. */
const BAR_CHART = { width: 640, height: 250 };
const HISTOGRAM = { width: 480, height: 250 };
const MARGIN = { left: 64, right: 16, top: 24, bottom: 46 };

/** A plot's size and its drawing area. */
interface Layout {
  width: number;
  height: number;
  plotW: number;
  plotH: number;
}

function layout(size: { width: number; height: number }): Layout {
  return { ...size, plotW: size.width - MARGIN.left - MARGIN.right, plotH: size.height - MARGIN.top - MARGIN.bottom };
}

function open(label: string, l: Layout): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${l.width} ${l.height}" width="${l.width}" height="${l.height}" role="img" aria-label="${escapeXml(label)}" class="plot">`;
}

/** The y axis (0..max, gridlines) and the axis titles. */
function frame(l: Layout, maxValue: number, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  const top = maxValue > 0 ? maxValue : 1;
  for (const tick of niceTicks(0, top, 4)) {
    const y = MARGIN.top + l.plotH - (tick / top) * l.plotH;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + l.plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${escapeXml(formatNumber(tick))}</text>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + l.plotW}" y1="${MARGIN.top + l.plotH}" y2="${MARGIN.top + l.plotH}" class="axis"/>`);
  parts.push(`<text x="${MARGIN.left + l.plotW / 2}" y="${l.height - 6}" text-anchor="middle" class="axis-title">${escapeXml(xLabel)}</text>`);
  parts.push(`<text x="14" y="${MARGIN.top + l.plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${MARGIN.top + l.plotH / 2})" class="axis-title">${escapeXml(yLabel)}</text>`);
  return parts.join('');
}

/** A histogram over a numeric x axis; `marker` draws a labelled vertical line (e.g. at difference 0). */
export function histogramSvg(options: { bins: readonly HistogramBin[]; xLabel: string; yLabel: string; label: string; marker?: { at: number; text: string }; barClass?: string }): string {
  const { bins } = options;
  const l = layout(HISTOGRAM);
  const lo = bins[0].from;
  const hi = bins[bins.length - 1].to;
  const span = hi > lo ? hi - lo : 1;
  const x = (v: number) => MARGIN.left + ((v - lo) / span) * l.plotW;
  const maxCount = Math.max(...bins.map((b) => b.count));
  const parts = [open(options.label, l), frame(l, maxCount, options.xLabel, options.yLabel)];
  for (const bin of bins) {
    if (bin.count <= 0) continue;
    const h = maxCount > 0 ? (bin.count / maxCount) * l.plotH : 0;
    const left = hi > lo ? x(bin.from) : MARGIN.left + l.plotW / 2 - 4;
    const width = hi > lo ? Math.max(1, x(bin.to) - x(bin.from) - 1) : 8;
    const tip = `${formatNumber(bin.from)} to ${formatNumber(bin.to)}: ${formatNumber(Math.round(bin.count * 10) / 10)}`;
    parts.push(
      `<rect x="${left.toFixed(1)}" y="${(MARGIN.top + l.plotH - h).toFixed(1)}" width="${width.toFixed(1)}" height="${h.toFixed(1)}" class="${options.barClass ?? 'bar'}"><title>${escapeXml(tip)}</title></rect>`,
    );
  }
  for (const tick of hi > lo ? niceTicks(lo, hi, 6) : [lo]) {
    const at = hi > lo ? x(tick) : MARGIN.left + l.plotW / 2;
    parts.push(`<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${MARGIN.top + l.plotH}" y2="${MARGIN.top + l.plotH + 4}" class="axis"/>`);
    parts.push(`<text x="${at.toFixed(1)}" y="${MARGIN.top + l.plotH + 16}" text-anchor="middle">${escapeXml(formatNumber(tick))}</text>`);
  }
  const marker = options.marker;
  if (marker && hi > lo && marker.at >= lo && marker.at <= hi) {
    const at = x(marker.at).toFixed(1);
    parts.push(`<line x1="${at}" x2="${at}" y1="${MARGIN.top}" y2="${MARGIN.top + l.plotH}" class="marker"/>`);
    parts.push(`<text x="${at}" y="${MARGIN.top - 8}" text-anchor="middle" class="marker-text">${escapeXml(marker.text)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** A vertical bar chart over named buckets (ranks, negatives per record); bars may carry a highlighted part. */
export function barChartSvg(options: { bars: readonly Bar[]; xLabel: string; yLabel: string; label: string; highlight?: readonly number[]; highlightTitle?: string }): string {
  const { bars } = options;
  const l = layout(BAR_CHART);
  const maxValue = Math.max(0, ...bars.map((b) => b.value));
  const parts = [open(options.label, l), frame(l, maxValue, options.xLabel, options.yLabel)];
  const slot = l.plotW / Math.max(1, bars.length);
  const width = Math.max(2, slot * 0.78);
  const fontSize = slot < 34 ? 9 : 11;
  bars.forEach((bar, i) => {
    const h = maxValue > 0 ? (bar.value / maxValue) * l.plotH : 0;
    const left = MARGIN.left + i * slot + (slot - width) / 2;
    parts.push(
      `<rect x="${left.toFixed(1)}" y="${(MARGIN.top + l.plotH - h).toFixed(1)}" width="${width.toFixed(1)}" height="${h.toFixed(1)}" class="bar"><title>${escapeXml(bar.title ?? `${bar.label}: ${formatNumber(bar.value)}`)}</title></rect>`,
    );
    const part = options.highlight?.[i];
    if (part !== undefined && part > 0 && maxValue > 0) {
      const hh = (part / maxValue) * l.plotH;
      parts.push(
        `<rect x="${left.toFixed(1)}" y="${(MARGIN.top + l.plotH - hh).toFixed(1)}" width="${width.toFixed(1)}" height="${hh.toFixed(1)}" class="bar-highlight"><title>${escapeXml(`${bar.label}: ${formatNumber(part)} ${options.highlightTitle ?? ''}`.trim())}</title></rect>`,
      );
    }
    const cx = (left + width / 2).toFixed(1);
    parts.push(`<text x="${cx}" y="${MARGIN.top + l.plotH + 14}" text-anchor="middle" font-size="${fontSize}">${escapeXml(bar.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Equal-width bins over [min, max] from sorted values, each count scaled by `scale` (total / sample size). */
export function binSorted(sorted: Float64Array, min: number, max: number, binCount: number, scale: number): HistogramBin[] {
  if (!(max > min)) return [{ from: min, to: max, count: sorted.length * scale }];
  const width = (max - min) / binCount;
  const bins: HistogramBin[] = Array.from({ length: binCount }, (_, i) => ({ from: min + i * width, to: i === binCount - 1 ? max : min + (i + 1) * width, count: 0 }));
  for (const value of sorted) {
    const i = Math.min(binCount - 1, Math.max(0, Math.floor((value - min) / width)));
    bins[i].count += scale;
  }
  return bins;
}
