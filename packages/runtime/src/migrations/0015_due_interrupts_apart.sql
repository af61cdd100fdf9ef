-- 0015: the timeout sweep's expire probes the threads it claimed, never every due interrupt.
--
-- interrupts_pending_deadline (0001) is partial on `status = 'pending' AND deadline IS NOT
-- NULL`. The sweep claims threads through it (oldest deadline first), then expires the claimed
-- threads' due interrupts: `thread_id = ANY(claimed) AND status = 'pending' AND deadline <=
-- now()`, which implies that plain predicate, so Postgres may walk the index from the oldest
-- deadline with the claimed threads as a filter: every due interrupt of every thread, on every
-- batch. Statistics taken before anything fell due make that plan look cheapest, and interrupts
-- fall due as time passes with no ANALYZE after (a scheduler outage, a burst of parks with one
-- timeout): a sweep of N due read N² / (2 × batch) rows. One batch of 100 read 4,575 pages with
-- 20,000 interrupts still waiting and 24,296 once they were due (test/sweep-backlog-cost).
--
-- The index is rebuilt partial on `(…) IS TRUE`, as 0008 did for runs: only the claiming query,
-- which repeats it (sql/expire-due-interrupts.ts dueInterruptsQuery), can use it; the expire
-- probes each claimed thread. This migration builds it; 0016 drops the old one, in a transaction
-- of its own (see 0013). A previous release's scheduler claims through no index once 0016 has
-- run (a seq scan per sweep); upgrade schedulers promptly. Never edit once shipped.

CREATE INDEX interrupts_pending_deadline_0015 ON interrupts (deadline)
 WHERE (status = 'pending' AND deadline IS NOT NULL) IS TRUE;
