// Graphs registered by workers. Served by the primary keys of graphs and graph_registrations.
import { createHash } from "node:crypto";
import type { Db, Queryable } from "../db.ts";

export interface GraphRow {
  id: string;
  input_schema: Record<string, unknown>;
  /** The graph's interrupt timeout, and its nodes in declaration order (the engine's task order). */
  options: { timeoutMs?: number; onTimeout?: unknown; nodes?: string[] };
}

/**
 * Records that a worker serves this version of the graph (a fingerprint of its input schema and
 * options), and makes the graph's row — what producers check against — the live version first
 * registered most recently (register_graph, migrations/0018): a version registered within
 * `liveMs` is live. Returns the fingerprints of this version and of the one the row holds.
 */
export async function registerGraph(
  db: Db,
  row: GraphRow,
  liveMs: number,
): Promise<{ fingerprint: string; current: string }> {
  const inputSchema = JSON.stringify(row.input_schema);
  const options = JSON.stringify(row.options);
  const fingerprint = createHash("sha256").update(inputSchema).update("\n").update(options).digest("hex");
  const { rows } = await db.pool.query<{ current_fingerprint: string }>(
    `SELECT current_fingerprint FROM ${db.table("register_graph")}($1, $2, $3, $4, $5)`,
    [row.id, fingerprint, inputSchema, options, Math.round(liveMs)],
  );
  return { fingerprint, current: (rows[0] as { current_fingerprint: string }).current_fingerprint };
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
