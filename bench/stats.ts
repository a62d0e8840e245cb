import os from "node:os";
export interface Summary {
  median_s: number;
  p95_s: number;
  min_s: number;
  max_s: number;
  n: number;
}

export function summarize(seconds: number[]): Summary {
  const s = [...seconds].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return { median_s: round(median(s)), p95_s: round(at(0.95)), min_s: round(s[0]), max_s: round(s[s.length - 1]), n: s.length };
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export function table(rows: Array<[string, Summary | string]>): string {
  const lines = ["| measurement | median | p95 | n |", "| --- | --- | --- | --- |"];
  for (const [name, v] of rows) {
    if (typeof v === "string") lines.push(`| ${name} | ${v} | | |`);
    else lines.push(`| ${name} | ${fmt(v.median_s)} | ${fmt(v.p95_s)} | ${v.n} |`);
  }
  return lines.join("\n");
}

/** A bench's targets: what was wanted, what was measured, whether it was met. */
export function targetTable(rows: Array<[name: string, wanted: string, measured: string, met: boolean]>): string {
  const lines = ["| target | wanted | measured | met? |", "| --- | --- | --- | --- |"];
  for (const [name, wanted, measured, met] of rows) lines.push(`| ${name} | ${wanted} | ${measured} | ${met ? "yes" : "NO"} |`);
  return lines.join("\n");
}

/** The 1, 5 and 15 minute load averages, as printed beside every table. */
export function loadAverage(separator = " "): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(separator);
}

const fmt = (s: number) => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`);
