// The fence on a run's commits: a worker's job stores a run's checkpoints only while the run holds
// its thread (threads.current_run_id), checked in each commit's own statement.
import type { PutGuard } from "@layover/checkpoint-postgres";
import type { Db } from "./db.ts";

/**
 * The guard of a worker's commits for `run` (PostgresSaver.guarded): each moves the thread's
 * head, or adds pending writes to one of its checkpoints, only while the run holds its thread. A
 * job whose run lost the thread meanwhile — its worker froze past its lock while the run was
 * cancelled and the thread handed on — stores nothing on it, as if another worker had committed
 * first.
 *
 * Every run that is stepped holds its thread (a job steps only a run that does, readJobRun's
 * holds_thread): start_run (a new thread, an idle one, a queued start that release_thread
 * hands it to), resume_thread, a continue (continueThread), the sweep's resumes
 * (expire-due-interrupts). It lets go only by a transition of its own (settle_run, park_run,
 * refuse_resume, then release_thread), or, cancelled, when its job hands the thread on
 * (release_cancelled, after the job stopped and flushed what it made). Subgraphs store on the
 * same thread (another namespace): the same run holds it.
 *
 * The thread's row is locked FOR UPDATE: a transition that hands the thread on while a commit
 * is in flight waits for the commit, or the commit waits for it and then sees the thread gone.
 * The saver reads it before it locks the head row, in the order every transition takes them
 * (thread, then checkpoints), and in the mode the final commit's settle_run locks it again in
 * the same statement: no lock to upgrade, which a foreign key's check of another transaction
 * (FOR KEY SHARE) could hold up into a deadlock.
 */
export function holdsThreadGuard(db: Db, run: { id: string; thread_id: string }): PutGuard {
  return {
    name: "holds_thread",
    sql: `EXISTS (SELECT 1 FROM ${db.table("threads")}
                   WHERE id = $1::text AND current_run_id = $2::uuid FOR UPDATE)`,
    values: [run.thread_id, run.id],
  };
}
