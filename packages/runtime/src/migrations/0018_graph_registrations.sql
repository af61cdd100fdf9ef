-- 0018: which version of a graph producers check against while workers of several versions
-- serve it (a rolling deploy).
--
-- Workers registered a graph by overwriting its row when they started: the last worker to start
-- won. A replica of the old version that (re)started during a rolling deploy put its input
-- schema and node list back, and kept them after the deploy ended, until a worker of the new
-- version started again: producers checked inputs and breakpoint names against a version no
-- worker ran, and their checks flipped with every restart.
--
-- graph_registrations keeps each version workers register, by fingerprint (its input schema and
-- options), with when it was first registered and when a worker last said it serves it (at start,
-- then every few seconds). register_graph makes the graph's row the live version (registered
-- within p_live_ms) first registered most recently: a new version takes over with its first
-- worker, an old one's restarts do not take it back, and once no worker of the newest version
-- is live (a rollback), the one still live takes over. A version registered again after it
-- lapsed counts as new. Registrations lapsed for 30 days are dropped. Never edit once shipped.

CREATE TABLE graph_registrations (
  graph_id      text NOT NULL,
  fingerprint   text NOT NULL,
  input_schema  jsonb NOT NULL,
  options       jsonb NOT NULL,
  first_seen    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (graph_id, fingerprint)
);

-- Records that a worker serves version p_fingerprint of graph p_id, and sets the graph's row to
-- the version producers check against (above). Registrations of one graph take its row's lock,
-- one at a time. current_fingerprint: the version the row holds afterwards.
CREATE FUNCTION register_graph(p_id text, p_fingerprint text, p_input_schema jsonb, p_options jsonb,
                               p_live_ms bigint, OUT current_fingerprint text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  live_since timestamptz := clock_timestamp() - make_interval(secs => p_live_ms / 1000.0);
  chosen record;
BEGIN
  INSERT INTO graphs (id, input_schema, options) VALUES (p_id, p_input_schema, p_options)
  ON CONFLICT (id) DO NOTHING;
  PERFORM 1 FROM graphs WHERE id = p_id FOR UPDATE;
  INSERT INTO graph_registrations AS g (graph_id, fingerprint, input_schema, options, first_seen, last_seen)
  VALUES (p_id, p_fingerprint, p_input_schema, p_options, clock_timestamp(), clock_timestamp())
  ON CONFLICT (graph_id, fingerprint) DO UPDATE
     SET last_seen = clock_timestamp(),
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
