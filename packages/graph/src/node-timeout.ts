// Node timeouts, as LangGraph.js 1.7.3's `addNode(name, fn, { timeout })`: a hard cap on one
// attempt (runTimeout) and a cap on how long an attempt may show no progress (idleTimeout). The
// attempt races a watchdog; when the watchdog wins, the attempt's signal aborts, what the node
// does after is dropped (its stream chunks, pushed messages; a task() call fails), and the attempt
// fails with NodeTimeoutError, which a RetryPolicy retries. JavaScript cannot stop the node's
// code: one that ignores its signal runs on in the background, to no effect.
import { countsBack, type TaskContext } from "./context.ts";
import { InvalidGraphError, NodeTimeoutError } from "./errors.ts";
import type { CallScope } from "./func/call-scope.ts";
import type { NodeConfig, TimeoutPolicy } from "./graph/spec.ts";
import { callbackHandler } from "./langchain.ts";
import type { Emitter } from "./stream.ts";

export { isNodeTimeoutError, NodeTimeoutError } from "./errors.ts";
export type { TimeoutPolicy } from "./graph/spec.ts";

const POLICY_KEYS = new Set(["runTimeout", "idleTimeout", "refreshOn"]);

/** The longest a Node timer waits (about 24.8 days): a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * `timeout` as a policy (a number is a runTimeout); undefined when it sets none. Refused when
 * malformed, naming `what` has it (`Node "x"`, `task "x"`, `entrypoint "x"`).
 */
export function checkedTimeout(timeout: unknown, what: string): TimeoutPolicy | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  const policy = typeof timeout === "number" ? { runTimeout: timeout } : timeout;
  const bad = () =>
    new InvalidGraphError(
      `${what}: timeout must be milliseconds above 0 (at most ${MAX_TIMER_MS}), or { runTimeout?, idleTimeout?, refreshOn?: "auto" | "heartbeat" } with such milliseconds; got ${describe(timeout)}.`,
    );
  if (typeof policy !== "object" || Array.isArray(policy)) throw bad();
  const { runTimeout, idleTimeout, refreshOn } = policy as TimeoutPolicy;
  const ms = (value: unknown) =>
    value === undefined || (typeof value === "number" && value > 0 && value <= MAX_TIMER_MS);
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

