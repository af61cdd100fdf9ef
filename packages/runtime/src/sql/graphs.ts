// Graphs registered by workers. Served by the primary keys of graphs and graph_registrations.
import { createHash } from "node:crypto";
import type { Db, Queryable } from "../db.ts";

export interface GraphRow {
  id: string;
  input_schema: Record<string, unknown>;
  /**
   * The graph's interrupt timeout, its nodes in declaration order (the engine's task order), the
   * JSON Schema of an update where it differs from the input's (any state key), and whether it
   * is an entrypoint.
   */
  options: {
    timeoutMs?: number;
    onTimeout?: unknown;
    nodes?: string[];
    deferred?: string[];
    stateSchema?: Record<string, unknown>;
    entrypoint?: boolean;
    /** The workers take threads.continue's asNode (older ones would ignore it). */
    continueAsNode?: boolean;
    /** The workers take threads.continue's context and durability (older ones ignore them, and the start's context too). */
    continueRunOptions?: boolean;
    /** The workers take threads.continue's checkpointId (older ones would go on from the head). */
    continueFrom?: boolean;
  };
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

/** What readers take as a registration's live window when it has none stored (0019): three default heartbeats. */
const DEFAULT_LIVE_MS = 90_000;

/** One version of a graph that workers registered. */
export interface GraphVersion {
  fingerprint: string;
  firstSeenAt: Date;
  /** When a worker last said it serves this version. */
  lastSeenAt: Date;
  /** A worker said so within the registration's live window (three of its heartbeats). */
  live: boolean;
  /** Producers check inputs and breakpoint names against this version. */
  current: boolean;
}

/** A graph as operators see it: its versions, and the runs waiting for a worker to take them. */
export interface GraphInfo {
  graphId: string;
  /** Some live worker serves a version of it. */
  served: boolean;
  /** When a worker last said it serves a version of it; null when none ever did. */
  lastServedAt: Date | null;
  /** Newest registration first. */
  versions: GraphVersion[];
  /** Its runs pending or running. */
  runsWaiting: number;
  /** When the oldest of those was created; null when none waits. */
  oldestWaitingAt: Date | null;
}

/**
 * Every registered graph with its versions and waiting runs, by id. Reads every registration and
 * the active runs (runs_active), grouped: as many rows as graphs, versions and runs under way.
 */
export async function listGraphs(db: Db): Promise<GraphInfo[]> {
  const [versions, waiting] = await Promise.all([
    db.pool.query<{ graph_id: string } & GraphVersion>(
      `SELECT g.id AS graph_id, r.fingerprint, r.first_seen AS "firstSeenAt", r.last_seen AS "lastSeenAt",
              r.last_seen >= now() - make_interval(secs => coalesce(r.live_ms, ${DEFAULT_LIVE_MS}) / 1000.0) AS live,
              (r.input_schema = g.input_schema AND r.options = g.options) AS current
         FROM ${db.table("graphs")} g
         LEFT JOIN ${db.table("graph_registrations")} r ON r.graph_id = g.id
        ORDER BY g.id, r.first_seen DESC, r.fingerprint DESC`,
    ),
    db.pool.query<{ graph_id: string; runs: number; oldest: Date }>(
      `SELECT graph_id, count(*)::int AS runs, min(created_at) AS oldest
         FROM ${db.table("runs")} WHERE (status IN ('pending', 'running')) IS TRUE GROUP BY graph_id`,
    ),
  ]);
  const graphs = new Map<string, GraphInfo>();
  for (const { graph_id, ...version } of versions.rows) {
    let info = graphs.get(graph_id);
    if (info === undefined) {
      info = {
        graphId: graph_id,
        served: false,
        lastServedAt: null,
        versions: [],
        runsWaiting: 0,
        oldestWaitingAt: null,
      };
      graphs.set(graph_id, info);
    }
    if (version.fingerprint === null) continue; // a graph registered before 0018: no versions
    info.versions.push(version);
    info.served ||= version.live;
    if (info.lastServedAt === null || version.lastSeenAt > info.lastServedAt)
      info.lastServedAt = version.lastSeenAt;
  }
  for (const { graph_id, runs, oldest } of waiting.rows) {
    const info = graphs.get(graph_id);
    if (info !== undefined) Object.assign(info, { runsWaiting: runs, oldestWaitingAt: oldest });
  }
  return [...graphs.values()];
}
