import type { Serializer } from "@layover/checkpoint";
import type { Pool, PoolClient } from "pg";
import { blobKey, decodeValue, type StoredBlob } from "./blob-codec.ts";
import { PostgresSaverError } from "./errors.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import { quoteSchema } from "./schema-name.ts";
import { compactBlobSql } from "./sql/compact-blob.ts";
import * as sql from "./sql/prune.ts";
import { inTransaction } from "./transaction.ts";

/** Which threads to prune: these ids, or (by checkpoint time, UUIDv7) history older than a date. */
export type PruneSelector = { threadIds: readonly string[] } | { olderThan: Date };
export type PruneStrategy = "keep_latest" | "delete";

export interface PruneResult {
  /** Threads that lost at least one checkpoint. */
  threads: number;
  checkpoints: number;
  blobs: number;
  writes: number;
  /** List deltas rewritten as full values because their chain was pruned. */
  materialized: number;
}

export interface PruneContext {
  pool: Pool;
  schema: string;
  serde: Serializer;
  retry: RetryOptions;
}

export interface DeletedRows {
  threads: number;
  checkpoints: number;
  blobs: number;
  writes: number;
}

/** Deletes threads on `client`, in the caller's transaction (PostgresSaver.deleteThreadsIn). */
type DeleteThreadsIn = (client: PoolClient, ids: readonly string[]) => Promise<DeletedRows>;

/** Threads pruned or deleted per transaction (delete) or between two pages of the walk. */
const BATCH = 100;
/** Heads read per page of the walk (most are left as they are: pruned before, or in use). */
const WALK_PAGE = 1_000;
const MAX_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff";
const MIN_ID = "00000000-0000-0000-0000-000000000000";

/** The smallest UUIDv7 of `date`: every checkpoint created before it sorts lower. */
export function boundaryId(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms) || ms < 0) {
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `prune: olderThan must be a valid date, got ${String(date)}.`,
    );
  }
  const hex = Math.floor(ms).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

function empty(): PruneResult {
  return { threads: 0, checkpoints: 0, blobs: 0, writes: 0, materialized: 0 };
}

function add(total: PruneResult, part: Partial<PruneResult>): void {
  total.threads += part.threads ?? 0;
  total.checkpoints += part.checkpoints ?? 0;
  total.blobs += part.blobs ?? 0;
  total.writes += part.writes ?? 0;
  total.materialized += part.materialized ?? 0;
}

interface BlobRef {
  /** checkpoint_heads.key_id (a bigint, as pg returns it: text). */
  keyId: string;
  channel: string;
  version: number;
}

const refKey = (ref: BlobRef) => `${ref.keyId}\u0000${blobKey(ref.channel, ref.version)}`;

/** Referenced deltas whose chain reaches a row no remaining checkpoint references: they must become full. */
function deltasToMaterialize(
  referenced: readonly BlobRef[],
  links: ReadonlyMap<string, number | null>,
): BlobRef[] {
  const keep = new Set(referenced.map(refKey));
  return referenced.filter((ref) => {
    let base = links.get(refKey(ref));
    while (base !== undefined && base !== null) {
      const link: BlobRef = { ...ref, version: base };
      if (!keep.has(refKey(link))) return true;
      base = links.get(refKey(link));
    }
    return false;
  });
}

function chainVersions(ref: BlobRef, links: ReadonlyMap<string, number | null>): number[] {
  const versions = [ref.version];
  let base = links.get(refKey(ref));
  while (base !== undefined && base !== null && versions.length <= links.size) {
    versions.push(base);
    base = links.get(refKey({ ...ref, version: base }));
  }
  return versions;
}

/** Rewrites one delta as its full value (decoded from its chain, serialized again). */
async function materialize(
  client: PoolClient,
  ctx: PruneContext,
  ref: BlobRef,
  links: ReadonlyMap<string, number | null>,
) {
  const s = quoteSchema(ctx.schema);
  const { rows } = await client.query<{ version: string; base_version: string | null; data: string }>(
    sql.blobDataSql(s),
    [ref.keyId, ref.channel, chainVersions(ref, links)],
  );
  const chain = new Map<string, StoredBlob>();
  for (const row of rows) {
    const baseVersion = row.base_version === null ? null : Number(row.base_version);
    chain.set(blobKey(ref.channel, Number(row.version)), { baseVersion, data: row.data });
  }
  const { value } = decodeValue(chain, ref.channel, ref.version, ctx.serde);
  const data = ctx.serde.dumps(value);
  await client.query(compactBlobSql(s), [ref.keyId, ref.channel, ref.version, data]);
}

/** Keeps only the rows the remaining checkpoints need, materializing deltas whose chain goes. */
async function pruneBlobs(client: PoolClient, ctx: PruneContext, threadId: string) {
  const s = quoteSchema(ctx.schema);
  const referenced = (await client.query(sql.referencedBlobsSql(s), [threadId])).rows.map(
    (row): BlobRef => ({ keyId: row.key_id, channel: row.channel, version: Number(row.version) }),
  );
  const links = new Map<string, number | null>();
  for (const row of (await client.query(sql.blobLinksSql(s), [threadId])).rows) {
    const ref = { keyId: row.key_id, channel: row.channel, version: Number(row.version) };
    links.set(refKey(ref), row.base_version === null ? null : Number(row.base_version));
  }
  const stale = deltasToMaterialize(referenced, links);
  for (const ref of stale) await materialize(client, ctx, ref, links);
  const deleted = await client.query(sql.deleteUnreferencedBlobsSql(s), [
    threadId,
    referenced.map((ref) => ref.keyId),
    referenced.map((ref) => ref.channel),
    referenced.map((ref) => ref.version),
  ]);
  return { blobs: deleted.rowCount ?? 0, materialized: stale.length };
}

