// What the soak asked the deployment and what it was told: the invariants compare Postgres with
// this at the end.

export type StoryKind =
  | "once"
  | "twice"
  | "timeout"
  | "cancel-pending"
  | "cancel-running"
  | "cancel-parked"
  | "multitask"
  | "cancel-queued"
  | "cancel-or-resume"
  | "leave-parked"
  | "slow-stream";

export interface ThreadEntry {
  threadId: string;
  kind: StoryKind;
  graphId: string;
  /** Every run a start or resume was told it recorded, in order. */
  runIds: string[];
  /** Runs whose cancel said "cancelled". */
  cancelled: string[];
  /** Approval threads: the answer each question took, as the producer was told (a timeout's included). */
  answers: string[];
  /** The story left a question for a person on purpose. */
  waitsForPerson: boolean;
  /** The questions' timeout, when they have one. */
  timeoutMs?: number;
  /** Set when a call failed unexpectedly and the story stopped: its thread's end is unknown. */
  abandoned?: string;
  /** The story ran to its end. */
  done: boolean;
  /** What the story's starts and resumes ask to stream; none: they stream nothing. */
  streamMode?: StreamMode;
}

/** One interrupt answered twice at once: by both clients, or by one client's retries with one key. */
export interface Race {
  threadId: string;
  interruptId: string;
  kind: "two-clients" | "idempotent" | "timeout" | "cancel-or-resume";
  /** Per call: the run it was told, or the error code it got. */
  outcomes: Array<{ runId?: string; error?: string }>;
}

/** What a streaming story's starts and resumes ask for. */
export type StreamMode = "updates" | ["updates", "custom"];

/** A part as the check needs it: its id, its event, and the nodes it names. */
export interface SeenPart {
  id: string;
  event: string;
  /** "updates": the nodes whose updates it carries ("__interrupt__" and the like left out); "custom": the node that wrote it. */
  nodes: string[];
  /** An update replayed from an earlier attempt's stored writes (`__metadata__.cached`): its node did not run again. */
  cached?: true;
}

/** What one reader of a run's stream saw (streams.ts). */
export interface StreamRead {
  runId: string;
  threadId: string;
  mode: StreamMode;
  /** When the start or resume that made the run was sent (ms since the epoch). */
  askedAt: number;
  /** Every part before an end, over the first read and the rejoined one, in order. */
  parts: SeenPart[];
  /** Every "end" part: its id, what it says, and when it came. */
  ends: Array<{ id: string; runId: string; status: string; at: number }>;
  /** Parts (of any event) that came after an end part. */
  afterEnd: number;
  rejoins: number;
  /** The error the stream threw, if it did. */
  error?: string;
}

export interface Ledger {
  threads: Map<string, ThreadEntry>;
  races: Race[];
  /** Calls that failed where nothing expected it. */
  unexpected: Array<{ threadId: string; call: string; error: string }>;
  calls: { starts: number; resumes: number; cancels: number; busyRefusals: number };
  /** Every stream a story read. */
  streams: StreamRead[];
}

export function newLedger(): Ledger {
  return {
    threads: new Map(),
    races: [],
    unexpected: [],
    calls: { starts: 0, resumes: 0, cancels: 0, busyRefusals: 0 },
    streams: [],
  };
}

export function addThread(ledger: Ledger, threadId: string, kind: StoryKind, graphId: string): ThreadEntry {
  const entry: ThreadEntry = {
    threadId,
    kind,
    graphId,
    runIds: [],
    cancelled: [],
    answers: [],
    waitsForPerson: false,
    done: false,
  };
  ledger.threads.set(threadId, entry);
  return entry;
}

/** An error's `code` (Layover's errors carry one), else its name. */
export function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === "string") return code;
    return `${String(name)}: ${String(message)}`;
  }
  return String(error);
}
