-- 0001: the checkpoint tables. Runs with search_path set to the target schema, in one
-- transaction, under the migration advisory lock (see migrate.ts). Never edit this file once
-- shipped: add 0002_*.sql instead.

-- One row per (thread, namespace) — a "key": the head checkpoint, the compare-and-set point
-- of every put, and `key_id`, the short surrogate every other table is keyed by (a bigint
-- instead of the thread id's text in every row and index entry). `first_id` is the oldest
-- checkpoint still stored (UUIDv7: time-ordered), so retention finds threads with old
-- history without scanning the checkpoints. Moving the head changes no indexed column, so it
-- is a HOT update; fillfactor leaves room for it.
CREATE TABLE checkpoint_heads (
  thread_id text   NOT NULL,
  ns        text   NOT NULL,
  key_id    bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  head_id   uuid   NOT NULL,
  first_id  uuid   NOT NULL,
  PRIMARY KEY (thread_id, ns)
) WITH (fillfactor = 70);

CREATE INDEX checkpoint_heads_first_id_idx ON checkpoint_heads (first_id);

-- One row per checkpoint: channel versions and metadata; channel values only when they are
-- primitives (null, booleans, numbers, strings up to 64 characters: cheaper inline than as a
-- blob row and its index entry).
--   body             serialized [v, ts, updatedChannels, pendingSends, channels], where
--                    channels maps channel -> [version] or [version, inline value], in order
--   blob_versions    channel -> version of the channels whose value is in checkpoint_blobs
--   metadata         serialized metadata, exactly as put
--   metadata_filter  top-level metadata minus `writes`, as JSON, for `list({ filter })`
-- The primary key serves: head and by id, history newest first (backward scan), `before`,
-- and the metadata filter (history is always per thread: the key bounds the scan).
CREATE TABLE checkpoints (
  key_id           bigint NOT NULL,
  checkpoint_id    uuid  NOT NULL,
  parent_id        uuid,
  body             text  NOT NULL,
  blob_versions    json  NOT NULL,
  metadata         text  NOT NULL,
  metadata_filter  jsonb NOT NULL,
  PRIMARY KEY (key_id, checkpoint_id)
);

-- Channel values, once per (key, channel, version) — key = (thread, namespace). A row is either a full
-- value (base_version IS NULL) or, for a list that grew by appending, only the appended
-- items on top of the value at base_version (a delta). Bookkeeping for list rows:
--   item_count       the list's length at this version
--   snapshot_version the full row the delta chain starts from
--   chain_length     deltas since that full row (this one included)
--   chain_bytes      bytes of those deltas
--   snapshot_bytes   bytes of that full row
-- When chain_bytes outgrows the snapshot, the row is rewritten as a full value (geometric
-- snapshots: total storage stays linear in the list's size).
CREATE TABLE checkpoint_blobs (
  key_id           bigint  NOT NULL,
  channel          text    NOT NULL,
  version          bigint  NOT NULL,
  base_version     bigint,
  snapshot_version bigint,
  item_count       integer,
  chain_length     integer,
  chain_bytes      integer,
  snapshot_bytes   integer,
  data             text    NOT NULL,
  PRIMARY KEY (key_id, channel, version)
);

-- Pending writes of a checkpoint's tasks, upserted per (task, idx).
CREATE TABLE checkpoint_writes (
  key_id        bigint  NOT NULL,
  checkpoint_id uuid    NOT NULL,
  task_id       text    NOT NULL,
  idx           integer NOT NULL,
  channel       text    NOT NULL,
  data          text    NOT NULL,
  PRIMARY KEY (key_id, checkpoint_id, task_id, idx)
);
