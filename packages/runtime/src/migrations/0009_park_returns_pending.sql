-- 0009: park_run, settle_run for a run that parks, also returning the thread's pending
-- interrupts as they stand once it parked (oldest first: the rows a producer's wait reads).
-- The worker announces them with the park, so a wait that hears it has its answer without
-- reading Postgres. settle_run is as in 0004. Never edit once shipped.
CREATE FUNCTION park_run(p_run uuid, p_worker text, p_checkpoint text, p_steps integer, p_interrupts jsonb,
                         OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                         OUT next_checkpoint_id text, OUT pending json)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  SELECT s.applied, s.thread_id, s.next_run_id, s.next_checkpoint_id
    INTO applied, thread_id, next_run_id, next_checkpoint_id
    FROM settle_run(p_run, p_worker, 'interrupted', p_checkpoint, p_steps, NULL, p_interrupts) s;
  IF NOT applied THEN RETURN; END IF;
  SELECT coalesce(json_agg(i ORDER BY i.created_at, i.id), '[]'::json) INTO pending
    FROM interrupts i WHERE i.thread_id = park_run.thread_id AND i.status = 'pending';
END $$;
