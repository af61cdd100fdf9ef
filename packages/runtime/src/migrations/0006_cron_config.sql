-- 0006: a cron's run config (context, durability, recursion limit), given to every run it starts.
-- Never edit once shipped.
ALTER TABLE crons ADD COLUMN config jsonb;
