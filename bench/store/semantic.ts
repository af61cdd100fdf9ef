// Semantic search (a store with an index): `pnpm bench:semantic`. Times search(prefix, { query })
// over N items under the prefix, each with one vector of `dims` numbers, on Layover's
// InMemoryStore against LangGraph.js's (the same items, the same embeddings, alternating, in
// this process) and on Layover's PostgresStore (no peer here: LangGraph.js's PostgresStore
// searches by meaning only with the pgvector extension, which this benchmark does not install).
// The embeddings are made from a hash of the text, so the figures are the stores', not a model's.
// Prints the median ms per search, searches/s, and Layover/LangGraph.js in memory.
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Embeddings } from "@langchain/core/embeddings";
import { InMemoryStore as LangGraphInMemoryStore } from "@langchain/langgraph-checkpoint";
import { InMemoryStore, type SearchItem } from "@layover/checkpoint";
import { PostgresStore } from "@layover/checkpoint-postgres";
import pg from "pg";
import { openBenchServer } from "../checkpoint-postgres/server.ts";
import { withCleanUp } from "../support/clean-up.ts";
import { wholeNumber } from "../support/cli.ts";

/**
 * Unit vectors drawn from a hash of the text (xorshift32): the same text, the same vector. A
 * LangChain Embeddings, as LangGraph.js's store requires (Layover's takes any embedDocuments/embedQuery).
 */
class HashEmbeddings extends Embeddings {
  readonly dims: number;
  constructor(dims: number) {
    super({});
    this.dims = dims;
  }
  vector(text: string): number[] {
    let state = 2166136261;
    for (let i = 0; i < text.length; i++) state = Math.imul(state ^ text.charCodeAt(i), 16777619) >>> 0;
    const out: number[] = [];
    for (let i = 0; i < this.dims; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out.push(state / 4294967296 - 0.5);
    }
    const length = Math.hypot(...out);
    return out.map((n) => n / length);
  }
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.vector(text));
  }
  override async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }
}

type Searcher = (query: string) => Promise<SearchItem[]>;

/** Median ms of `count` searches, and the keys of the last one's results. */
async function timeSearches(search: Searcher, count: number): Promise<{ ms: number; keys: string[] }> {
  const times: number[] = [];
  let keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const found = await search(`query ${i % 7}`);
    times.push(performance.now() - started);
    keys = found.map((item) => item.key);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, keys };
}

const NS = ["memories", "user-1"];

async function seed(put: (key: string, value: Record<string, unknown>) => Promise<void>, items: number) {
  for (let i = 0; i < items; i++) await put(`m-${i}`, { text: `memory number ${i}`, kind: i % 3 });
}

async function measure(url: string, items: number, dims: number, searches: number) {
  const embeddings = new HashEmbeddings(dims);
  const index = { dims, embeddings, fields: ["text"] };
  const layover = new InMemoryStore({ index });
  const langgraph = new LangGraphInMemoryStore({ index });
  await seed((key, value) => layover.put(NS, key, value), items);
  await seed((key, value) => langgraph.put(NS, key, value), items);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const schema = `bench_semantic_${items}_${dims}`;
  const postgres = new PostgresStore({ pool, schema, index });
  try {
    await postgres.setup();
    const putStarted = performance.now();
    await seed((key, value) => postgres.put(NS, key, value), items);
    const putMs = (performance.now() - putStarted) / items;
    await pool.query("ANALYZE");
    const memory = { layover: [] as number[], langgraph: [] as number[] };
    let top: string[][] = [];
    for (let round = 0; round < 5; round++) {
      const a = await timeSearches((query) => layover.search(NS, { query, limit: 10 }), searches);
      const b = await timeSearches((query) => langgraph.search(NS, { query, limit: 10 }), searches);
      memory.layover.push(a.ms);
      memory.langgraph.push(b.ms);
      top = [a.keys, b.keys];
    }
    const inPostgres = await timeSearches((query) => postgres.search(NS, { query, limit: 10 }), searches);
    if (top[0]?.join() !== top[1]?.join() || inPostgres.keys.join() !== top[0]?.join())
      throw new Error(`The stores ranked differently: ${JSON.stringify([...top, inPostgres.keys])}`);
    const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)] as number;
    return {
      items,
      dims,
      layover: median(memory.layover),
      langgraph: median(memory.langgraph),
      postgres: inPostgres.ms,
      putMs,
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { searches: { type: "string" } } });
  const searches = Math.max(5, wholeNumber(values.searches, "searches", 21));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await openBenchServer(log);
  await withCleanUp(
    () => server.close(),
    async () => {
      console.log(
        `Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()[0]?.toFixed(1)}, Postgres ${server.version}; ` +
          `${searches} searches (limit 10) per measurement, median ms; in memory: 5 alternating rounds, median of medians.`,
      );
      console.log(
        "items  dims  Layover mem ms  LangGraph.js mem ms  Layover/LangGraph  PostgresStore ms  put ms (Postgres)",
      );
      for (const [items, dims] of [
        [200, 256],
        [2_000, 256],
        [200, 1_536],
        [2_000, 1_536],
      ] as const) {
        const r = await measure(server.url, items, dims, searches);
        const ratio = r.langgraph / r.layover;
        console.log(
          `${String(r.items).padStart(5)}  ${String(r.dims).padStart(4)}  ${r.layover.toFixed(2).padStart(14)}  ${r.langgraph.toFixed(2).padStart(19)}  ${ratio.toFixed(2).padStart(16)}×  ${r.postgres.toFixed(2).padStart(16)}  ${r.putMs.toFixed(2).padStart(17)}`,
        );
      }
    },
  );
}

await main();
