// Graphs registered by workers. Served by the primary key.
import type { Db, Queryable } from "../db.ts";

export interface GraphRow {
  id: string;
  input_schema: Record<string, unknown>;
  /** The graph's interrupt timeout, and its nodes in declaration order (the engine's task order). */
  options: { timeoutMs?: number; onTimeout?: unknown; nodes?: string[] };
}

/** Upserts a graph's input schema and options ($1 id, $2 input_schema, $3 options). */
export async function registerGraph(db: Db, row: GraphRow): Promise<void> {
  await db.pool.query(
    `INSERT INTO ${db.table("graphs")} (id, input_schema, options) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET input_schema = EXCLUDED.input_schema, options = EXCLUDED.options, updated_at = now()`,
    [row.id, JSON.stringify(row.input_schema), JSON.stringify(row.options)],
  );
}

export async function getGraph(db: Db, q: Queryable, id: string): Promise<GraphRow | undefined> {
  const { rows } = await q.query<GraphRow>(
    db.prepared("get_graph", `SELECT id, input_schema, options FROM ${db.table("graphs")} WHERE id = $1`, [
      id,
    ]),
  );
  return rows[0];
}

export async function listGraphIds(db: Db): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM ${db.table("graphs")} ORDER BY id`);
  return rows.map((r) => r.id);
}
