// PostgresSaver.guarded: commits made only while a caller's condition holds, checked in the
// commit's own statement. Here the condition is a lease of the test's own (the runtime's is its
// run holding the thread): a holder that lost its lease commits nothing, as a lost compare-and-set.
import { type CheckpointKey, isCheckpointConflict, type PutCheckpointArgs } from "@layover/checkpoint";
import { beforeAll, describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import type { PutGuard } from "./put-guard.ts";
import { statementName } from "./schema-name.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { rowCounts } from "./test-support/pools.ts";

const t = useCountedSaver("guarded", 3);

beforeAll(async () => {
  await t.admin.query(`CREATE TABLE "${t.schema.name}".leases (thread_id text PRIMARY KEY, holder text)`);
});

/** The guard of `holder`: it commits on `key`'s thread while it holds the thread's lease. */
function leaseOf(key: CheckpointKey, holder: string): PutGuard {
  return {
    name: "holds_lease",
    sql: `EXISTS (SELECT 1 FROM "${t.schema.name}".leases WHERE thread_id = $1::text AND holder = $2::text FOR NO KEY UPDATE)`,
    values: [key.threadId, holder],
  };
}

async function lease(key: CheckpointKey, holder: string): Promise<void> {
  await t.admin.query(
    `INSERT INTO "${t.schema.name}".leases VALUES ($1, $2) ON CONFLICT (thread_id) DO UPDATE SET holder = $2`,
    [key.threadId, holder],
  );
}

function step(key: CheckpointKey, n: number, parentId: string | null): PutCheckpointArgs {
  return putArgs(key, { values: { n }, versions: { n }, changed: ["n"], parentId });
}

describe("a guarded saver", () => {
  it("commits while its guard holds, in one statement a put, as the unguarded saver does", async () => {
    const key = newKey("holds");
    await lease(key, "a");
    const saver = t.saver.guarded(leaseOf(key, "a"));
    const first = step(key, 1, null);
    const sent = await t.statementsOf(() => saver.put(first));
    expect(sent).toEqual([statementName("putg_g_holds_lease", t.schema.name)]);
    const chain = [step(key, 2, first.checkpoint.id)];
    chain.push(step(key, 3, (chain[0] as PutCheckpointArgs).checkpoint.id));
    expect(await t.statementsOf(() => saver.putMany(chain))).toHaveLength(1);
    expect((await saver.getTuple(key))?.checkpoint.channelValues).toEqual({ n: 3 });
  });

  it("refuses every commit once the guard fails: nothing is stored, and `then` does not run", async () => {
    const key = newKey("lost");
    await lease(key, "a");
    const first = step(key, 1, null);
    await t.saver.guarded(leaseOf(key, "a")).put(first);
    await lease(key, "b");
    const late = t.saver.guarded(leaseOf(key, "a"));
    const then = { name: "note", sql: "SELECT $18::text AS note FROM won", values: ["ended"] };
    const next = step(key, 2, first.checkpoint.id);
    const writes = [{ ...key, checkpointId: first.checkpoint.id, taskId: "t", writes: [["n", 9]] as const }];
    for (const commit of [
      () => late.put(next),
      () => late.putMany([next]),
      () => late.putThen(next, then),
      () => late.putThen(next, then, [{ ...key, checkpointId: next.checkpoint.id, taskId: "t", writes: [] }]),
      () => late.putWritesThen(writes, then),
      () => late.putWrites(writes[0] as (typeof writes)[number]),
    ]) {
      const error = await commit().catch((caught: unknown) => caught);
      expect(isCheckpointConflict(error)).toBe(true);
    }
    // A thread that has no checkpoint yet: the head is not created either.
    const fresh = newKey("lost-fresh");
    const error = await late.put(step(fresh, 1, null)).catch((caught: unknown) => caught);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toMatchObject({
      heads: 1,
      checkpoints: 1,
      writes: 0,
    });
    expect(await rowCounts(t.admin, t.schema.name, fresh.threadId)).toMatchObject({ heads: 0 });
    // The holder of the lease goes on from the head the late one could not move.
    expect(await t.saver.guarded(leaseOf(key, "b")).putThen(next, then, writes.slice(0, 0))).toEqual({
      note: "ended",
    });
  });

  it("numbers the guard's parameters after then's and the writes', and stores both when it holds", async () => {
    const key = newKey("numbered");
    await lease(key, "a");
    const saver = t.saver.guarded(leaseOf(key, "a"));
    const first = step(key, 1, null);
    const then = {
      name: "two_values",
      sql: "SELECT $18::text AS a, $19::integer AS b FROM won",
      values: ["x", 2],
    };
    const writes = [
      { ...key, checkpointId: first.checkpoint.id, taskId: "ask", writes: [["q", "ok?"]] as const },
    ];
    expect(await saver.putThen(first, then, writes)).toEqual({ a: "x", b: 2 });
    const more = [
      { ...key, checkpointId: first.checkpoint.id, taskId: "other", writes: [["q", "too"]] as const },
    ];
    expect(await saver.putWritesThen(more, then)).toEqual({ a: "x", b: 2 });
    expect((await saver.getTuple(key))?.pendingWrites.map((w) => w.taskId).sort()).toEqual(["ask", "other"]);
  });

  it("stores pending writes while its guard holds, in one statement, on any checkpoint of the thread", async () => {
    const key = newKey("writes");
    await lease(key, "a");
    const saver = t.saver.guarded(leaseOf(key, "a"));
    const first = step(key, 1, null);
    await saver.put(first);
    await saver.put(step(key, 2, first.checkpoint.id));
    // Writes of a checkpoint behind the head: putWrites, as LangGraph's, takes any of the thread's.
    const writes = { ...key, checkpointId: first.checkpoint.id, taskId: "t", writes: [["n", 7]] as const };
    const sent = await t.statementsOf(() => saver.putWrites(writes));
    expect(sent).toEqual([statementName("pw_g_holds_lease", t.schema.name)]);
    const tuple = await saver.getTuple({ ...key, checkpointId: first.checkpoint.id });
    expect(tuple?.pendingWrites.map((w) => [w.taskId, w.channel, w.value])).toEqual([["t", "n", 7]]);
    // A thread with no checkpoint: not found, as the unguarded saver says, not a lost race.
    const none = newKey("writes-none");
    await lease(none, "a");
    const error = await t.saver
      .guarded(leaseOf(none, "a"))
      .putWrites({ ...writes, ...none })
      .catch((caught: unknown) => caught);
    expect(isPostgresSaverError(error, "CHECKPOINT_NOT_FOUND")).toBe(true);
  });

  it("a lease taken away while a commit waits for it: the commit sees the change and is refused", async () => {
    const key = newKey("moving");
    await lease(key, "a");
    const first = step(key, 1, null);
    await t.saver.guarded(leaseOf(key, "a")).put(first);
    const mover = await t.admin.connect();
    try {
      await mover.query("BEGIN");
      await mover.query(`UPDATE "${t.schema.name}".leases SET holder = 'b' WHERE thread_id = $1`, [
        key.threadId,
      ]);
      // The guard locks the lease's row: the commit waits for the change, then reads it.
      const late = t.saver.guarded(leaseOf(key, "a")).put(step(key, 2, first.checkpoint.id));
      const blocked = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`;
      const { rows } = await mover.query("SELECT pg_backend_pid() AS pid");
      for (let i = 0; i < 200 && (await t.admin.query(blocked, [rows[0].pid])).rows[0].n === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      await mover.query("COMMIT");
      expect(isCheckpointConflict(await late.catch((caught: unknown) => caught))).toBe(true);
    } finally {
      mover.release();
    }
    expect((await t.saver.getTuple(key))?.checkpoint.id).toBe(first.checkpoint.id);
  });

  it("refuses a guard it cannot send before anything is sent", async () => {
    const key = newKey("bad-guard");
    const sent = await t.statementsOf(async () => {
      const unnumbered = { ...leaseOf(key, "a"), name: "too_many", sql: "$1::text = $3::text" };
      expect(() => t.saver.guarded({ ...leaseOf(key, "a"), name: "Bad-Name" })).toThrow(/lower-case/);
      const error = (() => {
        try {
          return t.saver.guarded(unnumbered);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isPostgresSaverError(error, "INVALID_SAVER_INPUT")).toBe(true);
      expect(() => t.saver.guarded({ ...leaseOf(key, "a"), sql: "true" })).toThrow(/other SQL/);
    });
    expect(sent).toEqual([]);
  });
});
