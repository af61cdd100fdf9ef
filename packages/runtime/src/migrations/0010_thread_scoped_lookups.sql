-- 0010: what other threads' interrupts and crons cost a thread's own calls (a review measured
-- each with statistics taken before a backlog, as test/backlog-cost.int.test.ts does for runs).
--
-- resume_thread (as in 0003) checked that each answered interrupt was pending with a NOT EXISTS
-- that Postgres may answer by walking interrupts_status_created on `status = 'pending'`, where
-- thread_id is the third column: every pending interrupt of every thread, under the thread's
-- lock (40 pages became 248 with 20,000 pending elsewhere). It now looks each answer up by the
-- primary key.
--
-- interrupts_thread_status gains (created_at, id), so a thread's interrupts come in the order
-- interrupts.list gives without reading other threads' (4 pages became 528). A new index serves
-- interrupts.list by graph, which no index did (5 pages became 885 to 10,525), and another the
-- check threads.delete makes for a cron on the thread (a scan of every cron). The old index is
-- dropped once the new one stands. Never edit once shipped.

CREATE INDEX interrupts_thread_status_0010 ON interrupts (thread_id, status, created_at, id);
DROP INDEX interrupts_thread_status;
ALTER INDEX interrupts_thread_status_0010 RENAME TO interrupts_thread_status;

CREATE INDEX interrupts_graph_status ON interrupts (status, graph_id, created_at, thread_id, id);

CREATE INDEX crons_thread ON crons (thread_id) WHERE thread_id IS NOT NULL;

-- As in 0003, except that each answer's interrupt is found by its primary key.
CREATE OR REPLACE FUNCTION resume_thread(p_thread text, p_run uuid, p_values jsonb, p_checkpoint text, p_status text,
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
  -- Each answer's interrupt by its primary key (OFFSET 0 keeps the lookup apart from the status test).
  SELECT v.key INTO lost_id FROM jsonb_each(p_values) v
    LEFT JOIN LATERAL (SELECT i.status FROM interrupts i WHERE i.thread_id = p_thread AND i.id = v.key OFFSET 0) i ON true
   WHERE i.status IS DISTINCT FROM 'pending'
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
