// A separate process that answers statements on a PipelinedPool given `allowExitOnIdle` and
// never ends it: the pool options test times how long the process then stays up.
// Usage: node idle-exit.ts <database-url>
import { PipelinedPool } from "../pipelined-pool.ts";

const [url] = process.argv.slice(2);
const pool = new PipelinedPool(
  { connectionString: url, allowExitOnIdle: true, idleTimeoutMillis: 60_000 },
  2,
);
const pids = await Promise.all([1, 2, 3].map(() => pool.query("SELECT pg_backend_pid() AS pid")));
process.stdout.write(`${JSON.stringify({ lanes: pool.laneConnections, answered: pids.length })}\n`);
process.on("exit", () => process.stdout.write("exited\n"));
