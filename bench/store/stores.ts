import { PostgresStore as LangGraphPostgresStore } from "@langchain/langgraph-checkpoint-postgres/store";
import { PostgresStore as LayoverPostgresStore } from "@layover/checkpoint-postgres";
import {
  type BenchServer,
  countingPool,
  countingPoolConfig,
  type StatementCounts,
} from "../checkpoint-postgres/server.ts";

/** The calls the benchmark makes: the BaseStore methods both stores share with LangGraph's. */
export type StoreApi = Pick<LayoverPostgresStore, "get" | "put" | "search" | "listNamespaces" | "batch">;

/** A store in a schema of its own, on a pool of its own whose clients count what they send. */
export interface StoreUnderTest {
  name: "Layover" | "LangGraph.js";
  store: StoreApi;
  /** The table the items live in (schema-qualified, quoted). */
  table: string;
  counts: StatementCounts;
  close(): Promise<void>;
}

/**
 * Layover's PostgresStore (`@layover/checkpoint-postgres`) and LangGraph.js's
 * (`@langchain/langgraph-checkpoint-postgres/store`), each in a fresh schema of the same database
 * with a pool of the same size, their tables created (`setup()`) before anything is measured.
 * LangGraph's store builds its own pool from the settings it is given; Layover's takes a pool.
 */
export async function setUpStores(server: BenchServer, poolSize: number): Promise<StoreUnderTest[]> {
  const layoverSchema = await server.createSchema("bench_store_layover");
  const layoverPool = countingPool(server.url, "layover-bench-store-layover", poolSize);
  const layover = new LayoverPostgresStore({ pool: layoverPool.pool, schema: layoverSchema });
  await layover.setup();

  const langgraphSchema = await server.createSchema("bench_store_langgraph");
  const { config, counts } = countingPoolConfig(server.url, "layover-bench-store-langgraph", poolSize);
  const langgraph = new LangGraphPostgresStore({ connectionOptions: config, schema: langgraphSchema });
  await langgraph.setup();

  return [
    {
      name: "Layover",
      store: layover,
      table: `"${layoverSchema}".store_items`,
      counts: layoverPool.counts,
      close: () => layoverPool.end(),
    },
    {
      name: "LangGraph.js",
      // Both implement LangGraph's BaseStore methods; Layover's Operation types mirror LangGraph's.
      store: langgraph as unknown as StoreApi,
      table: `"${langgraphSchema}".store`,
      counts,
      close: () => langgraph.stop(),
    },
  ];
}
