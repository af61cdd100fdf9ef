-- Cron runs: a graph started on a schedule. BullMQ job schedulers (one per cron, id "cron.<id>")
-- fire the ticks; this table is the truth the scheduler re-creates them from.
CREATE TABLE crons (
  id          uuid PRIMARY KEY,
  graph_id    text NOT NULL,
  schedule    text NOT NULL,
  timezone    text,
  input       jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Every tick runs on this thread (queued behind a run still going); null: a new thread per tick.
  thread_id   text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
