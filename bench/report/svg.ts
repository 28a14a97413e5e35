/**
 * bench/results/speedup.svg: per-block speedup (2 workers over sequential) as bars with the
 * 1x line and the machine's ceiling, and below it Mgas/s per block (sequential, parallel) on
 * a log scale. Hand-written SVG: no chart library, readable in any browser or on GitHub.
 * `bun bench/report/svg.ts [results.json] [out.svg]` redraws it from a results file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CorpusBlockResult } from "../corpus.ts";
import type { BenchResults } from "./types.ts";

const WIDTH = 1100;
const LEFT = 64;
const RIGHT = 20;
const PANEL_HEIGHT = 220;
/** Room under a panel for its rotated block numbers. */
const LABELS_HEIGHT = 62;
/** From the top of a panel's heading (title and legend) to the panel. */
const HEADING = 44;
const TITLE_HEIGHT = 30;

const COLORS = { faster: "#2f7ed8", even: "#f0a30a", slower: "#d9534f", wrong: "#000000", sequential: "#888888", ceiling: "#3c873c" };

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, attributes: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attributes}/>`;
}

/** A legend: coloured marks with their labels, left to right from x. */
function legend(x: number, y: number, items: { mark: string; label: string }[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    out.push(item.mark.replaceAll("{x}", x.toFixed(1)).replaceAll("{y}", y.toFixed(1)).replaceAll("{cy}", (y - 4).toFixed(1)).replaceAll("{x2}", (x + 18).toFixed(1)).replaceAll("{cx}", (x + 6).toFixed(1)));
    out.push(text(x + 24, y, item.label, 'font-size="11"'));
    x += 24 + item.label.length * 6.2 + 16;
  }
  return out;
}
const box = (color: string) => `<rect x="{x}" y="{cy}" width="12" height="10" transform="translate(0 -4)" fill="${color}"/>`;
const dot = (color: string) => `<circle cx="{cx}" cy="{cy}" r="4" fill="${color}"/>`;
const dash = (attributes: string) => `<line x1="{x}" y1="{cy}" x2="{x2}" y2="{cy}" ${attributes}/>`;

/** Evenly spaced ticks from 0 to at least `max`, at a step of 1, 2 or 5 times a power of ten. */
function linearTicks(max: number, count = 5): number[] {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((f) => f * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Rotated block numbers under a panel whose bottom is at y. */
function blockLabels(blocks: CorpusBlockResult[], xOf: (i: number) => number, y: number): string[] {
  return blocks.map((b, i) => {
    const x = xOf(i);
    return text(x, y + 10, String(b.number), `font-size="9" text-anchor="end" transform="rotate(-60 ${x.toFixed(1)} ${(y + 10).toFixed(1)})"`);
  });
}

export function renderSpeedupSvg(blocks: CorpusBlockResult[], ceiling: number | undefined, title: string): string {
  const n = Math.max(blocks.length, 1);
  const step = (WIDTH - LEFT - RIGHT) / n;
  const barWidth = Math.max(2, step * 0.7);
  const xOf = (i: number) => LEFT + step * i + step / 2;
  const out: string[] = [];

  // ---- Panel 1: speedup, linear.
  const heading1 = TITLE_HEIGHT + 10;
  const top1 = heading1 + HEADING;
  const bottom1 = top1 + PANEL_HEIGHT;
  const speedups = blocks.map((b) => (Number.isFinite(b.speedup.parallel) ? b.speedup.parallel : 0));
  const ticks1 = linearTicks(Math.max(2, ceiling ?? 0, ...speedups));
  const speedMax = ticks1.at(-1)!;
  const yOfSpeed = (v: number) => bottom1 - (Math.min(v, speedMax) / speedMax) * PANEL_HEIGHT;
  out.push(text(LEFT, heading1 + 4, "Speedup per block: 2 workers over sequential", 'font-size="13" font-weight="bold"'));
  out.push(
    ...legend(LEFT, heading1 + 24, [
      { mark: box(COLORS.faster), label: "faster (at least 1x)" },
      { mark: box(COLORS.even), label: "0.95x to 1x" },
      { mark: box(COLORS.slower), label: "slower (under 0.95x)" },
      { mark: box(COLORS.wrong), label: "result differs" },
      { mark: dash('stroke="#000" stroke-width="1.5"'), label: "1x = sequential" },
      ...(ceiling !== undefined && Number.isFinite(ceiling) ? [{ mark: dash(`stroke="${COLORS.ceiling}" stroke-width="1.5" stroke-dasharray="6 4"`), label: "machine ceiling (keccak, 2 workers)" }] : []),
    ]),
  );
  for (const v of ticks1) {
    const y = yOfSpeed(v);
    out.push(line(LEFT, y, WIDTH - RIGHT, y, 'stroke="#e5e5e5"'));
    out.push(text(LEFT - 6, y + 4, `${v.toFixed(v % 1 === 0 ? 0 : 1)}x`, 'text-anchor="end" font-size="11"'));
  }
  blocks.forEach((b, i) => {
    const v = speedups[i]!;
    const color = !b.ok ? COLORS.wrong : v >= 1 ? COLORS.faster : v >= 0.95 ? COLORS.even : COLORS.slower;
    const y = yOfSpeed(v);
    out.push(
      `<rect x="${(xOf(i) - barWidth / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(bottom1 - y).toFixed(1)}" fill="${color}"><title>${b.number}: ${v.toFixed(2)}x</title></rect>`,
    );
  });
  out.push(line(LEFT, yOfSpeed(1), WIDTH - RIGHT, yOfSpeed(1), 'stroke="#000" stroke-width="1.5"'));
  if (ceiling !== undefined && Number.isFinite(ceiling)) {
    out.push(line(LEFT, yOfSpeed(ceiling), WIDTH - RIGHT, yOfSpeed(ceiling), `stroke="${COLORS.ceiling}" stroke-width="1.5" stroke-dasharray="6 4"`));
    out.push(text(WIDTH - RIGHT - 2, yOfSpeed(ceiling) - 5, `ceiling ${ceiling.toFixed(2)}x`, `text-anchor="end" font-size="11" fill="${COLORS.ceiling}"`));
  }
  out.push(line(LEFT, bottom1, WIDTH - RIGHT, bottom1, 'stroke="#999"'));
  out.push(...blockLabels(blocks, xOf, bottom1));

  // ---- Panel 2: Mgas/s, log scale (rates span three orders of magnitude).
  const heading2 = bottom1 + LABELS_HEIGHT + 16;
  const top2 = heading2 + HEADING;
  const bottom2 = top2 + PANEL_HEIGHT;
  const rates = blocks.flatMap((b) => [b.modes.sequential.mgasPerSecond, b.modes.parallel.mgasPerSecond]).filter((v) => Number.isFinite(v) && v > 0);
  const low = Math.floor(Math.log10(Math.min(1, ...rates)));
  const high = Math.ceil(Math.log10(Math.max(10, ...rates)));
  const yOfRate = (v: number) => bottom2 - ((Math.log10(Math.max(v, 10 ** low)) - low) / (high - low)) * PANEL_HEIGHT;
  out.push(text(LEFT, heading2 + 4, "Mgas/s per block (log scale)", 'font-size="13" font-weight="bold"'));
  out.push(
    ...legend(LEFT, heading2 + 24, [
      { mark: dot(COLORS.sequential), label: "sequential" },
      { mark: dot(COLORS.faster), label: "parallel, 2 workers" },
    ]),
  );
  for (let e = low; e <= high; e++) {
    for (const f of e < high ? [1, 2, 5] : [1]) {
      const v = f * 10 ** e;
      const y = yOfRate(v);
      out.push(line(LEFT, y, WIDTH - RIGHT, y, f === 1 ? 'stroke="#dcdcdc"' : 'stroke="#f0f0f0"'));
      out.push(text(LEFT - 6, y + 4, v >= 1 ? v.toLocaleString("en-US") : String(v), `text-anchor="end" font-size="${f === 1 ? 11 : 9}"${f === 1 ? "" : ' fill="#777"'}`));
    }
  }
  blocks.forEach((b, i) => {
    // A block without gas (no transactions) has no rate to show on a log scale.
    if (!(b.modes.sequential.mgasPerSecond > 0 && b.modes.parallel.mgasPerSecond > 0)) return;
    const x = xOf(i);
    const seq = yOfRate(b.modes.sequential.mgasPerSecond);
    const par = yOfRate(b.modes.parallel.mgasPerSecond);
    out.push(line(x, seq, x, par, 'stroke="#bbb"'));
    out.push(`<circle cx="${x.toFixed(1)}" cy="${seq.toFixed(1)}" r="3" fill="${COLORS.sequential}"><title>${b.number} sequential ${b.modes.sequential.mgasPerSecond.toFixed(1)} Mgas/s</title></circle>`);
    out.push(`<circle cx="${x.toFixed(1)}" cy="${par.toFixed(1)}" r="3" fill="${COLORS.faster}"><title>${b.number} parallel ${b.modes.parallel.mgasPerSecond.toFixed(1)} Mgas/s</title></circle>`);
  });
  out.push(line(LEFT, bottom2, WIDTH - RIGHT, bottom2, 'stroke="#999"'));
  out.push(...blockLabels(blocks, xOf, bottom2));
  out.push(text(LEFT + (WIDTH - LEFT - RIGHT) / 2, bottom2 + LABELS_HEIGHT + 8, "block number", 'text-anchor="middle" font-size="11" fill="#555"'));

  const height = bottom2 + LABELS_HEIGHT + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(LEFT, 22, title, 'font-size="15"'),
    ...out,
    "</svg>",
    "",
  ].join("\n");
}

/** The machine's 2-worker ceiling: the mean of the measurements before and after the run. */
export function meanCeiling(results: BenchResults): number | undefined {
  const values = [results.ceiling?.before?.twoWorkerSpeedup, results.ceiling?.after?.twoWorkerSpeedup].filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The chart of a results file's corpus section (undefined without one). */
export function speedupSvgFor(results: BenchResults): string | undefined {
  if (!results.corpus) return undefined;
  const title = `pevm, mainnet corpus: ${results.machine.cpuModel}, ${results.machine.cores} cores, load ${results.load.start.loadAverage[0]}, ${results.machine.date.slice(0, 10)}${results.quick ? " (quick)" : ""}`;
  return renderSpeedupSvg(results.corpus.blocks, meanCeiling(results), title);
}

if (import.meta.main) {
  const resultsDir = join(import.meta.dir, "..", "results");
  const [input = join(resultsDir, "latest.json"), output = join(resultsDir, "speedup.svg")] = Bun.argv.slice(2);
  const svg = speedupSvgFor(JSON.parse(readFileSync(input, "utf8")) as BenchResults);
  if (svg === undefined) throw new Error(`${input} has no corpus section`);
  writeFileSync(output, svg);
}
