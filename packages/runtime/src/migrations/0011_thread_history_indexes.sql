-- 0011: what a thread's own past costs its transitions: the same for a thread parked and
-- resumed 5,000 times as for one resumed 10 times (a review measured 12 -> 1,753 pages for the
-- first, 64 -> 1,801 for the second, with the thread's rows among other threads' as a busy
-- deployment writes them).
--
-- * A job of a resume without a context of its own (the timeout sweep's, an operator's, a
--   continue) reads the context of the thread's latest start: it stepped back through every
--   resume since. runs_thread_starts holds the starts alone (sql/runs.ts jobRunsSql).
-- * runs.cancel of a parked run checks that it is the thread's latest interrupted run: it
--   sorted every run the thread ever parked. runs_thread_parked holds the interrupted runs in
--   that order. A parked run stays interrupted once answered, so this index grows with the
--   history, but each lookup is one probe.
--
-- The predicates say `(…) IS TRUE`, as in 0008: only the queries written for them use them.
-- Never edit once shipped.

CREATE INDEX runs_thread_starts ON runs (thread_id, created_at, id) WHERE (kind = 'start') IS TRUE;
CREATE INDEX runs_thread_parked ON runs (thread_id, updated_at, id) WHERE (status = 'interrupted') IS TRUE;

-- As in 0005, except that the thread's latest interrupted run is read through runs_thread_parked.
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
  UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = p_run;
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
