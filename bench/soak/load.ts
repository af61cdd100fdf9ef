// Keeps a number of stories in flight, each on a new thread, until told to stop; the stories
// under way then run to their end.

import { type Rng, seededRng } from "./rng.ts";
import { runStory, type StoryContext } from "./stories.ts";

export interface LoadOptions {
  /** Stories under way at once. */
  inFlight: number;
  seed: number;
  signal: AbortSignal;
}

/** Resolves once `signal` stopped new stories and every story begun has ended. */
export async function generateLoad(base: Omit<StoryContext, "rng">, options: LoadOptions): Promise<void> {
  const picker: Rng = seededRng(options.seed);
  let next = 0;
  const lane = async () => {
    while (!options.signal.aborted) {
      const n = next++;
      // Each story its own stream, so one story's calls do not shift the others' picks.
      const rng = seededRng(Math.floor(picker() * 2 ** 32));
      await runStory({ ...base, rng }, `soak-${options.seed}-${n}`);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, lane));
}
