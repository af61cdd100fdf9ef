import type { PostgresSaver } from "@layover/checkpoint-postgres";
import type { CompiledStateGraph, Durability } from "@layover/graph";
import type { Db, Dispatcher, Metrics } from "@layover/runtime";
import type { Logger } from "pino";
import type { CancelWatch } from "./cancels.ts";
import type { JobLosses } from "./job-loss.ts";
import type { PauseWatch } from "./pause-watch.ts";

/** A graph this worker serves, bound to the worker's saver, with its interrupt defaults. */
export interface ServedGraph {
  graph: CompiledStateGraph<any, any>;
  /** Default timeout of the graph's interrupts, in ms. */
  timeoutMs?: number | undefined;
  /** Default value the graph's timed-out interrupts resume with. */
  onTimeout?: unknown;
  /** Durability of the graph's runs whose start does not set one. */
  durability?: Durability | undefined;
  /** LangChain callback handlers the graph's nodes get (`config.callbacks`). */
  callbacks?: readonly object[] | undefined;
}

export interface WorkerContext {
  db: Db;
  /** Every served graph stores through it; a run's last checkpoint goes with its end (putThen). */
  saver: PostgresSaver;
  dispatcher: Dispatcher;
  graphs: ReadonlyMap<string, ServedGraph>;
  workerId: string;
  logger: Logger;
  /** A job still busy after this long (ms) shows its pending run as running. */
  markRunningAfterMs: number;
  /** A job keeps advancing its thread in-process while under both limits, then enqueues. */
  budget: { steps: number; ms: number };
  /** The global default interrupt timeout (ms); null waits forever. */
  defaultTimeoutMs: number | null;
  metrics: Metrics;
  /** Runs cancelled while this worker runs them. */
  cancels: CancelWatch;
  /** The most a run event carries of what a run stored (bytes); 0 announces the status alone. */
  eventResultBytes: number;
  /**
   * Graphs whose registration — what producers check inputs against — is another version's than
   * this worker's, as its last registration found (registration.ts).
   */
  superseded: Set<string>;
  /** Registers the worker's graphs again now, bringing `superseded` up to date. */
  registerAgain: () => Promise<void>;
  /** Whether the process stood still long enough for a job's lock to lapse (lock-fence.ts). */
  pauses: PauseWatch;
  /** The jobs running here, lost when BullMQ fails to renew their locks (job-loss.ts). */
  losses: JobLosses;
}
