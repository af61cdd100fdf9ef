-- 0012: reconciliation reads the cancelled runs that still hold their thread, not every run
-- ever cancelled.
--
-- A cancelled run needs a job only while it holds its thread (it was running, or pending at
-- the thread's head, when cancelled): that job hands the thread on (release_cancelled). Every
-- 15 s, reconciliation looked for them through runs_cancelled (0008), which holds every run
-- ever cancelled: a review measured 36 pages become 698 with 20,000 cancelled runs, and
-- 250 ms a call at 80,000; it grows for as long as the deployment lives.
--
-- runs.released_at says when a cancelled run stopped holding its thread: at its cancel when it
-- held none (queued, or parked: the cancel hands the thread on itself), else when its job
-- handed the thread on. runs_holding_cancelled holds only the cancelled runs not yet released,
-- so reconciliation's read costs the same however many runs were cancelled before. Runs
-- cancelled under earlier migrations that no thread names as its current run are marked
-- released here: one pass over runs_cancelled, then it is dropped. A cancelled run that an
-- older release leaves unmarked meanwhile (a rolling upgrade) costs reconciliation a row, not
-- a job: the read still checks that the run holds its thread. Never edit once shipped.

ALTER TABLE runs ADD COLUMN released_at timestamptz;

UPDATE runs r SET released_at = r.updated_at
 WHERE (r.status = 'cancelled') IS TRUE
   AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.id = r.thread_id AND t.current_run_id = r.id);

CREATE INDEX runs_holding_cancelled ON runs (updated_at)
 WHERE (status = 'cancelled' AND released_at IS NULL) IS TRUE;
DROP INDEX runs_cancelled;

-- As in 0011, except that a cancel leaving the thread to another run (or to none) marks the
-- run released.
CREATE OR REPLACE FUNCTION cancel_run(p_run uuid, p_by text,
                           OUT outcome text, OUT status text, OUT thread_id text,
                           OUT next_run_id uuid, OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  r record;
  t record;
BEGIN
  SELECT runs.thread_id INTO thread_id FROM runs WHERE id = p_run;
  IF NOT FOUND THEN outcome := 'missing'; RETURN; END IF;
  SELECT threads.status, threads.current_run_id INTO t FROM threads WHERE id = cancel_run.thread_id FOR UPDATE;
  SELECT runs.status, runs.kind INTO r FROM runs WHERE id = p_run;
  status := r.status;
  outcome := 'unchanged';
  IF r.status IN ('success', 'error', 'cancelled') THEN RETURN; END IF;
  IF r.status = 'interrupted' THEN
    IF t.status IS DISTINCT FROM 'interrupted' OR (
      SELECT id FROM runs
       WHERE runs.thread_id = cancel_run.thread_id AND (runs.status = 'interrupted') IS TRUE
       ORDER BY updated_at DESC, id DESC LIMIT 1) IS DISTINCT FROM p_run THEN
      RETURN;
    END IF;
  END IF;
  UPDATE runs
     SET status = 'cancelled', finished_at = now(), updated_at = now(),
         released_at = CASE WHEN r.status <> 'interrupted' AND t.current_run_id IS NOT DISTINCT FROM p_run
                            THEN NULL ELSE now() END
   WHERE id = p_run;
  outcome := 'cancelled';
  status := 'cancelled';
  IF r.status = 'interrupted' THEN
    UPDATE interrupts SET status = 'cancelled', resolved_by = p_by, resolved_at = now()
     WHERE interrupts.thread_id = cancel_run.thread_id AND interrupts.status = 'pending';
    SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(cancel_run.thread_id, 'idle', NULL);
  ELSIF t.current_run_id IS DISTINCT FROM p_run AND r.kind = 'resume' THEN
    UPDATE interrupts
       SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
           resume_run_id = NULL, idempotency_key = NULL
     WHERE interrupts.thread_id = cancel_run.thread_id AND resume_run_id = p_run
       AND interrupts.status IN ('resolved', 'expired');
  END IF;
END $$;

-- As in 0005, except that the run is marked released once it no longer holds its thread: when
-- it hands the thread on, or finds the thread already with another run (a run an older release
-- cancelled during the upgrade).
CREATE OR REPLACE FUNCTION release_cancelled(p_run uuid, p_checkpoint text,
                                             OUT thread_id text, OUT next_run_id uuid, OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  SELECT runs.thread_id INTO thread_id FROM runs
   WHERE id = p_run AND status = 'cancelled' AND released_at IS NULL
     AND checkpoint_id IS NOT DISTINCT FROM p_checkpoint;
  IF NOT FOUND THEN RETURN; END IF;
  PERFORM 1 FROM threads WHERE id = release_cancelled.thread_id AND current_run_id = p_run FOR UPDATE;
  IF FOUND THEN
    SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(release_cancelled.thread_id, 'idle', NULL);
  END IF;
  UPDATE runs SET released_at = now() WHERE id = p_run;
END $$;
