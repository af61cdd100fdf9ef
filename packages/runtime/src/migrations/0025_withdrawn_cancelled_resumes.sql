-- 0025: a cancelled resume that never used its answers gives them back when its job stops.
--
-- A resume of a parked thread holds the thread from the moment it is recorded (resume_thread),
-- so cancel_run took it for a running run: it left its answers resolved and the job's
-- release_cancelled freed the thread as idle. A resume cancelled before a worker took its job
-- (workers busy or down) had answered the questions for good and applied nothing: threads.get
-- still showed the node next, and a new answer was refused as already given. The README says a
-- queued resume's answers are withdrawn and its interrupts wait again.
--
-- Only the job knows when it has stopped, so the answers come back in release_cancelled, after
-- the job stopped and flushed what it made (or reconciliation found it lost), under the
-- thread's lock, which every commit of the run's job takes too. They come back only if nothing
-- used them: the run was still pending when cancelled (runs.cancelled_while: a job busy past
-- MARK_RUNNING_AFTER_MS has marked it running, and may hold the answers unsaved while a job
-- Redis lost is released by another delivery), no checkpoint of the thread carries the run's id
-- (a superstep it committed, in the graph or a subgraph that was given the node's config), and
-- none of its answers is stored as a pending write (a job that prepared them and failed, parked
-- or was cancelled mid-superstep keeps them there). Then the interrupts are pending again, as
-- before the resume, and the thread is interrupted again (release_thread: a queued resume of it
-- goes next). Otherwise the run released the thread as before: answers a job stored (a pending
-- write) stay with the checkpoint, and threads.continue runs the node with them; those of a run
-- cancelled while running whose job died before storing them are used by no one, and continue
-- runs the node again, which asks anew. A job that took the run less than
-- MARK_RUNNING_AFTER_MS before the cancel, whose delivery Redis then lost while its node still
-- ran, is the one case left. Never edit once shipped.

ALTER TABLE runs ADD COLUMN cancelled_while text;

-- As in 0012, except that it records the status the run was cancelled in.
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
     SET status = 'cancelled', finished_at = now(), updated_at = now(), cancelled_while = r.status,
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



CREATE OR REPLACE FUNCTION release_cancelled(p_run uuid, p_checkpoint text,
                                             OUT thread_id text, OUT next_run_id uuid, OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  cancelled_while text;
  answered text[];
  withdrawn boolean := false;
BEGIN
  SELECT runs.thread_id, runs.cancelled_while INTO thread_id, cancelled_while FROM runs
   WHERE id = p_run AND status = 'cancelled' AND released_at IS NULL
     AND checkpoint_id IS NOT DISTINCT FROM p_checkpoint;
  IF NOT FOUND THEN RETURN; END IF;
  PERFORM 1 FROM threads WHERE id = release_cancelled.thread_id AND current_run_id = p_run FOR UPDATE;
  IF FOUND THEN
    IF cancelled_while = 'pending' THEN
      SELECT array_agg(i.id) INTO answered FROM interrupts i
       WHERE i.thread_id = release_cancelled.thread_id AND i.resume_run_id = p_run
         AND i.status IN ('resolved', 'expired');
    END IF;
    -- Nested: the checkpoint tables are read (and planned) only for a resume that answered.
    IF answered IS NOT NULL THEN
      IF NOT EXISTS (
           SELECT 1 FROM checkpoint_heads k JOIN checkpoints c ON c.key_id = k.key_id
            WHERE k.thread_id = release_cancelled.thread_id AND c.metadata_filter->>'run_id' = p_run::text)
         AND NOT EXISTS (
           SELECT 1 FROM checkpoint_heads k JOIN checkpoint_writes w ON w.key_id = k.key_id
            WHERE k.thread_id = release_cancelled.thread_id AND w.channel = '__resume__'
              AND w.task_id = ANY (answered)) THEN
        UPDATE interrupts
           SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
               resume_run_id = NULL, idempotency_key = NULL
         WHERE interrupts.thread_id = release_cancelled.thread_id AND id = ANY (answered);
        withdrawn := true;
      END IF;
    END IF;
    SELECT * INTO next_run_id, next_checkpoint_id
      FROM release_thread(release_cancelled.thread_id, CASE WHEN withdrawn THEN 'interrupted' ELSE 'idle' END, NULL);
  END IF;
  UPDATE runs SET released_at = now() WHERE id = p_run;
END $$;
