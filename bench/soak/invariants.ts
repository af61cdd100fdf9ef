// The soak's invariants, checked on what the deployment holds once it settled (a Snapshot)
// against what the producers were told (the Ledger). Pure: each says PASS or FAIL with counts
// and the first offenders.
import { CHAIN_NODES, TIMEOUT_ANSWER } from "./graphs.ts";
import type { Ledger, ThreadEntry } from "./ledger.ts";
import type { LogTally } from "./services.ts";
import type { Snapshot } from "./snapshot.ts";

export interface InvariantResult {
  name: string;
  pass: boolean;
  counts: string;
  /** The first offenders, for the report. */
  failures: string[];
}

/**
 * What a race's loser may be told. A resume that finds its question cancelled gets
 * NOT_INTERRUPTED (nobody answered it: the thread waits for nothing, resume-transition.ts's
 * alreadyResolved); a cancel that finds the parked run answered leaves it "interrupted".
 */
const RACE_LOSS: Record<string, string[]> = {
  "two-clients": ["INTERRUPT_ALREADY_RESOLVED"],
  "cancel-or-resume": ["NOT_INTERRUPTED", "cancel found interrupted"],
};

const FINAL = new Set(["success", "error", "interrupted", "cancelled"]);

function result(name: string, counts: string, failures: string[]): InvariantResult {
  return { name, pass: failures.length === 0, counts, failures: failures.slice(0, 10) };
}

function tally(items: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ");
}

/** 1. Every run final; error, cancelled and interrupted only where the ledger expects them. */
export function finalStates(snapshot: Snapshot, ledger: Ledger): InvariantResult {
  const failures: string[] = [];
  const cancelled = new Set([...ledger.threads.values()].flatMap((t) => t.cancelled));
  for (const run of snapshot.runs) {
    const entry = ledger.threads.get(run.thread_id);
    if (!FINAL.has(run.status)) failures.push(`run ${run.id} (${run.thread_id}) still ${run.status}`);
    if (run.status === "error") failures.push(`run ${run.id} (${run.thread_id}) failed`);
    if (run.status === "cancelled" && !cancelled.has(run.id))
      failures.push(`run ${run.id} (${run.thread_id}) cancelled, which nobody asked`);
    if (cancelled.has(run.id) && run.status !== "cancelled")
      failures.push(`run ${run.id} told cancelled, is ${run.status}`);
    if (entry === undefined) failures.push(`run ${run.id} on thread ${run.thread_id} the ledger never saw`);
  }
  const known = new Set(snapshot.runs.map((r) => r.id));
  for (const entry of ledger.threads.values()) {
    for (const runId of entry.runIds)
      if (!known.has(runId)) failures.push(`run ${runId} (${entry.threadId}) missing`);
    const status = snapshot.threadStatus.get(entry.threadId);
    const waits = entry.waitsForPerson || entry.abandoned !== undefined;
    if (status === "interrupted" && !waits)
      failures.push(`thread ${entry.threadId} (${entry.kind}) waits for a person`);
    if (entry.waitsForPerson && status !== "interrupted")
      failures.push(`thread ${entry.threadId} left for a person is ${status}`);
  }
  const abandoned = [...ledger.threads.values()].filter((t) => t.abandoned !== undefined).length;
  const counts = `runs: ${tally(snapshot.runs.map((r) => r.status))}; threads abandoned by their story: ${abandoned}`;
  return result("1. every run final, as the ledger expects", counts, failures);
}

/** 2. No checkpoint has two children. */
export function noForks(snapshot: Snapshot): InvariantResult {
  const counts = `${snapshot.forks.length} forked checkpoints in ${new Set(snapshot.runs.map((r) => r.thread_id)).size} threads`;
  return result("2. each superstep committed once (no checkpoint with two children)", counts, snapshot.forks);
}

const CHAIN = Array.from({ length: CHAIN_NODES }, (_, i) => `s${i}`);

