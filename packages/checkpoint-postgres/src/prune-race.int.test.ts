// A prune by date (strategy delete) racing a resume: the walk reads a page of heads and works out
// which threads are idle, then deletes them 100 at a time, one transaction after another. A
// thread idle when the page was read but given a new head before its turn (a resume) must not
// be deleted: its new checkpoint would be lost with its history. Each batch's transaction locks
// its threads' heads and checks them again before it deletes anything.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { idAt, putArgs } from "./test-support/checkpoints.ts";
import { useSaverSchema } from "./test-support/saver-schema.ts";

const t = useSaverSchema("prune_race");
const DAY = 86_400_000;

describe("prune delete by date, racing a resume", () => {
  it("never deletes a thread that got a new head after the walk read its page", async () => {
    const s = t.name;
    const old = Date.now() - 30 * DAY;
    // 150 idle threads, first_id in thread order: the walk's first batch is t000..t099, the second t100..t149.
    const heads = new Map<string, string>();
    for (let i = 0; i < 150; i++) {
      const threadId = `t${String(i).padStart(3, "0")}`;
      let parent: string | null = null;
      for (let j = 0; j < 2; j++) {
        const args = putArgs(
          { threadId, ns: "" },
          {
            values: { counter: j },
            versions: { counter: j + 1 },
            changed: ["counter"],
            parentId: parent,
          },
        );
        args.checkpoint.id = idAt(old + i * 10 + j, j);
        await t.saver.put(args);
        parent = args.checkpoint.id;
      }
      heads.set(threadId, parent as string);
    }

    // Hold t000's head row: the first batch's delete waits on it (as on any slow delete).
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query(`SELECT 1 FROM ${s}.checkpoint_heads WHERE thread_id = 't000' FOR UPDATE`);

    const prune = t.saver.prune({ olderThan: new Date(Date.now() - DAY) }, { strategy: "delete" });
    // Wait until the prune has read its page and its first delete is waiting for the lock.
    for (let waited = 0; ; waited += 20) {
      // (Not on the blocker: in a transaction, pg_stat_activity keeps its first snapshot.)
      const { rows } = await t.pool.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()
            AND strpos(query, $1) > 0`,
        [s],
      );
      if (rows.length > 0) break;
      if (waited > 10_000) throw new Error("the prune never waited on t000");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Meanwhile t120 is resumed: a new checkpoint, now, on its head. It is in use.
    const resumed = putArgs(
      { threadId: "t120", ns: "" },
      {
        values: { counter: 2 },
        versions: { counter: 3 },
        changed: ["counter"],
        parentId: heads.get("t120") as string,
      },
    );
    await t.saver.put(resumed);
    expect((await t.saver.getTuple({ threadId: "t120", ns: "" }))?.checkpoint.id).toBe(resumed.checkpoint.id);

    await blocker.query("ROLLBACK");
    await blocker.end();
    const result = await prune;

    // t120 has a head newer than the date when its batch is deleted: it must survive.
    expect((await t.saver.getTuple({ threadId: "t120", ns: "" }))?.checkpoint.id).toBe(resumed.checkpoint.id);
    expect(result.threads).toBe(149);
  }, 60_000);
});
