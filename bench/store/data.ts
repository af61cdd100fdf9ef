import pg from "pg";
import type { StoreUnderTest } from "./stores.ts";

/** The data both stores hold before any case runs. */
export const DATA = {
  users: 100,
  /** Per user, split over the user's namespaces. */
  itemsPerUser: 100,
  /** Each user's namespaces: ["users", user, label]. */
  labels: ["memories", "prefs"],
  kinds: ["food", "travel", "work", "family"],
} as const;

/** A user's id: zero-padded, so LangGraph's LIKE prefix `users:u042%` matches that user alone. */
export const userId = (n: number) => `u${String(n % DATA.users).padStart(3, "0")}`;

/** Item `i` of a user's items: its namespace label and key. */
export const itemPlace = (user: string, i: number) => ({
  namespace: ["users", user, DATA.labels[i % DATA.labels.length] as string],
  key: `item-${String(i).padStart(3, "0")}`,
});

/** A JSON document of about 200 bytes: `kind` cycles over DATA.kinds, `score` is 0–99. */
export function doc(i: number): Record<string, unknown> {
  return {
    kind: DATA.kinds[i % DATA.kinds.length],
    score: (i * 7) % 100,
    title: `note ${i}`,
    text: `remember: ${"the user said something worth keeping ".repeat(3)}${i}`,
    tags: ["bench", `t${i % 10}`],
  };
}

/**
 * Puts DATA's items (users × itemsPerUser) into `target` through its own `batch`, 100 puts a
 * batch, then runs ANALYZE on its table so that both planners start from statistics.
 */
export async function seed(target: StoreUnderTest, url: string): Promise<void> {
  for (let u = 0; u < DATA.users; u++) {
    const user = userId(u);
    const puts = Array.from({ length: DATA.itemsPerUser }, (_, i) => ({
      ...itemPlace(user, i),
      value: doc(i),
    }));
    await target.store.batch(puts);
  }
  const client = new pg.Client({ connectionString: url, application_name: "layover-bench-admin" });
  await client.connect();
  try {
    await client.query(`ANALYZE ${target.table}`);
  } finally {
    await client.end();
  }
}

/** Where the two stores answer the same call differently: each store's answer, as text. */
export interface SemanticCheck {
  call: string;
  answers: Record<StoreUnderTest["name"], string>;
}

async function answer(fn: () => Promise<unknown[]>): Promise<string> {
  try {
    return `${(await fn()).length} result(s)`;
  } catch (error) {
    return `error: ${(error instanceof Error ? error.message : String(error)).slice(0, 60)}`;
  }
}

/**
 * Calls whose answers differ, run once on the seeded stores (nothing timed): a prefix that is
 * not a whole label (LangGraph's `LIKE 'users:u04%'` also matches u040–u049), maxDepth below the
 * namespaces' depth (LangGraph drops deeper namespaces instead of cutting them), and $gt where a
 * value holds a string (LangGraph casts `value ->> key` to numeric). The last puts one item
 * under ["semantic"], outside every case's prefix.
 */
export async function semanticChecks(targets: readonly StoreUnderTest[]): Promise<SemanticCheck[]> {
  const calls: { call: string; run: (target: StoreUnderTest) => Promise<unknown[]> }[] = [
    {
      call: 'search(["users", "u04"]) (a label cut short)',
      run: (t) => t.store.search(["users", "u04"], { limit: 1000 }),
    },
    {
      call: 'listNamespaces({ prefix: ["users"], maxDepth: 2 }) (namespaces are 3 deep)',
      run: (t) => t.store.listNamespaces({ prefix: ["users"], maxDepth: 2 }),
    },
    {
      call: 'search(["semantic"], { filter: { score: { $gt: 1 } } }) over { score: "high" } and { score: 5 }',
      run: async (t) => {
        await t.store.batch([
          { namespace: ["semantic"], key: "a", value: { score: "high" } },
          { namespace: ["semantic"], key: "b", value: { score: 5 } },
        ]);
        return t.store.search(["semantic"], { filter: { score: { $gt: 1 } } });
      },
    },
  ];
  const checks: SemanticCheck[] = [];
  for (const { call, run } of calls) {
    const answers = { Layover: "", "LangGraph.js": "" };
    for (const target of targets) answers[target.name] = await answer(() => run(target));
    checks.push({ call, answers });
  }
  return checks;
}
