/**
 * bench/results/speedup.svg: per-block speedup (2 workers over sequential) as bars with the
 * 1x line and the machine's ceiling, and below it Mgas/s per block (sequential, parallel).
 * Hand-written SVG: no chart library, readable in any browser or on GitHub.
 */
import type { CorpusBlockResult } from "../corpus.ts";

const WIDTH = 1100;
const LEFT = 60;
const RIGHT = 20;
const PANEL_HEIGHT = 220;
const GAP = 90;
const TOP = 40;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, attributes: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attributes}/>`;
}

/** A round axis maximum: 1, 2, 2.5, 5 times a power of ten. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 2.5, 5, 10].find((f) => f * power >= value) ?? 10) * power;
}

function axis(top: number, max: number, label: (v: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + PANEL_HEIGHT - (PANEL_HEIGHT * i) / 4;
    out.push(line(LEFT, y, WIDTH - RIGHT, y, 'stroke="#e5e5e5"'));
    out.push(text(LEFT - 6, y + 4, label(v), 'text-anchor="end" font-size="11"'));
  }
  return out;
}

export function renderSpeedupSvg(blocks: CorpusBlockResult[], ceiling: number | undefined, title: string): string {
  const n = Math.max(blocks.length, 1);
  const step = (WIDTH - LEFT - RIGHT) / n;
  const barWidth = Math.max(2, step * 0.7);
  const xOf = (i: number) => LEFT + step * i + step / 2;
  const height = TOP + 2 * PANEL_HEIGHT + GAP + 80;
  const out: string[] = [];

  // Panel 1: speedup.
  const speedups = blocks.map((b) => (Number.isFinite(b.speedup.parallel) ? b.speedup.parallel : 0));
  const speedMax = niceMax(Math.max(2, ceiling ?? 0, ...speedups));
  const yOfSpeed = (v: number) => TOP + PANEL_HEIGHT - (Math.min(v, speedMax) / speedMax) * PANEL_HEIGHT;
  out.push(text(LEFT, TOP - 14, "speedup, 2 workers over sequential (bars); 1x (black); machine ceiling for 2 workers (dashed)", 'font-size="13" font-weight="bold"'));
  out.push(...axis(TOP, speedMax, (v) => `${v.toFixed(1)}x`));
  blocks.forEach((b, i) => {
    const v = speedups[i];
    const color = !b.ok ? "#000000" : v >= 1 ? "#2f7ed8" : v >= 0.95 ? "#f0a30a" : "#d9534f";
    const y = yOfSpeed(v);
    out.push(
      `<rect x="${(xOf(i) - barWidth / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(TOP + PANEL_HEIGHT - y).toFixed(1)}" fill="${color}"><title>${b.number}: ${v.toFixed(2)}x</title></rect>`,
    );
  });
  out.push(line(LEFT, yOfSpeed(1), WIDTH - RIGHT, yOfSpeed(1), 'stroke="#000" stroke-width="1"'));
  if (ceiling !== undefined && Number.isFinite(ceiling)) {
    out.push(line(LEFT, yOfSpeed(ceiling), WIDTH - RIGHT, yOfSpeed(ceiling), 'stroke="#5cb85c" stroke-width="1.5" stroke-dasharray="6 4"'));
    out.push(text(WIDTH - RIGHT, yOfSpeed(ceiling) - 4, `ceiling ${ceiling.toFixed(2)}x`, 'text-anchor="end" font-size="11" fill="#3c873c"'));
  }

  // Panel 2: Mgas/s.
  const top2 = TOP + PANEL_HEIGHT + GAP;
  const rates = blocks.flatMap((b) => [b.modes.sequential.mgasPerSecond, b.modes.parallel.mgasPerSecond]).filter(Number.isFinite);
  const rateMax = niceMax(Math.max(1, ...rates));
  const yOfRate = (v: number) => top2 + PANEL_HEIGHT - (Math.min(v, rateMax) / rateMax) * PANEL_HEIGHT;
  out.push(text(LEFT, top2 - 14, "Mgas/s per block: sequential (grey), parallel 2 workers (blue)", 'font-size="13" font-weight="bold"'));
  out.push(...axis(top2, rateMax, (v) => v.toFixed(0)));
  blocks.forEach((b, i) => {
    const x = xOf(i);
    const seq = yOfRate(b.modes.sequential.mgasPerSecond);
    const par = yOfRate(b.modes.parallel.mgasPerSecond);
    out.push(line(x, seq, x, par, 'stroke="#bbb"'));
    out.push(`<circle cx="${x.toFixed(1)}" cy="${seq.toFixed(1)}" r="3" fill="#888"><title>${b.number} sequential ${b.modes.sequential.mgasPerSecond.toFixed(1)} Mgas/s</title></circle>`);
    out.push(`<circle cx="${x.toFixed(1)}" cy="${par.toFixed(1)}" r="3" fill="#2f7ed8"><title>${b.number} parallel ${b.modes.parallel.mgasPerSecond.toFixed(1)} Mgas/s</title></circle>`);
  });

  // Block numbers under the second panel, rotated.
  const labelY = top2 + PANEL_HEIGHT + 10;
  blocks.forEach((b, i) => {
    const x = xOf(i);
    out.push(text(x, labelY, String(b.number), `font-size="9" text-anchor="end" transform="rotate(-60 ${x.toFixed(1)} ${labelY.toFixed(1)})"`));
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(LEFT, 18, title, 'font-size="14"'),
    ...out,
    "</svg>",
    "",
  ].join("\n");
}
