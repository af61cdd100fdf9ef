// Invariant 8: what the stories' stream readers saw (ledger.streams) against what Postgres holds
// once the deployment settled, and against the faults' times. Pure, like invariants.ts.
//
// What the README ("Show a run as it runs") promises, and so what is checked:
// - every stream ends, with exactly one "end" part, last, within seconds of the run's park or
//   end, saying what Postgres says of the run; ids only go forward, across a rejoin too;
// - chunks come in order across jobs and workers, at least once: a superstep done again
//   reports again, so a stream is its run's nodes in graph order, each redo starting over from
//   an earlier node and going on in order, never skipping one.
// Where that last part holds: wherever Redis keeps its keys. Deleting the deployment's keys
// deletes the stream's entries not yet read, and the run's lost job is enqueued again (by
// reconciliation) while its worker may still run it, so two attempts' chunks interleave. A
// stream open while that fault struck is held to the rest: ending, its status, its ids, and
// naming only nodes its run can run. The other faults excuse nothing: a killed or frozen worker's
// superstep is redone and reports again, a terminated connection fails an attempt that is
// retried, and the README promises order across jobs and workers all the same.
import type { FaultRecord } from "./faults.ts";
import { APPROVAL_ID, CHAIN_NODES } from "./graphs.ts";
import type { InvariantResult } from "./invariants.ts";
import type { Ledger, SeenPart, StreamRead } from "./ledger.ts";
import type { RunRow, Snapshot } from "./snapshot.ts";

/**
 * How long after the run's park or end (Postgres's time) its stream may end: the README's 5 s,
 * the wait's reread every 2 s in case the run's event was lost, a 1 s read, and slack for a
 * soak process sharing two cores with the deployment.
 */
const END_WITHIN_MS = 15_000;
/** Around a deletion of the Redis keys, when a stream open may have lost chunks or seen two attempts'. */
const DELETION_BEFORE_MS = 1_000;
/** RECONCILE_EVERY_MS (3 s): by then the lost job is enqueued again and the run goes on as one attempt. */
const DELETION_AFTER_MS = 3_000;

const CHAIN = Array.from({ length: CHAIN_NODES }, (_, i) => `s${i}`);

/** The nodes a run reports updates of, in order, and whether all of them (else: a prefix, a cancelled run). */
function expectedNodes(graphId: string, kind: RunRow["kind"], status: string) {
  if (graphId !== APPROVAL_ID) return { nodes: CHAIN, whole: status === "success" };
  // A start parks in review (it reports prepare); a resume's review asks again or goes on to act.
  if (kind === "start") return { nodes: ["prepare"], whole: status === "interrupted" };
  return { nodes: status === "interrupted" ? [] : ["review", "act"], whole: status !== "cancelled" };
}

function idOf(id: string): [bigint, bigint] {
  const [ms = "0", seq = "0"] = id.split("-");
  return [BigInt(ms), BigInt(seq)];
}

/** -1, 0, 1 as stream entry id `a` comes before, is, or comes after `b`. */
function compareIds(a: string, b: string): number {
  const [x, y] = [idOf(a), idOf(b)];
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1;
}

/** Whether the deployment's Redis keys were deleted while the stream was open (from the start or resume sent to its end). */
function overlapsDeletion(read: StreamRead, faults: FaultRecord[]): boolean {
  const end = read.ends[0]?.at ?? Number.POSITIVE_INFINITY;
  return faults.some(
    (f) =>
      f.kind === "delete-redis-keys" &&
      f.at - DELETION_BEFORE_MS <= end &&
      read.askedAt <= f.at + DELETION_AFTER_MS,
  );
}

/** The faults that struck while the stream was open, for a failure's line: where to look. */
function faultsDuring(read: StreamRead, faults: FaultRecord[]): string {
  const end = read.ends[0]?.at ?? Number.POSITIVE_INFINITY;
  const during = faults.filter((f) => f.at >= read.askedAt - 6_500 && f.at <= end);
  const said = during.map((f) => `${f.kind} ${f.target} ${((f.at - read.askedAt) / 1000).toFixed(1)} s in`);
  return ` (open ${(((end === Number.POSITIVE_INFINITY ? Date.now() : end) - read.askedAt) / 1000).toFixed(1)} s; faults: ${said.join(", ") || "none"})`;
}

/** What is wrong with how the stream ended, its ids, or the nodes it names (for any stream). */
function endFaults(read: StreamRead, run: RunRow | undefined, cancelled: Set<string>): string[] {
  const wrong: string[] = [];
  if (read.error !== undefined) wrong.push(`threw ${read.error}`);
  if (read.ends.length !== 1) wrong.push(`${read.ends.length} end parts`);
  if (read.afterEnd > 0) wrong.push(`${read.afterEnd} parts after its end`);
  const end = read.ends[0];
  const ids = [...read.parts.map((p) => p.id), ...(end ? [end.id] : [])];
  for (let i = 1; i < ids.length; i++) {
    const order = compareIds(ids[i] as string, ids[i - 1] as string);
    if (order < 0 || (order === 0 && i < read.parts.length))
      wrong.push(`part ${i} id ${ids[i]} not after ${ids[i - 1]}`);
  }
  if (run === undefined) return [...wrong, "its run is not in Postgres"];
  if (end === undefined) return wrong;
  if (end.runId !== read.runId) wrong.push(`ended with run ${end.runId}'s result`);
  // A parked run's stream ends with "interrupted"; a cancel may come after (cancel-parked).
  const parkedThenCancelled =
    end.status === "interrupted" && run.status === "cancelled" && cancelled.has(run.id);
  if (end.status !== run.status && !parkedThenCancelled)
    wrong.push(`ended ${end.status}, Postgres says ${run.status}`);
  const late = end.at - run.settled_at.getTime();
  if (late > END_WITHIN_MS) wrong.push(`ended ${late} ms after its run settled`);
  return wrong;
}

