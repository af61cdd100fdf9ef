-- Layover runtime tables: graphs the workers serve, threads, runs and interrupts.
-- Postgres is the truth; Redis (BullMQ) only dispatches. Never edit this file once shipped:
-- add 0002_… instead.

-- Graphs registered by workers at start-up: producers check inputs against input_schema
-- without having the graph's code.
CREATE TABLE graphs (
  id            text PRIMARY KEY,
  input_schema  jsonb NOT NULL,
  -- { "timeoutMs"?: number, "onTimeout"?: json }: the graph's default interrupt timeout.
  options       jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE threads (
  id              text PRIMARY KEY,
  graph_id        text NOT NULL,
  status          text NOT NULL DEFAULT 'idle'
                  CHECK (status IN ('idle', 'busy', 'interrupted', 'error')),
  -- The run holding the thread (status busy or interrupted).
  current_run_id  uuid,
  head_checkpoint text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  id               uuid PRIMARY KEY,
  thread_id        text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  graph_id         text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('start', 'resume')),
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'success', 'interrupted', 'error', 'cancelled')),
  -- start: { input, config }; resume: { resume: { [interruptId]: value }, update? }
  input            jsonb NOT NULL,
  error            jsonb,
  idempotency_key  text,
  -- Set once the run's input (or resume) is recorded on the thread's checkpoints.
  prepared         boolean NOT NULL DEFAULT false,
  -- The checkpoint the run's next job advances from (null before the input is recorded).
  checkpoint_id    text,
  steps            integer NOT NULL DEFAULT 0,
  started_by       text,
  last_worker      text,
  parked_by        text,
  finished_by      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Next queued run of a thread; runs the reconciler must find (pending or running).
CREATE INDEX runs_thread_created ON runs (thread_id, created_at);
CREATE INDEX runs_active ON runs (updated_at) WHERE status IN ('pending', 'running');
CREATE UNIQUE INDEX runs_idempotency ON runs (thread_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE interrupts (
  thread_id       text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
  id              text NOT NULL,
  run_id          uuid NOT NULL,
  graph_id        text NOT NULL,
  task_id         text NOT NULL,
  node            text NOT NULL,
  -- The checkpoint the thread is parked at.
  checkpoint_id   text NOT NULL,
  value           jsonb,
  -- What interrupt() was given beside the value: timeoutMs, onTimeout, resumeSchema.
  options         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  deadline        timestamptz,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'resolved', 'expired', 'cancelled')),
  resolved_by     text,
  resolved_at     timestamptz,
  resume_value    jsonb,
  resume_run_id   uuid,
  idempotency_key text,
  PRIMARY KEY (thread_id, id)
);
-- The timeout sweep: pending interrupts by deadline (cost grows with the number due).
CREATE INDEX interrupts_pending_deadline ON interrupts (deadline) WHERE status = 'pending' AND deadline IS NOT NULL;
-- A thread's interrupts by status (resume, threads.get).
CREATE INDEX interrupts_thread_status ON interrupts (thread_id, status);
-- interrupts.list: by status, oldest first, keyset-paginated.
CREATE INDEX interrupts_status_created ON interrupts (status, created_at, thread_id, id);
