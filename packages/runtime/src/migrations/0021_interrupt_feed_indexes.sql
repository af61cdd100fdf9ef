-- 0021: the indexes of the interrupt feed (0020), apart from 0020's ALTER TABLE so that their
-- builds block writes to interrupts (parks, answers) but not reads. The feed reads
-- interrupts_pending_parked, or for one graph's questions interrupts_pending_parked_by_graph
-- (without it, a watch of a quiet graph read every question of the busy ones parked after its
-- cursor, at every park and poll). Both are partial on `(…) IS TRUE` (see 0013): only the feed's
-- query, which repeats the predicate, reads them. Never edit once shipped.

CREATE INDEX interrupts_pending_parked ON interrupts (parked_xid, parked_order, id)
 WHERE (status = 'pending') IS TRUE;
CREATE INDEX interrupts_pending_parked_by_graph ON interrupts (graph_id, parked_xid, parked_order, id)
 WHERE (status = 'pending') IS TRUE;
