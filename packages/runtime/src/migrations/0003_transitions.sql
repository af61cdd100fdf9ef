-- The transitions of runs and threads as functions: one round trip and one commit each instead
-- of a five-statement transaction, with the thread row locked before anything is read. Each
-- statement in a plpgsql function takes a fresh snapshot (READ COMMITTED), so the queued run a
-- producer committed while we waited for the thread's lock is seen. Never edit once shipped.

-- Hands a thread to its next queued run, or leaves it `p_status` (idle | interrupted | error)
-- with no run holding it. A thread left waiting for a person takes its oldest queued resume,
-- skipping queued starts (they wait until the thread is answered). The caller holds the
-- thread's row lock.
-- Returns the run that now holds the thread and the checkpoint its job advances from.
-- Served by runs_thread_created.
CREATE FUNCTION release_thread(p_thread text, p_status text, p_head text,
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
  END IF;
  UPDATE threads
     SET status = CASE WHEN next_run_id IS NULL THEN p_status ELSE 'busy' END,
         current_run_id = next_run_id, head_checkpoint = COALESCE(p_head, head_checkpoint), updated_at = now()
   WHERE id = p_thread;
END $$;

-- Ends a run a worker holds: p_status 'interrupted' (parked, with p_interrupts recorded and
-- their deadlines set from each one's timeout_ms), 'success' or 'error' (with p_error). Only
-- a run still pending or running moves (a job that ends its run quickly never wrote 'running'):
-- a run cancelled meanwhile stays cancelled and applied is false.
-- An interrupt already recorded (a re-park after a partial resume) keeps its row: its
-- created_at, deadline and status. Then the thread goes to its next queued run (release_thread). Locks thread, then run: the
-- same order as a producer's start, resume and cancel, so they never deadlock.
CREATE FUNCTION settle_run(p_run uuid, p_worker text, p_status text, p_checkpoint text, p_steps integer,
                           p_error jsonb, p_interrupts jsonb,
                           OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                           OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  parked boolean := p_status = 'interrupted';
BEGIN
  applied := false;
  SELECT r.thread_id INTO thread_id FROM runs r WHERE r.id = p_run;
  IF NOT FOUND THEN RETURN; END IF;
  PERFORM 1 FROM threads t WHERE t.id = settle_run.thread_id FOR UPDATE;
  UPDATE runs r
     SET status = p_status, checkpoint_id = COALESCE(p_checkpoint, r.checkpoint_id), steps = r.steps + p_steps,
         prepared = true, last_worker = p_worker, error = p_error,
         started_by = COALESCE(r.started_by, p_worker), started_at = COALESCE(r.started_at, now()),
         parked_by = CASE WHEN parked THEN p_worker ELSE r.parked_by END,
         finished_by = CASE WHEN parked THEN r.finished_by ELSE p_worker END,
         finished_at = CASE WHEN parked THEN r.finished_at ELSE now() END, updated_at = now()
   WHERE r.id = p_run AND r.status IN ('pending', 'running');
  IF NOT FOUND THEN RETURN; END IF;
  applied := true;
  INSERT INTO interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, value, options, deadline)
  SELECT x.thread_id, x.id, x.run_id, x.graph_id, x.task_id, x.node, x.checkpoint_id, x.value, x.options,
         now() + x.timeout_ms * interval '1 millisecond'
    FROM jsonb_to_recordset(p_interrupts) AS x(thread_id text, id text, run_id uuid, graph_id text,
         task_id text, node text, checkpoint_id text, value jsonb, options jsonb, timeout_ms double precision)
  ON CONFLICT DO NOTHING;
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(
    settle_run.thread_id,
    CASE p_status WHEN 'interrupted' THEN 'interrupted' WHEN 'success' THEN 'idle' ELSE 'error' END,
    p_checkpoint);
END $$;

-- A producer's start: records run p_run on thread p_thread (created when new) in one round
-- trip. The run takes the thread when it is idle or failed; on a busy or waiting thread it
-- queues behind the current run when p_enqueue, else nothing is written. A retried call with
-- the same idempotency key returns the first call's run.
-- outcome: started | queued | existing | busy | wrong_graph (the thread runs another graph);
-- thread_status and thread_graph say why for the last two.
CREATE FUNCTION start_run(p_thread text, p_graph text, p_run uuid, p_input jsonb, p_key text, p_enqueue boolean,
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
  UPDATE threads SET status = 'busy', current_run_id = p_run, updated_at = now() WHERE id = p_thread;
  outcome := 'started';
END $$;

-- The one way interrupts are answered (a person's resume; the sweep has its own batch form):
-- under the thread's row lock, every interrupt in p_values ({ id: value }) goes pending →
-- p_status in one update, and resume run p_run is recorded, starting now if the thread is
-- parked or queued behind its current run. Of two racing resumes exactly one wins.
-- outcome: started | queued | existing (p_key already used on this thread; run_id is that run)
-- | no_thread | lost (lost_id was no longer pending: nothing was written).
CREATE FUNCTION resume_thread(p_thread text, p_run uuid, p_values jsonb, p_checkpoint text, p_status text,
                              p_resolved_by text, p_key text, p_input jsonb,
                              OUT outcome text, OUT run_id uuid, OUT lost_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  thread_status text;
  thread_graph text;
BEGIN
  SELECT t.status, t.graph_id INTO thread_status, thread_graph FROM threads t WHERE t.id = p_thread FOR UPDATE;
  IF NOT FOUND THEN outcome := 'no_thread'; RETURN; END IF;
  IF p_key IS NOT NULL THEN
    SELECT r.id INTO run_id FROM runs r WHERE r.thread_id = p_thread AND r.idempotency_key = p_key;
    IF FOUND THEN outcome := 'existing'; RETURN; END IF;
  END IF;
  SELECT v.key INTO lost_id FROM jsonb_each(p_values) v
   WHERE NOT EXISTS (SELECT 1 FROM interrupts i WHERE i.thread_id = p_thread AND i.id = v.key AND i.status = 'pending')
   LIMIT 1;
  IF FOUND THEN outcome := 'lost'; RETURN; END IF;
  UPDATE interrupts i
     SET status = p_status, resolved_by = p_resolved_by, resolved_at = now(), resume_value = v.value,
         resume_run_id = p_run, idempotency_key = p_key
    FROM jsonb_each(p_values) v
   WHERE i.thread_id = p_thread AND i.id = v.key;
  INSERT INTO runs (id, thread_id, graph_id, kind, input, idempotency_key, checkpoint_id)
  VALUES (p_run, p_thread, thread_graph, 'resume', p_input, p_key, p_checkpoint);
  run_id := p_run;
  -- A thread busy with another run (a partial resume still going) runs this one after it.
  IF thread_status = 'busy' THEN outcome := 'queued'; RETURN; END IF;
  UPDATE threads SET status = 'busy', current_run_id = p_run, updated_at = now() WHERE id = p_thread;
  outcome := 'started';
END $$;
