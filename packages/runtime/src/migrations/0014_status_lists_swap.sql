-- 0014: the partial list indexes 0013 built take the old ones' place (see 0013 for why this is a
-- migration of its own). Never edit once shipped.
DROP INDEX interrupts_status_created;
ALTER INDEX interrupts_status_created_0013 RENAME TO interrupts_status_created;
DROP INDEX interrupts_graph_status;
ALTER INDEX interrupts_graph_status_0013 RENAME TO interrupts_graph_status;
