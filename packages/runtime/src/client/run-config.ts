import { InvalidInputError, isDurability } from "@layover/graph";
import type { RunConfig } from "../sql/runs.ts";

/** Refuses a run config the worker could not honour, before anything is written. */
export function checkConfig(config: RunConfig | undefined): void {
  if (config === undefined) return;
  const { recursionLimit, durability, checkpointDuring } = config;
  if (checkpointDuring !== undefined && typeof checkpointDuring !== "boolean") {
    throw new InvalidInputError(
      `config.checkpointDuring must be true or false; got ${JSON.stringify(checkpointDuring)}. Nothing was written.`,
    );
  }
  if (recursionLimit !== undefined && !(Number.isSafeInteger(recursionLimit) && recursionLimit > 0)) {
    throw new InvalidInputError(
      `config.recursionLimit must be a whole number above 0; got ${JSON.stringify(recursionLimit)}. Nothing was written.`,
    );
  }
  if (durability !== undefined && !isDurability(durability)) {
    throw new InvalidInputError(
      `config.durability must be "sync", "async" or "exit"; got ${JSON.stringify(durability)}. Nothing was written.`,
    );
  }
}
