-- 0019: how long a registration stays live, kept with it, so that operators (layover-admin
-- graphs, the client's graphs.list, the scheduler's layover_runs_unserved) can tell a graph no
-- live worker serves: runs of it wait in the queue and nothing says why.
--
-- register_graph (0018) already takes the window (p_live_ms: three of the worker's heartbeats);
-- it is now stored with the registration. A registration stored before this migration has none
-- until its worker registers again; readers take three default heartbeats (90 s) meanwhile.
-- Same signature and body as 0018's, plus live_ms. Never edit once shipped.

ALTER TABLE graph_registrations ADD COLUMN live_ms bigint;

CREATE OR REPLACE FUNCTION register_graph(p_id text, p_fingerprint text, p_input_schema jsonb, p_options jsonb,
                                          p_live_ms bigint, OUT current_fingerprint text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  live_since timestamptz := clock_timestamp() - make_interval(secs => p_live_ms / 1000.0);
  chosen record;
BEGIN
  INSERT INTO graphs (id, input_schema, options) VALUES (p_id, p_input_schema, p_options)
  ON CONFLICT (id) DO NOTHING;
  PERFORM 1 FROM graphs WHERE id = p_id FOR UPDATE;
  INSERT INTO graph_registrations AS g (graph_id, fingerprint, input_schema, options, first_seen, last_seen, live_ms)
  VALUES (p_id, p_fingerprint, p_input_schema, p_options, clock_timestamp(), clock_timestamp(), p_live_ms)
  ON CONFLICT (graph_id, fingerprint) DO UPDATE
     SET last_seen = clock_timestamp(),
         live_ms = p_live_ms,
         first_seen = CASE WHEN g.last_seen < live_since THEN clock_timestamp() ELSE g.first_seen END;
  DELETE FROM graph_registrations
   WHERE graph_id = p_id AND last_seen < clock_timestamp() - interval '30 days';
  SELECT fingerprint, input_schema, options INTO chosen FROM graph_registrations
   WHERE graph_id = p_id AND last_seen >= live_since
   ORDER BY first_seen DESC, fingerprint DESC LIMIT 1;
  current_fingerprint := chosen.fingerprint;
  UPDATE graphs SET input_schema = chosen.input_schema, options = chosen.options, updated_at = now()
   WHERE id = p_id
     AND (input_schema IS DISTINCT FROM chosen.input_schema OR options IS DISTINCT FROM chosen.options);
END $$;