/** Nodes named by the stream's parts that its run cannot run. */
function strangers(read: StreamRead, nodes: string[]): string[] {
  const odd = read.parts.flatMap((p) => p.nodes.filter((n) => !nodes.includes(n)));
  return odd.length === 0 ? [] : [`named ${[...new Set(odd)].join(", ")}, not its run's`];
}

/**
 * For a stream Redis kept the keys of: its updates are the run's nodes in order, at least once (a redo
 * starts over from an earlier node; none is skipped), all of them and the last one last unless
 * the run was cancelled;
 * in ["updates", "custom"], each update of a node that writes follows that node's custom chunk.
 * Returns what is wrong and how many redone steps it saw.
 */
function orderFaults(read: StreamRead, expected: { nodes: string[]; whole: boolean }) {
  const wrong: string[] = [];
  const updates = read.parts.filter((p) => p.event === "updates");
  const seq = updates.flatMap((p) => p.nodes.map((n) => expected.nodes.indexOf(n)));
  let [last, redone] = [-1, 0];
  for (const at of seq) {
    if (at > last + 1) wrong.push(`${expected.nodes[at]} after ${expected.nodes[last] ?? "the start"}`);
    if (at <= last) redone++;
    last = at;
  }
  // The attempt that stored the run's park or end reported last, through the last node.
  const final = seq.at(-1) ?? -1;
  if (expected.whole && final < expected.nodes.length - 1)
    wrong.push(`ended at ${expected.nodes[final] ?? "the start"} of ${expected.nodes.join(" → ")}`);
  if (Array.isArray(read.mode)) wrong.push(...customFaults(read.parts));
  if (wrong.length > 0) wrong.push(`parts ${partsSeen(read.parts)}`);
  return { wrong, redone };
}

/**
 * Updates of nodes that write a custom chunk (all but review) not right after that chunk. An
 * update replayed from stored writes is not: its node finished in an earlier attempt and did
 * not run again (as in LangGraph, it reports its update, marked cached, and writes nothing).
 */
function customFaults(parts: SeenPart[]): string[] {
  const wrong: string[] = [];
  parts.forEach((part, i) => {
    const node = part.event === "updates" && part.cached !== true ? part.nodes[0] : undefined;
    if (node === undefined || node === "review") return;
    const before = parts[i - 1];
    if (before?.event !== "custom" || before.nodes[0] !== node)
      wrong.push(`update of ${node} without its custom chunk just before`);
  });
  return wrong;
}

/** The parts as read, for a failure's line: `c:s1` a custom chunk, `u:s1` an update, `u*:s1` one replayed. */
function partsSeen(parts: SeenPart[]): string {
  const name = (p: SeenPart) =>
    p.event === "custom" ? "c" : p.event === "updates" ? (p.cached ? "u*" : "u") : p.event;
  return parts.map((p) => `${name(p)}:${p.nodes.join("+")}`).join(" ");
}

function tally(items: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

/** 8. Every stream read ended once, as Postgres says its run did; unless Redis lost its keys meanwhile, its chunks came in order, at least once. */
export function streamsEnd(snapshot: Snapshot, ledger: Ledger, faults: FaultRecord[]): InvariantResult {
  const runs = new Map(snapshot.runs.map((r) => [r.id, r]));
  const cancelled = new Set([...ledger.threads.values()].flatMap((t) => t.cancelled));
  const failures: string[] = [];
  const n = { clean: 0, touched: 0, redone: 0, touchedOff: 0 };
  for (const read of ledger.streams) {
    const run = runs.get(read.runId);
    const entry = ledger.threads.get(read.threadId);
    const status = read.ends[0]?.status ?? run?.status ?? "";
    const expected = expectedNodes(entry?.graphId ?? "", run?.kind ?? "start", status);
    const wrong = [...endFaults(read, run, cancelled), ...strangers(read, expected.nodes)];
    const order = orderFaults(read, expected);
    if (overlapsDeletion(read, faults)) {
      n.touched++;
      if (order.wrong.length > 0) n.touchedOff++;
    } else {
      n.clean++;
      n.redone += order.redone;
      wrong.push(...order.wrong);
    }
    if (wrong.length > 0)
      failures.push(
        `stream of ${read.runId} (${read.threadId}): ${wrong.join("; ")}${faultsDuring(read, faults)}`,
      );
  }
  const parts = ledger.streams.flatMap((r) => r.parts);
  const counts =
    `${ledger.streams.length} streams read (${tally(ledger.streams.map((r) => JSON.stringify(r.mode)))}), ` +
    `${ledger.streams.reduce((sum, r) => sum + r.rejoins, 0)} rejoined; ${parts.length} parts (${tally(parts.map((p) => p.event))}); ` +
    `ends: ${tally(ledger.streams.flatMap((r) => r.ends.map((e) => e.status)))}; ` +
    `${n.clean} checked in order and whole (${n.redone} redone steps); ` +
    `${n.touched} open while the Redis keys were deleted (${n.touchedOff} of them with chunks lost or interleaved: allowed)`;
  return {
    name: "8. every stream ends once, as its run did; chunks in order",
    pass: failures.length === 0,
    counts,
    failures: failures.slice(0, 10),
  };
}
