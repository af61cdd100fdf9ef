-- 0007: supersede_interrupts (0005) as plpgsql. A LANGUAGE sql function that cannot be inlined
-- (it has a SET clause and updates) is planned afresh on every call; plpgsql keeps its plan for
-- the session. Every start that takes a thread calls it: this saves about 0.25 ms of Postgres
-- time per start (pgbench of start_run, 2026-12-03: 1.08-1.18 ms → 0.80-0.95 ms). Same effect.
-- Never edit once shipped.
CREATE OR REPLACE FUNCTION supersede_interrupts(p_thread text, p_run uuid)
RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE interrupts SET status = 'cancelled', resolved_by = 'superseded by run ' || p_run, resolved_at = now()
   WHERE thread_id = p_thread AND status = 'pending';
END $$;