/** keep_latest for one thread, in one transaction that holds its head rows. */
async function keepLatest(
  ctx: PruneContext,
  threadId: string,
  boundary: string,
): Promise<Partial<PruneResult>> {
  const s = quoteSchema(ctx.schema);
  return withRetry("prune", ctx.retry, () =>
    inTransaction(ctx.pool, async (client) => {
      const heads = await client.query(sql.lockHeadsSql(s), [threadId]);
      if (heads.rowCount === 0) return {};
      const checkpoints =
        (await client.query(sql.deleteOldCheckpointsSql(s), [threadId, boundary])).rowCount ?? 0;
      if (checkpoints === 0) return {};
      const writes = (await client.query(sql.deleteOrphanWritesSql(s), [threadId])).rowCount ?? 0;
      const blobs = await pruneBlobs(client, ctx, threadId);
      await client.query(sql.resetFirstIdsSql(s), [threadId]);
      return { threads: 1, checkpoints, writes, ...blobs };
    }),
  );
}

/** A row of a walk of the old heads (sql/prune.ts oldHeads); the last one says where it stands. */
interface OldHead {
  first_id: string;
  thread_id: string;
  ns: string;
  wanted: boolean;
}

/**
 * Walks the heads `sqlText` pages through, handing the wanted threads to `visit` BATCH at a
 * time: every head once per call, whatever `visit` leaves behind.
 */
async function walkOldHeads(
  ctx: PruneContext,
  sqlText: string,
  boundary: string,
  visit: (threadIds: readonly string[]) => Promise<void>,
): Promise<void> {
  let after: OldHead = { first_id: MIN_ID, thread_id: "", ns: "", wanted: false };
  for (;;) {
    const { rows } = await withRetry("prune", ctx.retry, () =>
      ctx.pool.query<OldHead>(sqlText, [boundary, after.first_id, after.thread_id, after.ns, WALK_PAGE]),
    );
    const wanted = [...new Set(rows.filter((row) => row.wanted).map((row) => row.thread_id))];
    for (let i = 0; i < wanted.length; i += BATCH) await visit(wanted.slice(i, i + BATCH));
    if (rows.length < WALK_PAGE) return;
    after = rows.at(-1) as OldHead;
  }
}

/**
 * Deletes those of `threadIds` whose every head is still older than `boundary` (or all of them,
 * without one), in one transaction: the heads are locked first and checked after, so a thread
 * that got a new head since the walk read it (a resume) is left as it is.
 */
async function deleteIdle(
  ctx: PruneContext,
  deleteIn: DeleteThreadsIn,
  threadIds: readonly string[],
  boundary?: string,
): Promise<DeletedRows> {
  return withRetry("prune", ctx.retry, () =>
    inTransaction(ctx.pool, async (client) => {
      if (boundary === undefined) return deleteIn(client, threadIds);
      const idle = await client.query<{ thread_id: string }>(
        sql.lockIdleThreadsSql(quoteSchema(ctx.schema)),
        [[...threadIds], boundary],
      );
      return deleteIn(
        client,
        idle.rows.map((row) => row.thread_id),
      );
    }),
  );
}

/** See `PostgresSaver.prune`. Each thread is pruned in its own short transaction. */
export async function pruneThreads(
  ctx: PruneContext,
  selector: PruneSelector,
  strategy: PruneStrategy,
  deleteIn: DeleteThreadsIn,
): Promise<PruneResult> {
  const total = empty();
  const ids = "threadIds" in selector ? [...new Set(selector.threadIds)] : undefined;
  const boundary = "olderThan" in selector ? boundaryId(selector.olderThan) : MAX_ID;
  switch (strategy) {
    case "delete": {
      if (ids === undefined)
        await walkOldHeads(ctx, sql.idleThreadsSql(quoteSchema(ctx.schema)), boundary, async (threadIds) =>
          add(total, await deleteIdle(ctx, deleteIn, threadIds, boundary)),
        );
      else if (ids.length > 0) add(total, await deleteIdle(ctx, deleteIn, ids));
      break;
    }
    case "keep_latest": {
      const keepSome = async (threadIds: readonly string[]) => {
        for (const id of threadIds) add(total, await keepLatest(ctx, id, boundary));
      };
      if (ids === undefined)
        await walkOldHeads(ctx, sql.threadsWithOldHistorySql(quoteSchema(ctx.schema)), boundary, keepSome);
      else await keepSome(ids);
      break;
    }
    default:
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `prune: unknown strategy ${JSON.stringify(strategy satisfies never)}; use "keep_latest" or "delete".`,
      );
  }
  return total;
}
