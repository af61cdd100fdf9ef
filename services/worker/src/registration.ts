// Which version of its graphs a worker serves, said to Postgres when it starts and then every
// `everyMs`: producers check inputs and breakpoint names against the newest version a live
// worker serves (register_graph, runtime migration 0018), not whichever worker started last.
import { registerGraph } from "@layover/runtime";
import type { Logger } from "pino";
import type { ServedGraph, WorkerContext } from "./context.ts";

/** A registration older than this many heartbeats is not live: its workers have stopped. */
const LIVE_HEARTBEATS = 3;

function registrationOf(id: string, served: ServedGraph) {
  const inputSchema = served.graph.inputJsonSchema();
  const stateSchema = served.graph.stateJsonSchema();
  return {
    id,
    input_schema: inputSchema,
    options: {
      ...(served.timeoutMs !== undefined ? { timeoutMs: served.timeoutMs } : {}),
      ...(served.onTimeout !== undefined ? { onTimeout: served.onTimeout } : {}),
      nodes: [...served.graph.spec.nodes.keys()],
      // Producers check updates against the state (what a node may write), where it differs.
      ...(JSON.stringify(stateSchema) === JSON.stringify(inputSchema) ? {} : { stateSchema }),
      // An entrypoint (functional API) takes no update or asNode (its state is one value).
      ...(served.graph.spec.root !== undefined ? { entrypoint: true } : {}),
      // Producers send threads.continue's asNode only to workers that read it.
      continueAsNode: true,
      // And its run options (context, durability): an older worker would run it without either.
      continueRunOptions: true,
      // And its checkpointId (a fork from an older checkpoint): an older worker cannot read one.
      continueFrom: true,
      // Producers plan a parked thread's next tasks as the engine does (threads.get's next).
      ...(served.graph.spec.deferred ? { deferred: [...served.graph.spec.deferred] } : {}),
    },
  };
}

/**
 * Registers the worker's graphs now (`register`) and every `everyMs` after `heartbeat()`, until
 * `close()`; keeps `ctx.superseded` to the graphs producers check against another version of.
 */
export function graphRegistration(
  ctx: Pick<WorkerContext, "db" | "graphs" | "superseded">,
  everyMs: number,
  logger: Logger,
) {
  const rows = [...ctx.graphs].map(([id, served]) => registrationOf(id, served));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function register(): Promise<void> {
    for (const row of rows) {
      const { fingerprint, current } = await registerGraph(ctx.db, row, everyMs * LIVE_HEARTBEATS);
      const other = fingerprint !== current;
      if (other === ctx.superseded.has(row.id)) continue;
      if (other) {
        ctx.superseded.add(row.id);
        logger.warn(
          { graphId: row.id, fingerprint, current },
          "producers check this graph's inputs against another version, registered more recently by a live worker (a rolling deploy under way, or this worker runs an older release)",
        );
      } else {
        ctx.superseded.delete(row.id);
        logger.info(
          { graphId: row.id, fingerprint },
          "producers check this graph's inputs against this version",
        );
      }
    }
  }

  /** Registers again, unless a registration is under way: then waits for that one. */
  function again(): Promise<void> {
    running ??= register()
      .catch((error: unknown) =>
        logger.warn({ err: error }, "graphs not registered again; retried next time"),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    register,
    again,
    heartbeat(): void {
      timer = setInterval(again, everyMs);
      timer.unref();
    },
    async close(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
