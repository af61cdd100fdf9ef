// Node timeouts, as LangGraph.js 1.7.3's `addNode(name, fn, { timeout })`: a hard cap on one
// attempt (runTimeout) and a cap on how long an attempt may show no progress (idleTimeout). The
// attempt races a watchdog; when the watchdog wins, the attempt's signal aborts, what the node
// does after is dropped (its stream chunks, pushed messages; a task() call fails), and the attempt
// fails with NodeTimeoutError, which a RetryPolicy retries. JavaScript cannot stop the node's
// code: one that ignores its signal runs on in the background, to no effect.
import type { TaskContext } from "./context.ts";
import { InvalidGraphError, NodeTimeoutError } from "./errors.ts";
import type { NodeConfig, TimeoutPolicy } from "./graph/spec.ts";
import { callbackHandler } from "./langchain.ts";

export { isNodeTimeoutError, NodeTimeoutError } from "./errors.ts";
export type { TimeoutPolicy } from "./graph/spec.ts";

const POLICY_KEYS = new Set(["runTimeout", "idleTimeout", "refreshOn"]);

/**
 * `timeout` as a policy (a number is a runTimeout); undefined when it sets none. Refused when
 * malformed, naming `what` has it (`Node "x"`, `task "x"`, `entrypoint "x"`).
 */
export function checkedTimeout(timeout: unknown, what: string): TimeoutPolicy | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  const policy = typeof timeout === "number" ? { runTimeout: timeout } : timeout;
  const bad = () =>
    new InvalidGraphError(
      `${what}: timeout must be milliseconds above 0, or { runTimeout?, idleTimeout?, refreshOn?: "auto" | "heartbeat" } with milliseconds above 0; got ${describe(timeout)}.`,
    );
  if (typeof policy !== "object" || Array.isArray(policy)) throw bad();
  const { runTimeout, idleTimeout, refreshOn } = policy as TimeoutPolicy;
  const ms = (value: unknown) =>
    value === undefined || (typeof value === "number" && value > 0 && value < Infinity);
  if (Object.keys(policy).some((key) => !POLICY_KEYS.has(key)) || !ms(runTimeout) || !ms(idleTimeout))
    throw bad();
  if (refreshOn !== undefined && refreshOn !== "auto" && refreshOn !== "heartbeat") throw bad();
  if (runTimeout === undefined && idleTimeout === undefined) return undefined;
  return {
    ...(runTimeout ? { runTimeout } : {}),
    ...(idleTimeout ? { idleTimeout } : {}),
    refreshOn: refreshOn ?? "auto",
  };
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

/** One timed attempt's clock: when it last showed progress, and whether it still counts. */
class AttemptClock {
  active = true;
  last = performance.now();
  readonly started = this.last;
  private readonly auto: boolean;
  constructor(auto: boolean) {
    this.auto = auto;
  }
  heartbeat = (): void => {
    this.last = performance.now();
  };
  /** Progress the node showed: refreshes the idle clock unless only heartbeats count. */
  progress = (): void => {
    if (this.auto) this.last = performance.now();
  };
}

/** Which timeout fires first for `clock`, and `clear` to stop watching. */
function watchdog(policy: TimeoutPolicy, clock: AttemptClock) {
  const timers: ReturnType<typeof setTimeout>[] = [];
  const fired = new Promise<"run" | "idle">((resolve) => {
    if (policy.runTimeout !== undefined) timers.push(setTimeout(() => resolve("run"), policy.runTimeout));
    const idleMs = policy.idleTimeout;
    if (idleMs === undefined) return;
    const check = () => {
      const left = clock.last + idleMs - performance.now();
      if (left <= 0) resolve("idle");
      else timers.push(setTimeout(check, left));
    };
    timers.push(setTimeout(check, idleMs));
  });
  return { fired, clear: () => timers.forEach(clearTimeout) };
}

/** The timeout an attempt that finished late (its event loop held) overran, as LangGraph checks. */
function overran(policy: TimeoutPolicy, clock: AttemptClock): "run" | "idle" | undefined {
  const now = performance.now();
  if (policy.runTimeout !== undefined && now - clock.started >= policy.runTimeout) return "run";
  if (policy.idleTimeout !== undefined && now - clock.last >= policy.idleTimeout) return "idle";
  return undefined;
}

/** `base` for one timed attempt: its signal aborts on timeout, its writer and heartbeat tell the clock. */
function timedConfig(
  base: NodeConfig,
  clock: AttemptClock,
  policy: TimeoutPolicy,
  abort: AbortSignal,
): NodeConfig {
  const signal = base.signal === undefined ? abort : AbortSignal.any([base.signal, abort]);
  const writer = (chunk: unknown) => {
    if (!clock.active) return;
    clock.progress();
    base.writer(chunk);
  };
  const config: NodeConfig = { ...base, signal, writer, heartbeat: clock.heartbeat };
  if (policy.idleTimeout !== undefined && policy.refreshOn !== "heartbeat") {
    // LangChain events under the node (a model's tokens, a tool's start) are progress too.
    const touch = () => clock.progress();
    const methods = Object.fromEntries(CALLBACK_EVENTS.map((event) => [event, touch]));
    config.callbacks = [...(base.callbacks ?? []), callbackHandler({ name: "LayoverIdleClock", ...methods })];
  }
  return config;
}

const CALLBACK_EVENTS = [
  "handleLLMStart",
  "handleChatModelStart",
  "handleLLMNewToken",
  "handleLLMEnd",
  "handleLLMError",
  "handleChainStart",
  "handleChainEnd",
  "handleChainError",
  "handleToolStart",
  "handleToolEnd",
  "handleToolError",
  "handleText",
  "handleRetrieverStart",
  "handleRetrieverEnd",
  "handleRetrieverError",
  "handleCustomEvent",
];

/**
 * Runs one attempt of `node` (`run`, given the attempt's config) under `policy`. The task's
 * context takes the attempt's config, signal and writer, and `progress` (pushMessage and task()
 * calls tell it). On timeout, `onTimeout` drops what the attempt would still write.
 */
export async function timedAttempt<T>(
  policy: TimeoutPolicy,
  attempt: { node: string; base: NodeConfig; context: TaskContext; onTimeout: () => void },
  run: (config: NodeConfig) => Promise<T>,
): Promise<T> {
  const { node, base, context } = attempt;
  const clock = new AttemptClock(policy.refreshOn !== "heartbeat");
  const abort = new AbortController();
  const config = timedConfig(base, clock, policy, abort.signal);
  let timedOut: NodeTimeoutError | undefined;
  Object.assign(context, { config, signal: config.signal, writer: config.writer });
  context.progress = () => {
    if (timedOut !== undefined) throw timedOut;
    clock.progress();
  };
  const dog = watchdog(policy, clock);
  const settled = run(config).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([settled, dog.fired]).finally(dog.clear);
  const kind = typeof first === "string" ? first : overran(policy, clock);
  if (kind === undefined) {
    if ("error" in (first as object)) throw (first as { error: unknown }).error;
    return (first as { value: T }).value;
  }
  const elapsed = performance.now() - clock.started;
  timedOut = new NodeTimeoutError({ node, kind, elapsed, ...policy });
  clock.active = false;
  attempt.onTimeout();
  abort.abort(timedOut);
  throw timedOut;
}
