import type { CheckpointSaver } from "@layover/checkpoint";
import { beforeAll, describe } from "vitest";
import { describeBreakpoints } from "./breakpoints.ts";
import { describeCommands } from "./commands.ts";
import { describeDurability } from "./durability.ts";
import { describeEditAndResume } from "./edit-and-resume.ts";
import { describeHeldAsync } from "./held-async.ts";
import type { SaverMaker } from "./helpers.ts";
import { describeHistory } from "./history.ts";
import { describeInterruptOptions } from "./interrupt-options.ts";
import { describeInterrupts } from "./interrupts.ts";
import { describeLangChainMessages } from "./messages.ts";
import { describeParallelInterrupts } from "./parallel-interrupts.ts";
import { describeRetry } from "./retry.ts";
import { describeRunErrors } from "./run-errors.ts";
import { describeStepRaces } from "./step-races.ts";
import { describeStepSeam } from "./step-seam.ts";
import { describeStreaming } from "./streaming.ts";
import { describeSubgraphs } from "./subgraphs.ts";
import { describeSupersteps } from "./supersteps.ts";

export { CallCounter, linearGraph, type SaverMaker } from "./helpers.ts";

/**
 * Registers the engine's semantics — supersteps, interrupts and resumes, Commands,
 * subgraphs, breakpoints, history, errors, retries, streaming and the step seam — as vitest
 * tests that run against the saver `makeSaver` returns. It is called once, before the
 * suite's first test; every test works on its own random thread ids, so one saver (or one
 * database) is shared by all of them.
 *
 * @example
 * runEngineSuite("MemorySaver", () => new MemorySaver());
 */
export function runEngineSuite(name: string, makeSaver: SaverMaker): void {
  describe(`engine semantics: ${name}`, () => {
    let saver: CheckpointSaver | undefined;

    beforeAll(async () => {
      saver = await makeSaver();
    });

    const use = (): CheckpointSaver => {
      if (saver === undefined) throw new Error("The engine suite's saver is only available inside a test.");
      return saver;
    };

    describeSupersteps(use);
    describeInterrupts(use);
    describeInterruptOptions(use);
    describeParallelInterrupts(use);
    describeEditAndResume(use);
    describeCommands(use);
    describeSubgraphs(use);
    describeBreakpoints(use);
    describeHistory(use);
    describeRunErrors(use);
    describeRetry(use);
    describeStreaming(use);
    describeLangChainMessages(use);
    describeStepSeam(use);
    describeStepRaces(use);
    describeDurability(use);
    describeHeldAsync(use);
  });
}
