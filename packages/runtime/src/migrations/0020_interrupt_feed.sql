-- 0020: a feed of the questions threads wait for (client.interrupts.watch), for an app that posts
-- each one where a person answers it (a Slack message with Approve / Reject buttons), and that
-- must miss none, across its own restarts, without rereading every pending interrupt.
--
-- created_at cannot order such a feed: it is set when a park's transaction begins, and a park
-- that commits after a later one would fall behind a reader's cursor, never delivered.
-- parked_xid is the id of the transaction that made the interrupt pending (its insert, or the
-- update that asked it again): a reader delivers, in parked_xid order, only rows whose
-- transaction is older than every transaction still running on the server, in any database
-- (pg_snapshot_xmin), so a row it has not read yet can never appear behind its cursor.
--
-- A park's questions keep the order asked (parked_order: asked_order when the row became
-- pending). The feed cannot order by asked_order itself: a later park renumbers a question still
-- pending (0017), which moved it behind a cursor already past its park's other questions, never
-- delivered (three asked, the first two delivered and answered: the third became number 1).
--
-- The columns' constant defaults read as 0 for the rows already there (no rewrite of the table):
-- a feed from the start delivers them first. A row inserted pending, or asked again (resolved,
-- then pending), takes the id of the transaction that did it and its asked_order, from triggers
-- that fire on those changes only. The feed's indexes come in 0021, built in a transaction of
-- their own: here, under ALTER TABLE's lock, their builds would hold up every read of the table.
-- Never edit once shipped.

ALTER TABLE interrupts ADD COLUMN parked_xid xid8 NOT NULL DEFAULT '0',
                       ADD COLUMN parked_order integer NOT NULL DEFAULT 0;
ALTER TABLE interrupts ALTER COLUMN parked_xid SET DEFAULT pg_current_xact_id();

CREATE FUNCTION interrupts_parked() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- An insert takes parked_xid from the column's default.
  IF TG_OP = 'UPDATE' THEN NEW.parked_xid := pg_current_xact_id(); END IF;
  NEW.parked_order := coalesce(NEW.asked_order, 0);
  RETURN NEW;
END $$;

CREATE TRIGGER interrupts_parked BEFORE INSERT ON interrupts
  FOR EACH ROW WHEN (NEW.status = 'pending')
  EXECUTE FUNCTION interrupts_parked();

CREATE TRIGGER interrupts_parked_again BEFORE UPDATE OF status ON interrupts
  FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status IS DISTINCT FROM 'pending')
  EXECUTE FUNCTION interrupts_parked();