/** The trail the approval graph computes for the answers the ledger says won. */
function approvalTrail(entry: ThreadEntry): string[] {
  const answered = entry.answers.length > 0;
  if (!answered && (entry.cancelled.length > 0 || entry.waitsForPerson)) return ["prepare"];
  return ["prepare", ...entry.answers.map((a) => `review:${a}`), "act"];
}

/**
 * Whether a chain thread's trail is its runs' in order from `run` on: the whole chain for each
 * run that was not cancelled, a prefix of it (maybe empty) for each cancelled one.
 */
function chainTrailFits(entry: ThreadEntry, trail: string[], run = 0, at = 0): boolean {
  const runId = entry.runIds[run];
  if (runId === undefined) return at === trail.length;
  const longest = entry.cancelled.includes(runId) ? 0 : CHAIN.length;
  for (let k = CHAIN.length; k >= longest; k--)
    if (
      CHAIN.slice(0, k).every((node, i) => trail[at + i] === node) &&
      chainTrailFits(entry, trail, run + 1, at + k)
    )
      return true;
  return false;
}

/** 3. Every thread's final values are what its graph computes for the answers that won. */
export function finalValues(snapshot: Snapshot, ledger: Ledger): InvariantResult {
  const failures: string[] = [];
  let checked = 0;
  for (const entry of ledger.threads.values()) {
    if (entry.abandoned !== undefined) continue;
    checked++;
    const values = snapshot.values.get(entry.threadId) ?? {};
    const trail = (values.trail as string[] | undefined) ?? [];
    const ok =
      entry.graphId === "soak-chain"
        ? chainTrailFits(entry, trail) && (values.count ?? 0) === trail.length
        : JSON.stringify(trail) === JSON.stringify(approvalTrail(entry));
    if (!ok)
      failures.push(
        `${entry.threadId} (${entry.kind}): trail ${JSON.stringify(trail)} count ${values.count}; runs ${entry.runIds.length}, cancelled ${entry.cancelled.length}, answers ${JSON.stringify(entry.answers)}`,
      );
  }
  return result("3. final values match the answers that won", `${checked} threads checked`, failures);
}

/** 4. Of racing resumes exactly one won (the rest: already resolved, or the same run for the same key); one resume per answer. */
export function oneResumeEach(snapshot: Snapshot, ledger: Ledger): InvariantResult {
  const failures: string[] = [];
  for (const race of ledger.races) {
    const runs = new Set(race.outcomes.flatMap((o) => (o.runId ? [o.runId] : [])));
    const errors = race.outcomes.flatMap((o) => (o.error ? [o.error] : []));
    const ok =
      race.kind === "idempotent"
        ? runs.size === 1 && errors.length === 0
        : race.kind === "timeout"
          ? runs.size + errors.length === 1
          : runs.size === 1 && errors.length === 1 && !!RACE_LOSS[race.kind]?.includes(errors[0] as string);
    if (!ok)
      failures.push(
        `${race.kind} race on ${race.threadId}/${race.interruptId}: ${JSON.stringify(race.outcomes)}`,
      );
  }
  const takers = new Map<string, string[]>();
  for (const run of snapshot.runs)
    if (run.kind === "resume" && run.status !== "cancelled")
      for (const id of Object.keys(run.resume ?? {}))
        takers.set(`${run.thread_id}/${id}`, [...(takers.get(`${run.thread_id}/${id}`) ?? []), run.id]);
  let answered = 0;
  for (const i of snapshot.interrupts) {
    if (i.status !== "resolved" && i.status !== "expired") continue;
    answered++;
    const runs = takers.get(`${i.thread_id}/${i.id}`) ?? [];
    if (runs.length !== 1 || runs[0] !== i.resume_run_id)
      failures.push(
        `interrupt ${i.thread_id}/${i.id} (${i.status}) taken by runs ${JSON.stringify(runs)}, recorded ${i.resume_run_id}`,
      );
  }
  const counts = `races: ${tally(ledger.races.map((r) => r.kind))}; ${answered} answered interrupts`;
  return result("4. exactly one resume wins each question", counts, failures);
}

