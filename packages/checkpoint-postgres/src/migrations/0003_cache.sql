-- 0003: the node cache (PostgresCache). Runs with search_path set to the target schema, in one
-- transaction, under the migration advisory lock (see migrate.ts). Never edit this file once
-- shipped: add 0004_*.sql instead.

-- One row per entry: a task's cached writes under `key` in namespace `ns`.
--   ns          the namespace's labels as JSON text (JSON.stringify of the list): looked up by
--               exact match only (clear removes exactly the namespaces given, never those below),
--               so one text is cheaper to compare and index than a text[]
--   value       the checkpoint serializer's text (jsonSerializer.dumps), not jsonb: Dates, Maps,
--               Sets, BigInts… come back as they were set, and object key order is kept
--   expires_at  when the entry is gone (set: the server's now() + ttl); NULL: until cleared
-- Both key columns are COLLATE "C": equality is byte equality whatever the database's collation,
-- and comparisons in the index are memcmp, not the locale's.
-- Indexes:
--   cache_entries_pkey              get (one probe per key), set's upsert, clear (its ns prefix)
--   cache_entries_expires_at_idx    pruneExpired: the expired entries, oldest first, without
--                                   reading the entries that never expire (not in the index)
-- A set of a key already there changes no indexed column when its expiry stays NULL: a HOT
-- update where the page has room.
CREATE TABLE cache_entries (
  ns         text COLLATE "C" NOT NULL,
  key        text COLLATE "C" NOT NULL,
  value      text        NOT NULL,
  expires_at timestamptz NULL,
  PRIMARY KEY (ns, key)
) WITH (fillfactor = 90);

CREATE INDEX cache_entries_expires_at_idx ON cache_entries (expires_at) WHERE expires_at IS NOT NULL;
