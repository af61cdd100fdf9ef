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
-- it: sql/interrupts.ts listInterrupts, the scheduler's pending gauge) can use them. This
-- migration builds them; 0014 drops the old ones, in a transaction of its own: a build holds a
-- SHARE lock on interrupts (writes wait, about 2 s per million rows), and a DROP in the same
-- transaction would then want ACCESS EXCLUSIVE, deadlocking with a sweep batch that read the
-- table before the build and writes after it. Alone, the drop waits for such a batch to end.
-- Until 0014 commits, both sets exist. A previous release still running reads the lists
-- through no index once 0014 has run (a seq scan each); upgrade its schedulers promptly.
-- Never edit once shipped.

CREATE INDEX interrupts_status_created_0013 ON interrupts (status, created_at, thread_id, id)
 WHERE (created_at IS NOT NULL) IS TRUE;
CREATE INDEX interrupts_graph_status_0013 ON interrupts (status, graph_id, created_at, thread_id, id)
 WHERE (created_at IS NOT NULL) IS TRUE;
