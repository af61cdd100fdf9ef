// Variables an operator set for a service that it does not read: a misspelt one (WORKER_CONCURENCY),
// a near miss of one it reads (DATABSE_URL), or another service's (INTERRUPT_TIMEOUT_MS given to
// the scheduler, which the workers read). Each was dropped without a word and the default ran.

/** The variables only one service reads (the rest: ServiceEnv and JobLockEnv, read by both). */
export const SERVICE_ONLY_ENV = {
  worker: [
    "WORKER_ID",
    "WORKER_CONCURRENCY",
    "WORKER_POSTGRES_LANES",
    "STEP_BUDGET_STEPS",
    "STEP_BUDGET_MS",
    "MARK_RUNNING_AFTER_MS",
    "RUN_EVENT_RESULT_BYTES",
    "REGISTER_EVERY_MS",
    "INTERRUPT_TIMEOUT_MS",
  ],
  scheduler: [
    "SCHEDULER_ID",
    "SWEEP_EVERY_MS",
    "SWEEP_BATCH_SIZE",
    "RECONCILE_EVERY_MS",
    "THREAD_TTL_MS",
    "PRUNE_THREADS_EVERY_MS",
    "PRUNE_CACHE_EVERY_MS",
  ],
} as const;

export type ServiceName = keyof typeof SERVICE_ONLY_ENV;

/** Layover's own names: a variable so named that the service does not read is a mistake. */
const OURS = /^(LAYOVER|WORKER|SCHEDULER)_/;

/** Whether `a` and `b` are at most `most` single-letter edits apart (Levenshtein). */
function near(a: string, b: string, most: number): boolean {
  if (Math.abs(a.length - b.length) > most) return false;
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return (row[b.length] ?? most + 1) <= most;
}

/**
 * A line to warn at start for each variable of `env` that `service` does not read (`reads`: its
 * names) but that looks meant for Layover: another service's (saying whose), one of Layover's
 * prefixes, or a near miss of a name it reads (saying which). Values are never quoted.
 */
export function unreadEnvWarnings(
  service: ServiceName,
  reads: readonly string[],
  env: NodeJS.ProcessEnv,
): string[] {
  const known = new Set(reads);
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.trim() === "" || known.has(name)) continue;
    const owner = (Object.keys(SERVICE_ONLY_ENV) as ServiceName[]).find(
      (other) => other !== service && (SERVICE_ONLY_ENV[other] as readonly string[]).includes(name),
    );
    const meant = reads.find((candidate) => near(name.toUpperCase(), candidate, name.length >= 8 ? 2 : 1));
    if (owner !== undefined)
      warnings.push(`${name} is read by the ${owner}, not the ${service}: this ${service} ignores it.`);
    else if (meant !== undefined)
      warnings.push(`${name} is not a variable the ${service} reads (did you mean ${meant}?): ignored.`);
    else if (OURS.test(name)) warnings.push(`${name} is not a variable the ${service} reads: ignored.`);
  }
  return warnings;
}
