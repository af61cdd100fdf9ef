// Where the CPU goes during a batch (Linux /proc; elsewhere nothing is reported): this process,
// each worker process, the Postgres backends serving each of them (found by the
// application_name every benchmark connection carries), Postgres's WAL writer and other
// background processes, and Redis (one server process, shared with anything else using it).
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import pg from "pg";

/** CPU ms used so far, by group. */
export type CpuSample = Map<string, number>;
/** CPU ms used so far, by "group\tpid": processes come and go between samples. */
export type ProcessSample = Map<string, number>;

/** USER_HZ: /proc counts CPU time in 1/100 s on every mainstream Linux (Node cannot ask sysconf). */
const MS_PER_TICK = 10;

/** application_name of each kind of benchmark connection → the group its backends count in. */
export const APP_NAMES = {
  client: "layover-bench-client",
  worker: "layover-bench-worker",
  langgraph: "layover-bench-langgraph",
  inProcess: "layover-bench-in-process",
} as const;

const GROUP_OF_APP: Record<string, string> = {
  [APP_NAMES.client]: "pg client",
  [APP_NAMES.worker]: "pg workers",
  [APP_NAMES.langgraph]: "pg LangGraph.js",
  [APP_NAMES.inProcess]: "pg in-process",
};

/** The connection string with `application_name` set, so its backends can be told apart. */
export function withAppName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("application_name", name);
  return parsed.toString();
}

function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "pid (comm) ": state is the 1st, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

export interface CpuSampler {
  /** CPU ms used so far by each process; undefined where /proc is not available. */
  sample(): Promise<ProcessSample | undefined>;
  close(): Promise<void>;
}

export async function cpuSampler(
  databaseUrl: string,
  workerPids: ReadonlyMap<string, number>,
  /** The Redis server's pid (INFO server), when it runs on this machine. */
  redis: number | undefined,
): Promise<CpuSampler> {
  const available = ticksOf(process.pid) !== undefined;
  const client = new pg.Client({ connectionString: withAppName(databaseUrl, "layover-bench-cpu-sampler") });
  if (available) await client.connect();
  return {
    async sample() {
      if (!available) return undefined;
      const sample: ProcessSample = new Map();
      const add = (group: string, pid: number, ms: number | undefined) => {
        if (ms !== undefined) sample.set(`${group}\t${pid}`, ms);
      };
      const usage = process.cpuUsage();
      add("bench process", process.pid, (usage.user + usage.system) / 1000);
      for (const [id, pid] of workerPids) add(id, pid, ticksOf(pid));
      const { rows } = await client.query<{ pid: number; app: string; type: string }>(
        `SELECT pid, application_name AS app, backend_type AS type FROM pg_stat_activity
          WHERE application_name = ANY($1) OR backend_type IN
            ('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher', 'autovacuum worker')`,
        [Object.keys(GROUP_OF_APP)],
      );
      for (const row of rows) add(GROUP_OF_APP[row.app] ?? "pg background", row.pid, ticksOf(row.pid));
      if (redis !== undefined) add("redis", redis, ticksOf(redis));
      return sample;
    },
    async close() {
      if (available) await client.end();
    },
  };
}

/**
 * CPU ms used between two samples, by group: each process's `after - before`, all of it for a
 * process that started in between. A process that ended in between is missed (pools keep
 * their connections for 10 s idle, longer than the gap between batches, so this is rare).
 */
export function cpuSpent(
  before: ProcessSample | undefined,
  after: ProcessSample | undefined,
): CpuSample | undefined {
  if (before === undefined || after === undefined) return undefined;
  const spent: CpuSample = new Map();
  for (const [key, ms] of after) {
    const group = key.slice(0, key.indexOf("\t"));
    spent.set(group, (spent.get(group) ?? 0) + ms - (before.get(key) ?? 0));
  }
  return spent;
}

/** Where the groups go in a line: the benchmark's own process first, then workers, then servers. */
const GROUP_ORDER = [
  "bench process",
  "worker",
  "pg client",
  "pg workers",
  "pg LangGraph.js",
  "pg in-process",
  "pg background",
  "redis",
];

function groupRank(group: string): number {
  const rank = GROUP_ORDER.findIndex((prefix) => group.startsWith(prefix));
  return rank === -1 ? GROUP_ORDER.length : rank;
}

/** "9.6 (bench process 1.4, worker 1 1.8, …)": the total CPU ms and its groups (those ≥ 0.05 ms). */
export function describeCpu(msByGroup: Readonly<Record<string, number>>): string {
  const one = (ms: number) => ms.toLocaleString("en-US", { maximumFractionDigits: 1 });
  const total = Object.values(msByGroup).reduce((sum, ms) => sum + ms, 0);
  const parts = Object.entries(msByGroup)
    .filter(([, ms]) => ms >= 0.05)
    .sort(([a], [b]) => groupRank(a) - groupRank(b) || a.localeCompare(b))
    .map(([group, ms]) => `${group} ${one(ms)}`)
    .join(", ");
  return `${one(total)} (${parts})`;
}

/** The pid of the Redis server `connection` talks to (INFO server), when it reports one. */
export async function redisServerPid(connection: Redis): Promise<number | undefined> {
  const info = await connection.info("server");
  return Number(/process_id:(\d+)/.exec(info)?.[1]) || undefined;
}
