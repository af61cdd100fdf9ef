-- 0004: semantic search in the long-term store (PostgresStore with an index). Runs with
-- search_path set to the target schema, in one transaction, under the migration advisory lock
-- (see migrate.ts). Never edit this file once shipped: add 0005_*.sql instead.

-- Every put of an item counts: store_items.version is 0 when the item is first put and goes up by
-- one with each put of it (the upsert sets it; an instant column: no table rewrite).
ALTER TABLE store_items ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- One row per embedded text of an item: the vector of the text at `field` (a field path of the
-- store's index, or `path.i` for the i-th of several texts one path picks).
--   embedding  the embeddings model's numbers as real (4 bytes each, as pgvector's vector)
--   norm       the vector's length, computed once when it is stored: a search divides by it
--   version    the item's version the vector was made from: a search scores an item by the rows
--              of its current version only, so a put by a store without an index (which writes
--              no vectors, and spends no statement on the old ones) leaves rows that count for
--              nothing; an indexed store's put replaces them (store-vectors.ts)
-- Deleting an item deletes its rows (the foreign key's cascade). No extension is needed: a search
-- ranks the items under its prefix by an exact cosine similarity computed here, with no
-- approximate index (see store-read.ts).
-- Index: the primary key: an item's vectors (namespace, key) for a search's ranking, a put's
-- replacement and the cascade.
CREATE TABLE store_vectors (
  namespace text[] COLLATE "C" NOT NULL,
  key       text   COLLATE "C" NOT NULL,
  field     text   COLLATE "C" NOT NULL,
  embedding real[]           NOT NULL,
  norm      double precision NOT NULL,
  version   bigint           NOT NULL,
  PRIMARY KEY (namespace, key, field),
  FOREIGN KEY (namespace, key) REFERENCES store_items (namespace, key) ON DELETE CASCADE
);