/** 5. Interrupts past their timeout expired once, by the scheduler, and their runs took the timeout value. */
export function expiries(snapshot: Snapshot, ledger: Ledger, settledAt: number): InvariantResult {
  const failures: string[] = [];
  const resumes = new Map(snapshot.runs.map((r) => [r.id, r]));
  let expired = 0;
  for (const i of snapshot.interrupts) {
    if (i.deadline === null) {
      if (i.status === "expired") failures.push(`${i.thread_id}/${i.id} expired without a deadline`);
      continue;
    }
    if (i.status === "pending" && i.deadline.getTime() < settledAt)
      failures.push(
        `${i.thread_id}/${i.id} still pending ${settledAt - i.deadline.getTime()} ms past its deadline`,
      );
    if (i.status !== "expired") continue;
    expired++;
    const taken = i.resume_run_id ? resumes.get(i.resume_run_id)?.resume?.[i.id] : undefined;
    if (taken !== TIMEOUT_ANSWER)
      failures.push(`${i.thread_id}/${i.id} expired, its run resumed with ${JSON.stringify(taken)}`);
    if (!ledger.threads.get(i.thread_id)?.timeoutMs)
      failures.push(`${i.thread_id}/${i.id} expired on a thread without a timeout`);
  }
  const timedOut = [...ledger.threads.values()].filter((t) => t.timeoutMs !== undefined).length;
  return result(
    "5. timeouts expired once, runs continued with the timeout value",
    `${expired} expired interrupts on ${timedOut} timed threads`,
    failures,
  );
}

/** 6. Nothing parked or finished holds a job; nothing pending or running lacks one. */
export function jobsMatchRuns(snapshot: Snapshot): InvariantResult {
  const failures: string[] = [];
  const status = new Map(snapshot.runs.map((r) => [r.id, r.status]));
  const withJob = new Set(snapshot.jobs.map((j) => j.runId));
  for (const job of snapshot.jobs) {
    const s = status.get(job.runId);
    if (s !== "pending" && s !== "running")
      failures.push(`${job.state} job of run ${job.runId}, which is ${s}`);
  }
  for (const run of snapshot.runs)
    if ((run.status === "pending" || run.status === "running") && !withJob.has(run.id))
      failures.push(`run ${run.id} ${run.status} with no job`);
  const counts = `${snapshot.jobs.length} jobs left (${tally(snapshot.jobs.map((j) => j.state)) || "none"}); ${snapshot.failedJobs} failed jobs kept`;
  return result("6. jobs only for runs that need them", counts, failures);
}

/**
 * An error the README documents for the fault that caused it: "A job whose connection failed
 * while Postgres answers a SELECT 1 (its own statement's connection killed) fails its attempt as
 * any failing job does" — pg_terminate_backend's 57P01, Postgres still up.
 */
const DOCUMENTED = /terminating connection due to administrator command/;

/** 7. No process logged at error (or above) for a fault the README says it rides out with a warning. */
export function logLevels(logs: LogTally): InvariantResult {
  const errors = logs.errors.filter((e) => e.level >= 50);
  const documented = errors.filter((e) => DOCUMENTED.test(e.err ?? ""));
  const failures = errors
    .filter((e) => !documented.includes(e))
    .map((e) => `${e.process}: level ${e.level} "${e.msg}"${e.err ? ` (${e.err})` : ""}`);
  const per = [...logs.levels].map(
    ([id, levels]) => `${id} {${[...levels].map(([l, n]) => `${l} ${n}`).join(", ")}}`,
  );
  const counts = `${errors.length} error lines, ${documented.length} of them a job's own connection terminated (a failed attempt, as the README documents: ${[...new Set(documented.map((e) => e.msg))].join(", ") || "none"}); ${per.join("; ")}`;
  return result("7. no error logged for a fault the services ride out", counts, failures);
}
