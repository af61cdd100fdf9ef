// Builders of checkpoints for this package's integration tests.
import { createHash, randomUUID } from "node:crypto";
import {
  type Checkpoint,
  type CheckpointKey,
  type CheckpointSaver,
  type ListAppend,
  newCheckpointId,
  type PutCheckpointArgs,
} from "@layover/checkpoint";

export function newKey(label: string): CheckpointKey {
  return { threadId: `${label}-${randomUUID()}`, ns: "" };
}

export function checkpointOf(values: Record<string, unknown>, versions: Record<string, number>): Checkpoint {
  return {
    v: 1,
    id: newCheckpointId(),
    ts: new Date().toISOString(),
    channelValues: values,
    channelVersions: versions,
    updatedChannels: Object.keys(values),
    pendingSends: [],
  };
}

export interface PutSpec {
  values: Record<string, unknown>;
  versions: Record<string, number>;
  changed: string[];
  parentId: string | null;
  expectedHead?: string | null;
  appends?: Record<string, ListAppend>;
  step?: number;
}

export function putArgs(key: CheckpointKey, spec: PutSpec): PutCheckpointArgs {
  const args: PutCheckpointArgs = {
    ...key,
    checkpoint: checkpointOf(spec.values, spec.versions),
    metadata: { source: "loop", step: spec.step ?? 0, writes: null },
    parentId: spec.parentId,
    changedChannels: spec.changed,
  };
  if (spec.expectedHead !== undefined) args.expectedHead = spec.expectedHead;
  if (spec.appends !== undefined) args.appends = spec.appends;
  return args;
}

/** A chat-like message with `size` characters of content that compresses poorly (so TOAST cannot hide sizes). */
export function message(i: number, size = 100): { role: string; content: string } {
  let content = "";
  for (let block = 0; content.length < size; block++) {
    content += createHash("sha256").update(`${i}/${block}`).digest("base64");
  }
  return { role: i % 2 === 0 ? "user" : "assistant", content: content.slice(0, size) };
}

/**
 * Puts `steps` checkpoints on `key`, each appending one message to `messages` (as the engine
 * does: new array, same item references, an append hint) and bumping `step`. Returns the
 * checkpoints and the list each one holds.
 */
export async function growList(
  saver: CheckpointSaver,
  key: CheckpointKey,
  steps: number,
  options: { hints?: boolean; size?: number } = {},
): Promise<{ ids: string[]; lists: unknown[][] }> {
  let list: unknown[] = [];
  let parentId: string | null = null;
  const ids: string[] = [];
  const lists: unknown[][] = [];
  for (let i = 0; i < steps; i++) {
    const next = [...list, message(i, options.size)];
    const args = putArgs(key, {
      values: { messages: next, step: i },
      versions: { messages: i + 1, step: i + 1 },
      changed: ["messages", "step"],
      parentId,
      step: i - 1,
      ...(i > 0 && options.hints !== false
        ? { appends: { messages: { baseVersion: i, baseLength: list.length } } }
        : {}),
    });
    await saver.put(args);
    ids.push(args.checkpoint.id);
    lists.push(next);
    parentId = args.checkpoint.id;
    list = next;
  }
  return { ids, lists };
}

/** A UUIDv7 checkpoint id for time `ms` (so tests can make history that looks old). */
export function idAt(ms: number, sequence = 0): string {
  const time = Math.floor(ms).toString(16).padStart(12, "0");
  const tail = createHash("sha256").update(`${ms}/${sequence}/${Math.random()}`).digest("hex");
  const seq = sequence.toString(16).padStart(3, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${seq}-8${tail.slice(0, 3)}-${tail.slice(3, 15)}`;
}
