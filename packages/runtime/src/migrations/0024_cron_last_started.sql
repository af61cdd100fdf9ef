-- 0024: when a cron's tick last started a run (the scheduler's clock). A tick that fell due before
-- then starts nothing: ticks that fell due together (an outage of Postgres or of every scheduler,
-- then both the tick put back and the next one taken at once) start one run, not one each.
-- Never edit once shipped.
ALTER TABLE crons ADD COLUMN last_started_at timestamptz;
