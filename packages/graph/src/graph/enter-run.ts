// Where a run begins: the input recorded on the thread's head (a start, a resume, a Command,
// a continue, a subgraph's re-entry), and the first "values" chunk streamed from it.
import { isCommand } from "../command.ts";
import { continueRun, passBreakpointAfterCommand } from "../continue-run.ts";
import { commandRun, recordResume, startRun } from "../entry.ts";
import { EmptyInputError } from "../errors.ts";
import type { LoadedHead } from "../head.ts";
import { plannedTasks, type StepEnv } from "../step.ts";
import { emitResumedValues, emitValues } from "../stream-view.ts";
import { keepsResult, retried } from "./subgraph-reentry.ts";

/**
 * Records `input` on `head` and returns the head to run from. `running` says a superstep
 * follows at once, so a resume's answers stay in memory until it (see recordResume).
 */
export async function enterRun(
  env: StepEnv,
  head: LoadedHead | undefined,
  input: unknown,
  subgraph: boolean,
  running = true,
) {
  if (isCommand(input)) {
    // A resume streams the state it resumes from first, as LangGraph's "values" does.
    if (input.resume !== undefined)
      return emitResumedValues(env, await recordResume(env, head, input, !running));
    return emitValues(env, await passBreakpointAfterCommand(env, await commandRun(env, head, input), input));
  } else if (input === null || input === undefined) {
    if (head === undefined) {
      throw new EmptyInputError(
        `Thread "${env.key.threadId}" has no checkpoint to continue from: start it with an input.`,
      );
    }
    return subgraph ? head : emitValues(env, await continueRun(env, head));
  } else if (subgraph && head !== undefined && plannedTasks(env, head).length > 0 && !retried()) {
    // This task called this subgraph before: its namespace is the task's. The task runs again
    // (a resume, a redo after a crash), so the subgraph continues where it paused, streaming
    // the state it continues from, as a resumed graph does. (A replay from an older checkpoint
    // forks first: its tasks have new ids, so the subgraphs they call run anew; so does a retry.)
    return emitValues(env, head);
  } else if (subgraph && head !== undefined && keepsResult(env, head)) {
    return head; // one that finished keeps its result (see keepsResult)
  } else {
    return emitValues(env, await startRun(env, head, input, subgraph), input);
  }
}
