-- 0013: a thread's lookups of its own interrupts by status read the thread's rows, never every
-- interrupt with that status.
--
-- interrupts_status_created (0001) and interrupts_graph_status (0010) lead with the status:
-- they serve interrupts.list across threads. A thread's lookup (`thread_id = … AND status =
-- 'pending'`: a start superseding what the thread waited for, a park returning its pending
-- interrupts, a wait, a cancel) may be answered from them too, the thread id a later column.
-- When statistics say hardly any interrupt is pending (most were answered), Postgres costs that
-- the same as the thread's own index, and may pick it: it then reads every pending interrupt of
-- every thread, in a plan plpgsql keeps for the session (10,000 pending elsewhere: 117 more
-- pages per start, park, cancel and wait; test/backlog-cost.int.test.ts).
--
-- Both indexes are rebuilt partial on `(created_at IS NOT NULL) IS TRUE`: true of every row, but
-- implied by no test of a thread or a status, so only the queries written for them (which repeat
-- it: sql/interrupts.ts listInterrupts, the scheduler's pending gauge) can use them. The new
-- indexes stand before the old ones go. Never edit once shipped.

CREATE INDEX interrupts_status_created_0013 ON interrupts (status, created_at, thread_id, id)
 WHERE (created_at IS NOT NULL) IS TRUE;
CREATE INDEX interrupts_graph_status_0013 ON interrupts (status, graph_id, created_at, thread_id, id)
 WHERE (created_at IS NOT NULL) IS TRUE;
DROP INDEX interrupts_status_created;
ALTER INDEX interrupts_status_created_0013 RENAME TO interrupts_status_created;
DROP INDEX interrupts_graph_status;
ALTER INDEX interrupts_graph_status_0013 RENAME TO interrupts_graph_status;
