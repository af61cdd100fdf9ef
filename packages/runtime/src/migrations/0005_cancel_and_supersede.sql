-- 0005: cancelling as functions, like the other transitions (0003): one round trip and one
-- commit, with the thread's row lock held inside it rather than across a client's statements.
-- A start that takes a thread supersedes the interrupts still pending on it, and a resume the
-- engine refuses gives its answers back (below).
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

-- A start that takes a thread supersedes what the thread still waited for: the graph plans
-- afresh from the start's input (as LangGraph drops a checkpoint's interrupted tasks on new
-- input), so interrupts left pending (a thread freed by a cancel, or failed after a partial
-- resume) are cancelled, resolved by the run. Else a later resume would meet them (an
-- ambiguous answer) and the sweep would answer questions nobody asks any more. The caller
-- holds the thread's row lock.
CREATE FUNCTION supersede_interrupts(p_thread text, p_run uuid)
RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
  UPDATE interrupts SET status = 'cancelled', resolved_by = 'superseded by run ' || p_run, resolved_at = now()
   WHERE thread_id = p_thread AND status = 'pending';
$$;

-- As in 0003, except that a queued start taking the thread supersedes its pending interrupts.
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
   WHERE thread_id = p_thread AND status = 'pending' AND (p_status <> 'interrupted' OR kind = 'resume')
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

-- As in 0003, except that a start taking an idle or failed thread supersedes its pending interrupts.
CREATE OR REPLACE FUNCTION start_run(p_thread text, p_graph text, p_run uuid, p_input jsonb, p_key text,
                                     p_enqueue boolean,
                                     OUT outcome text, OUT run_id uuid, OUT thread_status text, OUT thread_graph text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  free boolean;
BEGIN
  INSERT INTO threads (id, graph_id) VALUES (p_thread, p_graph) ON CONFLICT (id) DO NOTHING;
  SELECT t.status, t.graph_id INTO thread_status, thread_graph FROM threads t WHERE t.id = p_thread FOR UPDATE;
  IF p_key IS NOT NULL THEN
    SELECT r.id INTO run_id FROM runs r WHERE r.thread_id = p_thread AND r.idempotency_key = p_key;
    IF FOUND THEN outcome := 'existing'; RETURN; END IF;
  END IF;
  IF thread_graph <> p_graph THEN outcome := 'wrong_graph'; RETURN; END IF;
  free := thread_status IN ('idle', 'error');
  IF NOT free AND NOT p_enqueue THEN outcome := 'busy'; RETURN; END IF;
  INSERT INTO runs (id, thread_id, graph_id, kind, input, idempotency_key)
  VALUES (p_run, p_thread, p_graph, 'start', p_input, p_key);
  run_id := p_run;
  IF NOT free THEN outcome := 'queued'; RETURN; END IF;
  PERFORM supersede_interrupts(p_thread, p_run);
  UPDATE threads SET status = 'busy', current_run_id = p_run, updated_at = now() WHERE id = p_thread;
  outcome := 'started';
END $$;

-- Ends resume run p_run that its worker's engine refused before recording it (an answer or an
-- update only the graph's own schema rejects): the run fails with p_error, and the answers it
-- carried never reached the graph, so the interrupts a person resolved with it are pending
-- again and the thread waits for them (release_thread). Answers of the timeout sweep stay
-- expired: the sweep would only send the same value again. applied is false when the run had
-- moved on (cancelled): nothing changed.
CREATE FUNCTION refuse_resume(p_run uuid, p_worker text, p_error jsonb,
                              OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                              OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  applied := false;
  SELECT r.thread_id INTO thread_id FROM runs r WHERE r.id = p_run;
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
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(
    refuse_resume.thread_id,
    CASE WHEN EXISTS (SELECT 1 FROM interrupts i WHERE i.thread_id = refuse_resume.thread_id AND i.status = 'pending')
         THEN 'interrupted' ELSE 'error' END,
    NULL);
END $$;
