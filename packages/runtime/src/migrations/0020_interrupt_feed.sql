-- 0020: a feed of the questions threads wait for (client.interrupts.watch), for an app that posts
-- each one where a person answers it (a Slack message with Approve / Reject buttons), and that
-- must miss none, across its own restarts, without rereading every pending interrupt.
--
-- created_at cannot order such a feed: it is set when a park's transaction begins, and a park
-- that commits after a later one would fall behind a reader's cursor, never delivered.
-- parked_xid is the id of the transaction that made the interrupt pending (its insert, or the
-- update that asked it again): a reader delivers, in parked_xid order, only rows whose
-- transaction is older than every transaction still running (pg_snapshot_xmin), so a row it has
-- not read yet can never appear behind its cursor.
--
-- The column's constant default reads as 0 for the rows already there (no rewrite of the
-- table): a feed from the start delivers them first. New rows take their transaction's id, and
-- a row asked again (resolved, then pending) takes the id of the transaction that did it, from a
-- trigger that fires on that change only. interrupts_pending_parked is partial on `(…) IS TRUE`
-- (see 0013): only the feed's query, which repeats the predicate, reads it. Never edit once
-- shipped.

ALTER TABLE interrupts ADD COLUMN parked_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE interrupts ALTER COLUMN parked_xid SET DEFAULT pg_current_xact_id();

CREATE FUNCTION interrupts_parked_again() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  NEW.parked_xid := pg_current_xact_id();
  RETURN NEW;
END $$;

CREATE TRIGGER interrupts_parked_again BEFORE UPDATE OF status ON interrupts
  FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status IS DISTINCT FROM 'pending')
  EXECUTE FUNCTION interrupts_parked_again();

CREATE INDEX interrupts_pending_parked ON interrupts (parked_xid) WHERE (status = 'pending') IS TRUE;
