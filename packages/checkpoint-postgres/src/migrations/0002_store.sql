-- 0002: the long-term store (PostgresStore). Runs with search_path set to the target schema, in
-- one transaction, under the migration advisory lock (see migrate.ts). Never edit this file once
-- shipped: add 0003_*.sql instead.

-- One row per item: a JSON document under `key` in `namespace` (a path of labels, such as
-- {users,u1,memories}). Both are COLLATE "C": namespaces and keys order by code point (UTF-8
-- bytes), whatever the database's collation, as the store's contract and InMemoryStore do.
--   created_at  when the key was first put (kept by later puts)
--   updated_at  when it was last put; both to the millisecond, as JavaScript's Date holds them,
--               so the search order is the order of what callers see (see store-write.ts)
-- The primary key is the only index, and serves every statement:
--   get                       equality on (namespace, key)
--   search under a prefix P   the range P <= namespace < P' (P with its last label followed by
--                             U+0001, the least character a label can hold): exactly the
--                             namespaces that begin with P's labels, and only their rows
--   listNamespaces            one index probe per namespace it passes, never a scan of items
--                             (store-namespaces.ts)
-- Updates change no indexed column: they are HOT updates where the page has room.
CREATE TABLE store_items (
  namespace  text[] COLLATE "C" NOT NULL,
  key        text   COLLATE "C" NOT NULL,
  value      jsonb       NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (namespace, key),
  CHECK (cardinality(namespace) > 0 AND array_position(namespace, NULL) IS NULL),
  CHECK (jsonb_typeof(value) = 'object')
) WITH (fillfactor = 90);
