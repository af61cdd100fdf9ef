/** Plain-text tables and number formats the benchmarks' reports share. */

/** `value` with exactly `digits` decimals and thousands separators; "n/a" when not finite. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
}

/** `value` with at most `digits` decimals and thousands separators; "n/a" when not finite. */
export function upTo(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a";
}

/** A ratio as `1.5×`. */
export const times = (ratio: number, digits = 1) => `${fixed(ratio, digits)}×`;

/** Aligned lines: the first `leftColumns` columns padded on the right, the others on the left. */
export function table(
  header: readonly string[],
  lines: readonly (readonly string[])[],
  leftColumns: number,
): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => (line[i] ?? "").length)),
  );
  return [header, ...lines].map((cells) =>
    cells
      .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
