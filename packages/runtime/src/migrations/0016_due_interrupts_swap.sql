-- 0016: the partial index of due interrupts 0015 built takes the old one's place (see 0013 for
-- why this is a migration of its own). Never edit once shipped.
DROP INDEX interrupts_pending_deadline;
ALTER INDEX interrupts_pending_deadline_0015 RENAME TO interrupts_pending_deadline;
