-- 0004: settle_run, as in 0003, except for an interrupt the graph asks again on a re-park.
-- Such a row keeps its created_at and deadline, and its status while a queued resume still
-- carries its answer. Otherwise the graph, which is waiting for it, is the truth: an answer
-- from a run that was cancelled or failed never reached it, and a cancelled wait is asked
-- again, so the interrupt is pending again (at the checkpoint the thread now waits at).
-- Without this, cancelling a running partial resume while another was queued left the thread
-- waiting with nothing pending. Never edit once shipped.

CREATE OR REPLACE FUNCTION settle_run(p_run uuid, p_worker text, p_status text, p_checkpoint text, p_steps integer,
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
  ON CONFLICT ON CONSTRAINT interrupts_pkey DO UPDATE
     SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
         resume_run_id = NULL, idempotency_key = NULL, checkpoint_id = EXCLUDED.checkpoint_id
   WHERE interrupts.status <> 'pending'
     AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.id = interrupts.resume_run_id AND a.status IN ('pending', 'running'));
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(
    settle_run.thread_id,
    CASE p_status WHEN 'interrupted' THEN 'interrupted' WHEN 'success' THEN 'idle' ELSE 'error' END,
    p_checkpoint);
END $$;

-- Reconciliation finds cancelled runs still holding their thread (their worker frees it once
-- their job stops; a lost job is enqueued again): few rows, never a scan of all runs.
CREATE INDEX runs_cancelled ON runs (updated_at) WHERE status = 'cancelled';
