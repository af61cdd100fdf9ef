import { PostgresSaver as LangGraphPostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { PostgresSaver as LayoverPostgresSaver, migrate } from "@layover/checkpoint-postgres";
import { type Engine, engines } from "../engine/graphs.ts";
import { type BenchServer, type CountingPool, countingPool } from "./server.ts";

/** An engine with its Postgres saver: a schema of its own and a pool that counts statements. */
export interface PostgresEngine {
  engine: Engine;
  schema: string;
  counting: CountingPool;
  /** A new saver object on the engine's pool and schema (the tables are already set up). */
  newSaver(): unknown;
}

function engineNamed(name: Engine["name"]): Engine {
  const engine = engines.find((candidate) => candidate.name === name);
  if (engine === undefined) throw new Error(`No engine named ${name}.`);
  return engine;
}

/**
 * Layover with `@layover/checkpoint-postgres` and LangGraph.js with
 * `@langchain/langgraph-checkpoint-postgres`, each in a fresh schema of the same database, each
 * with a pool of the same size. The tables are created before anything is measured.
 */
export async function setUpEngines(server: BenchServer, poolSize: number): Promise<PostgresEngine[]> {
  const layoverSchema = await server.createSchema("bench_layover");
  const layoverPool = countingPool(server.url, "layover-bench-layover", poolSize);
  await migrate(layoverPool.pool, { schema: layoverSchema });

  const langgraphSchema = await server.createSchema("bench_langgraph");
  const langgraphPool = countingPool(server.url, "layover-bench-langgraph", poolSize);
  await new LangGraphPostgresSaver(langgraphPool.pool, undefined, { schema: langgraphSchema }).setup();

  return [
    {
      engine: engineNamed("Layover"),
      schema: layoverSchema,
      counting: layoverPool,
      newSaver: () => new LayoverPostgresSaver({ pool: layoverPool.pool, schema: layoverSchema }),
    },
    {
      engine: engineNamed("LangGraph.js"),
      schema: langgraphSchema,
      counting: langgraphPool,
      newSaver: () => new LangGraphPostgresSaver(langgraphPool.pool, undefined, { schema: langgraphSchema }),
    },
  ];
}