/** One timed attempt's clock: when it last showed progress, and the timeout it ran out on, if it did. */
class AttemptClock {
  last = performance.now();
  readonly started = this.last;
  timedOut: NodeTimeoutError | undefined;
  private readonly auto: boolean;
  constructor(auto: boolean) {
    this.auto = auto;
  }
  /** Whether what the attempt does still counts: not once it timed out. */
  get active(): boolean {
    return this.timedOut === undefined;
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
  let runTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<"run" | "idle">((resolve) => {
    if (policy.runTimeout !== undefined) runTimer = setTimeout(() => resolve("run"), policy.runTimeout);
    const idleMs = policy.idleTimeout;
    if (idleMs === undefined) return;
    const check = () => {
      const left = clock.last + idleMs - performance.now();
      if (left <= 0) resolve("idle");
      else idleTimer = setTimeout(check, left);
    };
    idleTimer = setTimeout(check, idleMs);
  });
  return {
    fired,
    clear: () => {
      clearTimeout(runTimer);
      clearTimeout(idleTimer);
    },
  };
}

/** The timeout an attempt that finished late (its event loop held) overran, as LangGraph checks. */
function overran(policy: TimeoutPolicy, clock: AttemptClock): "run" | "idle" | undefined {
  const now = performance.now();
  if (policy.runTimeout !== undefined && now - clock.started >= policy.runTimeout) return "run";
  if (policy.idleTimeout !== undefined && now - clock.last >= policy.idleTimeout) return "idle";
  return undefined;
}

/**
 * `base` for one timed attempt: `signal` (aborted on timeout, and with base's), its writer and
 * heartbeat telling the clock.
 */
function timedConfig(
  base: NodeConfig,
  clock: AttemptClock,
  policy: TimeoutPolicy,
  signal: AbortSignal,
): NodeConfig {
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
    // A task's config lists its handlers; callNode gives the node them as a manager.
    const listed = Array.isArray(base.callbacks) ? (base.callbacks as readonly object[]) : [];
    config.callbacks = [...listed, callbackHandler({ name: "LayoverIdleClock", ...methods })];
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

/** An AbortController that also aborts with `outer`, until `dispose` (no listener left on a long-lived signal). */
function linkedAbort(outer: AbortSignal | undefined) {
  const controller = new AbortController();
  const follow = () => controller.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener("abort", follow, { once: true });
  return { controller, dispose: () => outer?.removeEventListener("abort", follow) };
}

/**
 * The calls an attempt makes, in the superstep's scope too (it waits for them) until the attempt
 * times out: then they are the abandoned attempt's, and the superstep no longer waits for them.
 */
class AttemptCalls extends Set<Promise<unknown>> {
  readonly #parent: Set<Promise<unknown>>;
  constructor(parent: Set<Promise<unknown>>) {
    super();
    this.#parent = parent;
  }
  override add(call: Promise<unknown>): this {
    super.add(call);
    this.#parent.add(call);
    return this;
  }
  override delete(call: Promise<unknown>): boolean {
    this.#parent.delete(call);
    return super.delete(call);
  }
  abandon(): void {
    for (const call of this) this.#parent.delete(call);
  }
}

/** `scope` as one attempt sees it: the same, but the calls it runs are its own (AttemptCalls). */
function attemptScope(scope: CallScope) {
  const running = new AttemptCalls(scope.running);
  const view = Object.create(scope) as CallScope;
  view.running = running;
  return { view, abandon: () => running.abandon() };
}

/** `emit` for one attempt: what the subgraphs it calls stream is its progress, and nothing once it timed out. */
function attemptStream(emit: Emitter, clock: AttemptClock): Emitter {
  const own = Object.create(emit) as Emitter;
  own.push = (mode, chunk, ns) => {
    if (!clock.active) return;
    clock.progress();
    emit.push(mode, chunk, ns);
  };
  return own;
}

/**
 * Runs one attempt of `node` (`run`, given the attempt's config and context) under `policy`. The
 * attempt runs in a context of its own (a copy of the task's, with its config, signal, writer,
 * stream and calls, and `progress`), so what a timed-out attempt still does — its code runs on
 * — touches neither the next attempt nor the superstep, and its pushMessage hook is closed.
 */
export async function timedAttempt<T>(
  policy: TimeoutPolicy,
  attempt: { node: string; base: NodeConfig; context: TaskContext },
  run: (config: NodeConfig, context: TaskContext) => Promise<T>,
): Promise<T> {
  const { node, base, context } = attempt;
  const clock = new AttemptClock(policy.refreshOn !== "heartbeat");
  const abort = linkedAbort(base.signal);
  const config = timedConfig(base, clock, policy, abort.controller.signal);
  const calls = context.calls === undefined ? undefined : attemptScope(context.calls);
  const own: TaskContext = {
    ...context,
    config,
    signal: config.signal,
    writer: config.writer,
    // Also the progress of a timed node this one runs in (a subgraph's node).
    progress: () => {
      if (clock.timedOut !== undefined) throw clock.timedOut;
      clock.progress();
      context.progress?.();
    },
    ...(calls === undefined ? {} : { calls: calls.view }),
    ...(context.streamTo === undefined ? {} : { streamTo: attemptStream(context.streamTo, clock) }),
  };
  const dog = watchdog(policy, clock);
  const settled = run(config, own).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([settled, dog.fired]).finally(dog.clear);
  const kind = typeof first === "string" ? first : overran(policy, clock);
  if (kind === undefined) {
    abort.dispose();
    countsBack(own, context);
    if ("error" in (first as object)) throw (first as { error: unknown }).error;
    return (first as { value: T }).value;
  }
  const timedOut = new NodeTimeoutError({
    node,
    kind,
    elapsed: performance.now() - clock.started,
    ...policy,
  });
  clock.timedOut = timedOut;
  if (own.pushHook !== undefined) own.pushHook.open = false; // runBody set it
  calls?.abandon();
  abort.controller.abort(timedOut);
  abort.dispose();
  throw timedOut;
}
