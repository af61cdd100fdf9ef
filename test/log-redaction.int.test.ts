// What a worker logs at its default settings, read from its real pino output: the ids of a run,
// never what users wrote (state, inputs, answers), even inside the errors it logs.
import { END, MessagesAnnotation, START, StateGraph, StateSchema } from "@layover/graph";
import type { LayoverClient } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loggedWorker } from "./support/logged-worker.ts";

const SECRET = "4111-1111-1111-1111";

/** A reply LangChain cannot make a message of (no such role), holding what a user wrote. */
const badReply = new StateGraph(MessagesAnnotation)
  .addNode("reply", () => ({ messages: [{ role: "customer", content: `my card is ${SECRET}` }] }))
  .addEdge(START, "reply")
  .addEdge("reply", END)
  .compile();

const echo = new StateGraph(MessagesAnnotation)
  .addNode("reply", () => ({}))
  .addEdge(START, "reply")
  .addEdge("reply", END)
  .compile();

const EMAIL = "alice@example.com";

/** Bookings by customer: a record whose keys are the user's data. */
const ledger = new StateGraph(
  new StateSchema({
    bookings: z.record(z.string(), z.object({ price: z.number() })).default({}),
    note: z.strictObject({ text: z.string() }).optional(),
    strict: z.boolean().default(false),
  }),
)
  .addNode("book", (s) =>
    s.strict
      ? { note: { text: "hi", [EMAIL]: true } as never }
      : { bookings: { [EMAIL]: { price: "free" as never } } },
  )
  .addEdge(START, "book")
  .addEdge("book", END)
  .compile();

let lines: string[] = [];
let client: LayoverClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ lines, client, close } = await loggedWorker("log-redaction", { badReply, echo, ledger }));
}, 60_000);
afterAll(() => close?.());

/** The run's lines once it failed (its run, or one of its jobs), as the worker wrote them. */
async function linesOnceFailed(runId: string): Promise<string> {
  const failed = () => lines.filter((l) => l.includes(runId) && /"msg":"(job|run) failed/.test(l));
  await expect.poll(() => failed().length, { timeout: 15_000 }).toBeGreaterThan(0);
  return lines.filter((l) => l.includes(runId)).join("");
}

describe("a message LangChain cannot read", () => {
  it("is not quoted in the worker's logs when a node writes it", async () => {
    const { runId } = await client.runs.start({ graphId: "badReply", input: { messages: [] } });
    expect(await linesOnceFailed(runId)).not.toContain(SECRET);
    expect(await client.runs.wait(runId)).toMatchObject({
      status: "error",
      error: { code: "INVALID_UPDATE" },
    });
  });

  it("is not quoted in the worker's logs when a run's input holds it", async () => {
    const input = { messages: [{ role: "customer", content: `my card is ${SECRET}` }] };
    const { runId } = await client.runs.start({ graphId: "echo", input });
    expect(await linesOnceFailed(runId)).not.toContain(SECRET);
    expect(await client.runs.wait(runId)).toMatchObject({
      status: "error",
      error: { code: "INVALID_UPDATE" },
    });
  });
});

describe("a schema issue about a record's key", () => {
  it.each([
    [
      "a record's key in the issue's path",
      {},
      'wrote \\"bookings\\", which does not fit its schema: [key].price: Invalid',
    ],
    [
      "a key a strict object did not expect",
      { strict: true },
      'wrote \\"note\\", which does not fit its schema: Unrecognized key.',
    ],
  ])("logs %s redacted; the run's error names it for the producer", async (_, input, logged) => {
    const { runId } = await client.runs.start({ graphId: "ledger", input });
    const written = await linesOnceFailed(runId);
    expect(written).not.toContain(EMAIL);
    expect(written).toContain(logged);
    const result = await client.runs.wait(runId);
    expect(result).toMatchObject({ status: "error", error: { code: "INVALID_UPDATE" } });
    expect(JSON.stringify(result.error)).toContain(EMAIL);
  });
});
