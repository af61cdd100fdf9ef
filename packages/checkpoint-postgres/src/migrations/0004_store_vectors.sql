-- 0004: semantic search in the long-term store (PostgresStore with an index). Runs with
-- search_path set to the target schema, in one transaction, under the migration advisory lock
-- (see migrate.ts). Never edit this file once shipped: add 0005_*.sql instead.

-- One row per embedded text of an item: the vector of the text at `field` (a field path of the
-- store's index, or `path.i` for the i-th of several texts one path picks).
--   embedding  the embeddings model's numbers as real (4 bytes each, as pgvector's vector)
--   norm       the vector's length, computed once when it is stored: a search divides by it
-- A put replaces its item's rows (store-vectors.ts); deleting an item deletes them (the foreign
-- key's cascade). No extension is needed: a search ranks the items under its prefix by an exact
-- cosine similarity computed here, with no approximate index (see store-read.ts).
-- Index: the primary key: an item's vectors (namespace, key) for a search's ranking, a put's
-- replacement and the cascade.
CREATE TABLE store_vectors (
  namespace text[] COLLATE "C" NOT NULL,
  key       text   COLLATE "C" NOT NULL,
  field     text   COLLATE "C" NOT NULL,
  embedding real[]           NOT NULL,
  norm      double precision NOT NULL,
  PRIMARY KEY (namespace, key, field),
  FOREIGN KEY (namespace, key) REFERENCES store_items (namespace, key) ON DELETE CASCADE
);
