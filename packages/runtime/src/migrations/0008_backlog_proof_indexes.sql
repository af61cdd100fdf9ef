-- 0008: a run's transitions cost the same however many runs are queued elsewhere.
--
-- runs_active (0001) and runs_cancelled (0004) were partial indexes on plain status tests.
-- Every transition that finds its run by id and checks its status (settle_run's update,
-- mark_running, record_progress, release_cancelled) implies their predicates, so Postgres may
-- scan the whole partial index with the id as a filter. With statistics taken before a backlog
-- built up (no pending runs then: the index looks empty), that is the plan it picks and keeps
-- for the session: each run's end then read every pending run of every thread (10,000 due
-- resumes in the sweep benchmark: a third of Postgres's time, 1 ms per transition).
--
-- The predicates now say `(…) IS TRUE`, which no plain status test implies: only the queries
-- written for these indexes (reconciliation: sql/runs.ts activeRuns) can use them, and the
-- transitions use their primary keys. runs_queued, on the same terms, gives release_thread the
-- thread's own queued runs in the order it takes them (runs_thread_created read every run the
-- thread ever had). Each index build reads the runs table once while run transitions wait for
-- it (0.26 s for all three over 1,000,000 cached runs here); reads of runs go on meanwhile: the
-- old indexes are dropped (which blocks reads too) only once the new ones stand, just before
-- the migration commits. Never edit once shipped.

CREATE INDEX runs_active_0008 ON runs (updated_at) WHERE (status IN ('pending', 'running')) IS TRUE;
CREATE INDEX runs_cancelled_0008 ON runs (updated_at) WHERE (status = 'cancelled') IS TRUE;
CREATE INDEX runs_queued ON runs (thread_id, created_at, id) WHERE (status = 'pending') IS TRUE;
DROP INDEX runs_active;
ALTER INDEX runs_active_0008 RENAME TO runs_active;
DROP INDEX runs_cancelled;
ALTER INDEX runs_cancelled_0008 RENAME TO runs_cancelled;

-- As in 0005, except that the thread's queued runs are read through runs_queued.
CREATE OR REPLACE FUNCTION release_thread(p_thread text, p_status text, p_head text,
                                          OUT next_run_id uuid, OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  queued record;
BEGIN
  -- Waiting for a person, the thread skips queued starts for its oldest queued resume: a
  -- resume answering the rest of a partial resume's interrupts must not wait behind a start.
  SELECT id, kind, checkpoint_id INTO queued
    FROM runs
   WHERE thread_id = p_thread AND (status = 'pending') IS TRUE AND (p_status <> 'interrupted' OR kind = 'resume')
   ORDER BY created_at, id LIMIT 1;
  IF FOUND THEN
    next_run_id := queued.id;
    next_checkpoint_id := queued.checkpoint_id;
    IF queued.kind = 'start' THEN PERFORM supersede_interrupts(p_thread, queued.id); END IF;
  END IF;
  UPDATE threads
     SET status = CASE WHEN next_run_id IS NULL THEN p_status ELSE 'busy' END,
         current_run_id = next_run_id, head_checkpoint = COALESCE(p_head, head_checkpoint), updated_at = now()
   WHERE id = p_thread;
END $$;
