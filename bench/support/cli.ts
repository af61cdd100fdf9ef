/** Command-line pieces every benchmark shares. */

/** `--name <n>` as a whole number ≥ `min`, or `fallback` when absent. */
export function wholeNumber(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}".`);
  return parsed;
}

/** The options of the round-based benchmarks (engine, postgres, distributed). */
export const ROUND_OPTIONS = {
  json: { type: "boolean", default: false },
  case: { type: "string", multiple: true },
  rounds: { type: "string" },
  warmup: { type: "string" },
  "batch-ms": { type: "string" },
  help: { type: "boolean", default: false },
} as const;

/** `--rounds` (7), `--warmup` (2) and `--batch-ms` (the benchmark's `batchMs`) as numbers. */
export function roundSettings(
  values: { rounds?: string | undefined; warmup?: string | undefined; "batch-ms"?: string | undefined },
  batchMs: number,
): { rounds: number; warmupRounds: number; batchMs: number } {
  return {
    rounds: Math.max(1, wholeNumber(values.rounds, "rounds", 7)),
    warmupRounds: wholeNumber(values.warmup, "warmup", 2),
    batchMs: Math.max(1, wholeNumber(values["batch-ms"], "batch-ms", batchMs)),
  };
}
