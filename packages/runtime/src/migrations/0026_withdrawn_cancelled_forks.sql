-- 0026: a fork cancelled before a worker took it gives back the questions it superseded.
--
-- threads.continue(threadId, { checkpointId }) goes on from an older checkpoint: the questions
-- the thread waited for belong to the branch it leaves, so the client cancels them, resolved by
-- 'superseded by run <the fork's run>' (supersede_interrupts, 0005/0007), as a start does. A
-- fork cancelled while still pending (workers busy or down) left them cancelled and the thread
-- idle: the question was out of every inbox, no deadline ran on it, and an answer was refused.
-- As for a cancelled resume's answers (0025), they come back when the run's job stops, and only
-- if nothing used them: the run was still pending when cancelled and no checkpoint of the thread
-- carries its id (the fork's first commit moves the thread's head, leaving them behind for
-- good). The thread is interrupted again. A start's superseded questions (it takes an idle or
-- failed thread) come back the same way when it is cancelled before running. Everything else as
-- in 0025.
--
-- A fork its worker refuses (an update only the graph's own schema rejects) committed nothing
-- either: refuse_resume gives its superseded questions back too, and the thread waits for them
-- (interrupted). Everything else as in 0023. Never edit once shipped.

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
       WHERE i.thread_id = release_cancelled.thread_id
         AND ((i.resume_run_id = p_run AND i.status IN ('resolved', 'expired'))
              OR (i.status = 'cancelled' AND i.resolved_by = 'superseded by run ' || p_run));
    END IF;
    -- Nested: the checkpoint tables are read (and planned) only for a run that answered or superseded.
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

-- As in 0023, except that a refused fork gives back the questions it superseded.
CREATE OR REPLACE FUNCTION refuse_resume(p_run uuid, p_worker text, p_error jsonb,
                                         OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                                         OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  continued boolean;
  forked boolean;
BEGIN
  applied := false;
  SELECT r.thread_id, r.input ? 'continue' OR r.input ? 'asNode', r.input ? 'fork'
    INTO thread_id, continued, forked FROM runs r WHERE r.id = p_run;
  IF NOT FOUND THEN RETURN; END IF;
  PERFORM 1 FROM threads t WHERE t.id = refuse_resume.thread_id FOR UPDATE;
  UPDATE runs r
     SET status = 'error', error = p_error, last_worker = p_worker, finished_by = p_worker, finished_at = now(),
         started_by = COALESCE(r.started_by, p_worker), started_at = COALESCE(r.started_at, now()), updated_at = now()
   WHERE r.id = p_run AND r.kind = 'resume' AND r.status IN ('pending', 'running');
  IF NOT FOUND THEN RETURN; END IF;
  applied := true;
  UPDATE interrupts i
     SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
         resume_run_id = NULL, idempotency_key = NULL
   WHERE i.thread_id = refuse_resume.thread_id AND i.resume_run_id = p_run AND i.status = 'resolved';
  -- A refused fork committed nothing: the questions it superseded are the thread's again.
  IF forked AND NOT EXISTS (
       SELECT 1 FROM checkpoint_heads k JOIN checkpoints c ON c.key_id = k.key_id
        WHERE k.thread_id = refuse_resume.thread_id AND c.metadata_filter->>'run_id' = p_run::text) THEN
    UPDATE interrupts i
       SET status = 'pending', resolved_by = NULL, resolved_at = NULL
     WHERE i.thread_id = refuse_resume.thread_id AND i.status = 'cancelled'
       AND i.resolved_by = 'superseded by run ' || p_run;
  END IF;
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(
    refuse_resume.thread_id,
    CASE WHEN continued
           OR EXISTS (SELECT 1 FROM interrupts i WHERE i.thread_id = refuse_resume.thread_id AND i.status = 'pending')
         THEN 'interrupted' ELSE 'error' END,
    NULL);
END $$;
