-- 0017: a thread's pending interrupts come in the order its graph asked them, as the engine
-- gives them (invoke's __interrupt__, getState's tasks: task order, a subgraph's questions in
-- its own task order), instead of by id. The interrupts of one park share created_at, so id
-- decided: three Send branches asking about documents a, b and c showed as c, a, b.
--
-- A park records every question the thread still waits for, in the engine's order (the
-- worker's list holds those asked again beside the new ones). settle_run numbers them
-- (asked_order, from 1) and renumbers a row asked again; park_run, threads.get and a wait's
-- read order pending interrupts by it, then as before (rows parked before this migration have
-- none); a settle with no interrupts (a finish, a failure) skips both statements. settle_run is
-- as in 0004 and park_run as in 0009 otherwise. interrupts.list still
-- pages through every thread oldest first. Never edit once shipped.

ALTER TABLE interrupts ADD COLUMN asked_order integer;

CREATE OR REPLACE FUNCTION settle_run(p_run uuid, p_worker text, p_status text, p_checkpoint text, p_steps integer,
                           p_error jsonb, p_interrupts jsonb,
                           OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                           OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  parked boolean := p_status = 'interrupted';
  written bigint;
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
  -- A finish or failure has no interrupts: it skips both statements (executor start-up is most
  -- of their cost).
  IF jsonb_array_length(p_interrupts) > 0 THEN
    INSERT INTO interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, value, options, deadline,
                            asked_order)
    SELECT x.thread_id, x.id, x.run_id, x.graph_id, x.task_id, x.node, x.checkpoint_id, x.value, x.options,
           now() + x.timeout_ms * interval '1 millisecond', e.n
      FROM jsonb_array_elements(p_interrupts) WITH ORDINALITY AS e(item, n)
     CROSS JOIN LATERAL jsonb_to_record(e.item) AS x(thread_id text, id text, run_id uuid, graph_id text,
           task_id text, node text, checkpoint_id text, value jsonb, options jsonb, timeout_ms double precision)
    ON CONFLICT ON CONSTRAINT interrupts_pkey DO UPDATE
       SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
           resume_run_id = NULL, idempotency_key = NULL, checkpoint_id = EXCLUDED.checkpoint_id,
           asked_order = EXCLUDED.asked_order
     WHERE interrupts.status <> 'pending'
       AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.id = interrupts.resume_run_id AND a.status IN ('pending', 'running'));
    GET DIAGNOSTICS written = ROW_COUNT;
    -- A question asked again while still pending (a row the insert left alone) takes its place
    -- in this park; a park of new questions only has none, and skips the statement.
    IF written < jsonb_array_length(p_interrupts) THEN
      UPDATE interrupts i SET asked_order = e.n
        FROM jsonb_array_elements(p_interrupts) WITH ORDINALITY AS e(item, n)
       WHERE i.thread_id = settle_run.thread_id AND i.id = e.item->>'id' AND i.asked_order IS DISTINCT FROM e.n;
    END IF;
  END IF;
  SELECT * INTO next_run_id, next_checkpoint_id FROM release_thread(
    settle_run.thread_id,
    CASE p_status WHEN 'interrupted' THEN 'interrupted' WHEN 'success' THEN 'idle' ELSE 'error' END,
    p_checkpoint);
END $$;

CREATE OR REPLACE FUNCTION park_run(p_run uuid, p_worker text, p_checkpoint text, p_steps integer, p_interrupts jsonb,
                         OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                         OUT next_checkpoint_id text, OUT pending json)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  SELECT s.applied, s.thread_id, s.next_run_id, s.next_checkpoint_id
    INTO applied, thread_id, next_run_id, next_checkpoint_id
    FROM settle_run(p_run, p_worker, 'interrupted', p_checkpoint, p_steps, NULL, p_interrupts) s;
  IF NOT applied THEN RETURN; END IF;
  SELECT coalesce(json_agg(i ORDER BY i.asked_order, i.created_at, i.id), '[]'::json) INTO pending
    FROM interrupts i WHERE i.thread_id = park_run.thread_id AND i.status = 'pending';
END $$;
