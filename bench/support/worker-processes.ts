import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Queue } from "bullmq";

/** Workers migrate the schema and register their graphs before they take jobs. */
export async function untilWorkersReady(
  queue: Queue,
  children: ChildProcess[],
  count: number,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await queue.getWorkersCount()) < count) {
    const dead = children.find((child) => child.exitCode !== null);
    if (dead) throw new Error(`a worker process exited (${dead.exitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error("the worker processes were not ready within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM (they finish running jobs, and write CPU profiles if asked), SIGKILL after 10 s. */
export async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}
