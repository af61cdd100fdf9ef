import type { Serializer } from "@layover/checkpoint";
import type { Pool } from "pg";
import { PostgresSaverError } from "./errors.ts";
import type { RetryOptions } from "./retry.ts";

/** When list deltas are rewritten as full values (the periodic snapshot). */
export interface ListDeltaOptions {
  /**
   * A delta becomes a snapshot once the deltas since the last snapshot hold at least as many
   * bytes as that snapshot, and at least this many. Snapshots thus grow geometrically and a
   * list's total storage stays within a small multiple of its final size.
   * @defaultValue 8192
   */
  minSnapshotBytes?: number;
  /**
   * …or once this many deltas follow the snapshot, whatever their size: bounds the rows a
   * read of a long chain of tiny appends fetches.
   * @defaultValue 256
   */
  maxChainLength?: number;
}

/** Every key PostgresSaverOptions has: a constructor refuses others. */
export const SAVER_OPTIONS = [
  "pool",
  "connectionString",
  "maxConnections",
  "schema",
  "serializer",
  "retry",
  "listDeltas",
  "listPageSize",
] as const satisfies readonly (keyof PostgresSaverOptions)[];

export interface PostgresSaverOptions {
  /** The pool to use. The saver never ends a pool it was given. Give this or `connectionString`. */
  pool?: Pool;
  /** Builds a pool the saver owns (and `close()` ends). */
  connectionString?: string;
  /**
   * Maximum connections of the pool built from `connectionString`.
   * @defaultValue 10
   */
  maxConnections?: number;
  /**
   * The schema holding the tables (`migrate()` creates it).
   * @defaultValue "layover"
   */
  schema?: string;
  /**
   * How values are turned into text.
   * @defaultValue jsonSerializer from @layover/checkpoint
   */
  serializer?: Serializer;
  /** Retries of transient failures (see RetryOptions for the defaults). */
  retry?: RetryOptions;
  /**
   * Store lists that grow by appending as deltas (when `put` is given `appends` hints), or
   * `false` to always store full values.
   * @defaultValue {} (enabled, with the ListDeltaOptions defaults)
   */
  listDeltas?: ListDeltaOptions | false;
  /**
   * Checkpoints `list()` fetches per round trip.
   * @defaultValue 50
   */
  listPageSize?: number;
}

/**
 * Refuses a page size or delta bound that is not a whole number (NaN, 2.5): taken, it failed each
 * later list or put with a Postgres error instead of the constructor with this one.
 */
export function checkSaverNumbers(options: PostgresSaverOptions): void {
  const check = (name: string, value: unknown, least: number) => {
    if (value !== undefined && (typeof value !== "number" || !Number.isSafeInteger(value) || value < least))
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `PostgresSaver's ${name} is a whole number of at least ${least}; got ${String(value)}.`,
      );
  };
  check("listPageSize", options.listPageSize, 1);
  if (options.listDeltas !== undefined && options.listDeltas !== false) {
    check("listDeltas.minSnapshotBytes", options.listDeltas.minSnapshotBytes, 0);
    check("listDeltas.maxChainLength", options.listDeltas.maxChainLength, 1);
  }
}
