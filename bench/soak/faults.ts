// The faults, injected one at a time at seeded random intervals while the load runs: a worker
// SIGKILLed and replaced, a worker frozen (SIGSTOP) past its jobs' locks and thawed, a scheduler
// SIGKILLed and restarted or frozen past its locks, the deployment's Redis keys deleted (its prefix only), and its
// services' Postgres connections terminated (told apart by their application_name).
import { deleteRedisPrefix } from "@layover/testing";
import type { SoakFleet } from "./fleet.ts";
import { pick, type Rng, shuffled } from "./rng.ts";
import { killService, SERVICE_TIMINGS } from "./services.ts";

export const FAULT_KINDS = [
  "kill-worker",
  "freeze-worker",
  "kill-scheduler",
  "freeze-scheduler",
  "delete-redis-keys",
  "terminate-postgres-backends",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  target: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

function slotsOf(fleet: SoakFleet, kind: "worker" | "scheduler"): string[] {
  return [...fleet.services.keys()].filter((slot) => slot.startsWith(kind));
}

async function replace(fleet: SoakFleet, slot: string): Promise<string> {
  const service = fleet.services.get(slot);
  if (service) await killService(service);
  return (await fleet.respawn(slot)).id;
}

/** SIGSTOP for twice a lock's length (its jobs, the scheduler's ticks too, are taken over meanwhile), then SIGCONT. */
async function freeze(fleet: SoakFleet, slot: string): Promise<string> {
  const service = fleet.services.get(slot);
  if (!service) return slot;
  service.child.kill("SIGSTOP");
  await sleep(2 * Number(SERVICE_TIMINGS.LOCK_DURATION_MS) + 500);
  service.child.kill("SIGCONT");
  return service.id;
}

async function terminateBackends(fleet: SoakFleet): Promise<string> {
  const { rows } = await fleet.pool.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
       FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
    [fleet.serviceAppName],
  );
  return `${rows[0]?.n ?? 0} backends`;
}

async function inject(fleet: SoakFleet, kind: FaultKind, rng: Rng): Promise<string> {
  switch (kind) {
    case "kill-worker":
      return replace(fleet, pick(rng, slotsOf(fleet, "worker")));
    case "freeze-worker":
      return freeze(fleet, pick(rng, slotsOf(fleet, "worker")));
    case "kill-scheduler":
      return replace(fleet, pick(rng, slotsOf(fleet, "scheduler")));
    case "freeze-scheduler":
      return freeze(fleet, pick(rng, slotsOf(fleet, "scheduler")));
    case "delete-redis-keys":
      await deleteRedisPrefix(fleet.redisUrl, fleet.deployment.prefix);
      return `${fleet.deployment.prefix}*`;
    case "terminate-postgres-backends":
      return terminateBackends(fleet);
  }
}

/**
 * Injects faults every `minGapMs`…`maxGapMs` until `signal`; each kind comes round once in every
 * shuffled cycle of the six, so a short soak still sees them all.
 */
export async function injectFaults(
  fleet: SoakFleet,
  rng: Rng,
  options: { minGapMs: number; maxGapMs: number; signal: AbortSignal; log: (line: string) => void },
): Promise<FaultRecord[]> {
  const injected: FaultRecord[] = [];
  let cycle: FaultKind[] = [];
  for (;;) {
    await sleep(options.minGapMs + rng() * (options.maxGapMs - options.minGapMs), options.signal);
    if (options.signal.aborted) return injected;
    if (cycle.length === 0) cycle = shuffled(rng, FAULT_KINDS);
    const kind = cycle.pop() as FaultKind;
    const at = Date.now();
    const target = await inject(fleet, kind, rng);
    injected.push({ kind, at, target });
    options.log(`fault: ${kind} (${target})`);
  }
}
