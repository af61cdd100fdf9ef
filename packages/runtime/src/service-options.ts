// What createWorker and createScheduler check in the options a program gives them, before any
// connection opens, as their environment is checked at start: a key they do not take, a number
// out of its range, an id Postgres cannot hold. A mistake is an InvalidConfigError naming the
// option; nothing connects, so nothing is left open and nothing is migrated or registered.
import { type PostgresTimeouts, timeoutsProblem } from "./connections.ts";
import { InvalidConfigError } from "./errors.ts";
import { meantHint, prefixProblem, shown, textProblem, unknownKeys } from "./keys.ts";
import { MAX_TIMER_MS } from "./service.ts";

/** A whole number from `min` to `max`, what it counts said in `unit`. */
export interface WholeNumber {
  min: number;
  max: number;
  unit: string;
}

/** Milliseconds a timer waits, from `min`. */
export const timer = (min = 1): WholeNumber => ({ min, max: MAX_TIMER_MS, unit: "milliseconds" });

/** A count from `min` to `max`. */
export const count = (min: number, max = Number.MAX_SAFE_INTEGER): WholeNumber => ({ min, max, unit: "" });

/** How a service's options are checked: each number's range, and which are ids (text Postgres holds). */
export interface OptionRules {
  numbers: Readonly<Record<string, WholeNumber>>;
  ids: readonly string[];
  /** Whether the options have `prefix`, the deployment's BullMQ prefix (see prefixProblem). */
  prefix?: boolean;
  /** Every key the options may have (those checked elsewhere too). */
  keys: readonly string[];
  /** The keys the options must have (an object of parts, as a budget's steps and ms). */
  required?: readonly string[];
}

function numberProblem(value: unknown, rule: WholeNumber): string | undefined {
  if (Number.isSafeInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max)
    return undefined;
  const unit = rule.unit === "" ? "" : ` of ${rule.unit}`;
  return `a whole number${unit} from ${rule.min} to ${rule.max}`;
}

/** The longest statement timeout: Postgres takes twice it as the idle-in-transaction timeout, an int. */
export const MAX_STATEMENT_TIMEOUT_MS = Math.floor(MAX_TIMER_MS / 2);

const TIMEOUT_RULES: OptionRules = {
  numbers: {
    queryTimeoutMs: timer(0),
    statementTimeoutMs: { ...timer(0), max: MAX_STATEMENT_TIMEOUT_MS },
  },
  ids: [],
  keys: ["queryTimeoutMs", "statementTimeoutMs"],
};

/** Refuses a service's `timeouts` option (see PostgresTimeouts) as checkServiceOptions does. */
export function checkTimeouts(who: string, timeouts: PostgresTimeouts | undefined): void {
  if (timeouts === undefined) return;
  checkServiceOptions(`${who}'s timeouts`, timeouts, TIMEOUT_RULES);
  const problem = timeoutsProblem(timeouts as PostgresTimeouts);
  if (problem !== undefined) throw new InvalidConfigError(`${who}: ${problem}.`);
}

/** Refuses `options` of `who` (createWorker) where a key is unknown, a number out of range, or an id unstorable. */
export function checkServiceOptions(who: string, options: unknown, rules: OptionRules): void {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new InvalidConfigError(`${who} must be an object of options; got ${shown(options)}.`);
  const problems = (rules.required ?? [])
    .filter((key) => (options as Record<string, unknown>)[key] === undefined)
    .map((key) => `${key}: missing`);
  const unknown = unknownKeys(options, rules.keys);
  for (const key of unknown) {
    const hint = meantHint([key], rules.keys);
    problems.push(
      `${key}: not an option of ${who} (${hint === undefined ? "" : `${hint}; `}it takes ${rules.keys.join(", ")})`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || unknown.includes(key)) continue;
    const rule = rules.numbers[key];
    const problem =
      rule !== undefined
        ? numberProblem(value, rule)
        : rules.ids.includes(key)
          ? textProblem(value)
          : rules.prefix === true && key === "prefix"
            ? prefixProblem(value)
            : undefined;
    if (problem !== undefined) problems.push(`${key} must be ${problem}; got ${shown(value)}`);
  }
  if (problems.length > 0)
    throw new InvalidConfigError(`Invalid ${who} options:\n  ${problems.join("\n  ")}`);
}
