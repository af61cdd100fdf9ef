import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { within } from "./within.ts";

const GAUGE_READ_MS = 2_000;

/** When each gauge read when scraped was last read, and its read of the scrape under way. */
interface Reads {
  last: Map<string, number>;
  inFlight: Map<string, Promise<void>>;
}

/**
 * A gauge on `registry` whose value `show` sets from what `read` gives when scraped. A read that
 * fails or takes over 2 s (Postgres or Redis down) leaves the last value: the other metrics are
 * still served. Before its first read succeeds an unlabelled gauge shows NaN, not 0 (a replica
 * started during an outage would say "0 waiting" when it does not know).
 */
function scraped<T>(
  registry: Registry,
  gauge: { name: string; help: string; labelNames?: string[] },
  read: () => Promise<T>,
  show: (gauge: Gauge, value: T) => void,
  reads: Reads,
) {
  reads.last.set(gauge.name, Date.now());
  let known = false;
  return new Gauge({
    ...gauge,
    registers: [registry],
    collect() {
      const reading = (async () => {
        const value = await within(read(), GAUGE_READ_MS);
        if (value === undefined) {
          if (!known && gauge.labelNames === undefined) this.set(Number.NaN);
          return;
        }
        known = true;
        show(this, value);
        reads.last.set(gauge.name, Date.now());
      })();
      reads.inFlight.set(gauge.name, reading);
      return reading;
    },
  });
}

/**
 * How long ago each gauge read when scraped was last read: one whose read fails keeps its last
 * value, which this gauge's growing value tells from a fresh one (alert on it). prom-client
 * collects a scrape's metrics at once: this waits for the scrape's reads (started in the same
 * pass, so after a turn of the event loop's microtasks), else it showed the previous scrape's age.
 */
function readAgeGauge(registry: Registry, reads: Reads) {
  return new Gauge({
    name: "layover_gauge_read_age_seconds",
    help:
      "Seconds since each gauge read when scraped was last read: a read that fails (Postgres or Redis " +
      "away) leaves the gauge's last value, and this grows.",
    labelNames: ["gauge"],
    registers: [registry],
    async collect() {
      await Promise.resolve();
      await Promise.allSettled(reads.inFlight.values());
      for (const [gauge, at] of reads.last) this.set({ gauge }, (Date.now() - at) / 1000);
    },
  });
}

/** A counter kept elsewhere (a pool's), shown as it stands when scraped. */
function scrapedCounter(registry: Registry, name: string, help: string, read: () => number) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function workerMetrics(registry: Registry) {
  return {
    supersteps: new Counter({
      name: "layover_supersteps_total",
      help: "Supersteps committed by this worker.",
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: "layover_step_duration_seconds",
      help: "Time to run one superstep, whatever came of it (committed, paused, failed or stopped by a cancel).",
      // Up to 10 minutes: a node that calls a model or a tool takes seconds to minutes.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    jobs: new Counter({
      name: "layover_jobs_total",
      help:
        "Step jobs handled, by result (enqueued, parked, finished, failed, conflict, stale, cancelled; " +
        "lock_lost: the job's lock lapsed and another worker runs it; " +
        "error: the job threw and BullMQ retries it; unserved: handed back, its graph or this version of it is not served here; " +
        "postgres_down: put back to wait, unchanged, while Postgres cannot be reached).",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
}

function schedulerMetrics(registry: Registry) {
  return {
    expired: new Counter({
      name: "layover_interrupts_expired_total",
      help: "Interrupts the timeout sweep expired, answered by their timeout values (each thread resumed once for all of its due ones).",
      registers: [registry],
    }),
    reconciled: new Counter({
      name: "layover_runs_reconciled_total",
      help: "Runs re-enqueued because their job was missing from Redis or had failed every attempt.",
      registers: [registry],
    }),
    threadsPruned: new Counter({
      name: "layover_threads_pruned_total",
      help: "Threads deleted, with their runs, interrupts and checkpoints, for outliving THREAD_TTL_MS.",
      registers: [registry],
    }),
  };
}

/**
 * Layover's Prometheus metrics: one registry per process, served as text on /metrics, with
 * Node's process metrics (CPU, memory, event-loop lag) and the service's own.
 */
export function createMetrics<S extends "worker" | "scheduler">(service: S) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const own = (
    service === "worker" ? workerMetrics(registry) : schedulerMetrics(registry)
  ) as S extends "worker" ? ReturnType<typeof workerMetrics> : ReturnType<typeof schedulerMetrics>;
  const reads: Reads = { last: new Map(), inFlight: new Map() };
  readAgeGauge(registry, reads);
  return {
    registry,
    ...own,
    /** A gauge read when scraped (queue depth, parked interrupts). */
    gauge: (name: string, help: string, read: () => Promise<number>) =>
      scraped(registry, { name, help }, read, (gauge, value) => gauge.set(value), reads),
    /** A gauge by one label, read when scraped: the labels read are the series shown, the others go. */
    labelledGauge: (
      name: string,
      help: string,
      label: string,
      read: () => Promise<ReadonlyMap<string, number>>,
    ) =>
      scraped(
        registry,
        { name, help, labelNames: [label] },
        read,
        (gauge, values) => {
          gauge.reset();
          for (const [value, n] of values) gauge.set({ [label]: value }, n);
        },
        reads,
      ),
    counter: (name: string, help: string, read: () => number) => scrapedCounter(registry, name, help, read),
  };
}
export type Metrics = ReturnType<typeof createMetrics<"worker">>;
