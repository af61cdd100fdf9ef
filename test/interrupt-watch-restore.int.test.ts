// interrupts.watch after the deployment's Postgres was restored from a dump into another cluster:
// transaction ids start again below the restored rows' parked_xid. A cursor kept from before
// sat ahead of every new park, so a watch continued from it delivered nothing, silently; the
// restored pending questions were withheld as if their parks had not committed, for ever in
// practice. A service's start now moves such rows to the feed's start, and such a cursor is
// refused saying why.
import { afterAll, beforeAll, expect, it } from "vitest";
import { take } from "./support/feed.ts";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("interrupt_watch_restore");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** What a restore into a younger cluster leaves: the row's parking transaction ahead of the server's. */
async function fromAnotherCluster(threadId: string): Promise<void> {
  await h.pool.query(
    `UPDATE "${h.schema}".interrupts
        SET parked_xid = (pg_snapshot_xmax(pg_current_snapshot())::text::numeric + 1000000)::text::xid8
      WHERE thread_id = $1`,
    [threadId],
  );
}

it("a pending question restored from another cluster is delivered once a service starts", async () => {
  const { threadId } = await parkedApproval(h, "restored");
  await fromAnotherCluster(threadId);
  await h.startWorker({ id: "worker-b" }); // a deployment's services start on the restored database
  const watch = h.client.interrupts.watch({ graphId: "approval", pollMs: 100 });
  const [first] = await take(watch, 1);
  watch.close();
  expect(first?.threadId).toBe(threadId);
});

it("a cursor ahead of the server is refused, saying why, rather than delivering nothing", async () => {
  const ahead = Buffer.from(JSON.stringify(["99999999999", 1, "x"])).toString("base64url");
  const watch = h.client.interrupts.watch({ after: ahead });
  await expect(watch.next()).rejects.toMatchObject({
    code: "INVALID_INPUT",
    message: expect.stringContaining("a cursor kept from before a restore into another cluster"),
  });
});
