/** Number formatting shared by the Markdown and progress output. */

export const ms = (value: number | null | undefined): string => (value == null || !Number.isFinite(value) ? "–" : value >= 100 ? value.toFixed(0) : value.toFixed(2));
export const times = (value: number | null | undefined): string => (value == null || !Number.isFinite(value) ? "–" : `${value.toFixed(2)}x`);
export const mgas = (value: number | null | undefined): string => (value == null || !Number.isFinite(value) ? "–" : value.toFixed(1));
export const percent = (value: number | null | undefined, digits = 0): string => (value == null || !Number.isFinite(value) ? "–" : `${(value * 100).toFixed(digits)} %`);

/** 12,345,678 */
export function grouped(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

export function check(value: boolean | null): string {
  return value === null ? "n/a" : value ? "ok" : "**FAIL**";
}
