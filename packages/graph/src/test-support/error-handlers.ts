// What the error-handler tests share: a booking state, threads of their own, a node that always
// fails (counted), and a stream's chunks collected.
import { Annotation, MemorySaver, START, StateGraph } from "../index.ts";

export const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  status: Annotation<string>,
});

export const thread = (() => {
  let n = 0;
  return () => ({ configurable: { thread_id: `t${++n}` } });
})();

export const declined = () => {
  throw new Error("card declined");
};

/** A graph whose "book" always fails, handled by `handle`; `runs` counts the node's runs and the handler's. */
export function failingBook(runs: { book: number; handler: number }, handle: () => unknown) {
  return new StateGraph(State)
    .addNode(
      "book",
      () => {
        runs.book += 1;
        throw new Error("card declined");
      },
      {
        errorHandler: () => {
          runs.handler += 1;
          return handle();
        },
      },
    )
    .addEdge(START, "book")
    .compile({ checkpointer: new MemorySaver() });
}

export async function updatesOf(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}
