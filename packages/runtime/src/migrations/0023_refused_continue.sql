-- 0023: a continue past a static breakpoint that the graph refuses (an update or an asNode its
-- version does not take; its input holds "continue" or "asNode") leaves its thread at the breakpoint, interrupted, as a refused resume
-- leaves its thread waiting for the answers it carried: the head never moved, so a corrected
-- continue can go on from it. refuse_resume (0005) set such a thread to error, where no
-- continue reaches it (NotInterruptedError). Everything else as in 0005. Never edit once shipped.
CREATE OR REPLACE FUNCTION refuse_resume(p_run uuid, p_worker text, p_error jsonb,
                                         OUT applied boolean, OUT thread_id text, OUT next_run_id uuid,
                                         OUT next_checkpoint_id text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  continued boolean;
BEGIN
  applied := false;
  SELECT r.thread_id, r.input ? 'continue' OR r.input ? 'asNode' INTO thread_id, continued FROM runs r WHERE r.id = p_run;
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
    CASE WHEN continued
           OR EXISTS (SELECT 1 FROM interrupts i WHERE i.thread_id = refuse_resume.thread_id AND i.status = 'pending')
         THEN 'interrupted' ELSE 'error' END,
    NULL);
END $$;
