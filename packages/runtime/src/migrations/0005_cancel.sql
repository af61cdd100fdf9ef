-- 0005: cancelling as functions, like the other transitions (0003): one round trip and one
-- commit, with the thread's row lock held inside it rather than across a client's statements.
-- Never edit once shipped.

-- Cancels run p_run unless it has finished. Locks the thread, then reads the run.
--  * parked: only if it is what the thread waits on (the thread is interrupted and no run parked
--    it since: the interrupted run updated last). Its pending interrupts are cancelled
--    (resolved_by p_by) and the thread goes to its next queued run (release_thread), else idle.
--  * holding the thread (maybe mid-superstep): marked cancelled only; its worker hands the
--    thread on once its job stops (release_cancelled).
--  * a resume queued behind the thread's current run: no job has it, so its answers are
--    withdrawn: the interrupts it answered are pending again.
-- outcome: 'missing' (no such run), 'unchanged' (finished, or parked and already answered) or
-- 'cancelled'; status: the run's status after the call; next_*: the job to enqueue.
CREATE FUNCTION cancel_run(p_run uuid, p_by text,
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
       WHERE runs.thread_id = cancel_run.thread_id AND runs.status = 'interrupted'
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

-- Hands on the thread a cancelled run still holds, once the job of its current step
-- (p_checkpoint) has stopped. A run not cancelled, another step's job, or a run no longer
-- holding its thread changes nothing. Returns the job to enqueue for the thread's next run.
CREATE FUNCTION release_cancelled(p_run uuid, p_checkpoint text,
                                  OUT thread_id text, OUT next_run_id uuid, OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  SELECT runs.thread_id INTO thread_id FROM runs
   WHERE id = p_run AND status = 'cancelled' AND checkpoint_id IS NOT DISTINCT FROM p_checkpoint;
  IF NOT FOUND THEN RETURN; END IF;
  PERFORM 1 FROM threads WHERE id = release_cancelled.thread_id AND current_run_id = p_run FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(release_cancelled.thread_id, 'idle', NULL);
END $$;
