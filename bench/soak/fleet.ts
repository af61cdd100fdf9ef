// The soak's deployment: a fresh Postgres schema and BullMQ prefix, 3 worker and 2 scheduler
// processes, two producer clients (for racing resumes) and an observer's pool. `close()` removes
// all of it, whatever state the faults left it in.
import { type LayoverClient, STEP_QUEUE } from "@layover/runtime";
import {
  createTestSchema,
  type Deployment,
  deleteRedisPrefix,
  getRedis,
  uniqueRedisPrefix,
} from "@layover/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { benchClient } from "../support/client.ts";
import { withAppName } from "../support/cpu.ts";
import {
  type LogTally,
  type ServiceKind,
  type ServiceProcess,
  spawnService,
  stopServices,
} from "./services.ts";

export const WORKERS = 3;
export const SCHEDULERS = 2;

export interface SoakFleet {
  deployment: Deployment;
  /** application_name of the services' Postgres connections (and of no other connection). */
  serviceAppName: string;
  /** Two producers: racing resumes come from both. */
  clients: [LayoverClient, LayoverClient];
  /** The observer's pool: invariants and fault injection read and act through it. */
  pool: pg.Pool;
  queue: Queue;
  redisUrl: string;
  services: Map<string, ServiceProcess>;
  tally: LogTally;
  /** Kills nothing: starts the slot's next incarnation (after a fault killed the last one). */
  respawn(slot: string): Promise<ServiceProcess>;
  close(): Promise<void>;
}

type Cleanup = () => Promise<void>;

async function producer(deployment: Deployment, appName: string, identity: string, cleanups: Cleanup[]) {
  const { databaseUrl, redisUrl, schema, prefix } = deployment;
  const { client, close } = benchClient({
    databaseUrl,
    redisUrl,
    schema,
    prefix,
    appName,
    max: 10,
    identity,
  });
  cleanups.push(close);
  return client;
}

function serviceSlots(): Array<[string, ServiceKind]> {
  const slots: Array<[string, ServiceKind]> = [];
  for (let i = 1; i <= WORKERS; i++) slots.push([`worker-${i}`, "worker"]);
  for (let i = 1; i <= SCHEDULERS; i++) slots.push([`scheduler-${i}`, "scheduler"]);
  return slots;
}

/** The replicas by slot, a slot's next incarnation started on demand, all stopped by `cleanups`. */
function serviceSlotsOf(deployment: Deployment, cleanups: Cleanup[]) {
  const tally: LogTally = { levels: new Map(), errors: [], warnings: new Map() };
  const services = new Map<string, ServiceProcess>();
  const generations = new Map<string, number>();
  const killAll = () => {
    for (const service of services.values()) service.child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  cleanups.push(async () => {
    process.off("exit", killAll);
    await stopServices([...services.values()]);
  });
  const respawn = async (slot: string) => {
    const kind: ServiceKind = slot.startsWith("worker") ? "worker" : "scheduler";
    const generation = (generations.get(slot) ?? 0) + 1;
    generations.set(slot, generation);
    const service = spawnService(deployment, kind, slot, `${slot}.${generation}`, tally);
    services.set(slot, service);
    await service.started;
    return service;
  };
  return { tally, services, respawn };
}

/** Starts the deployment; resolves once every service logged its start. */
export async function startSoakFleet(log: (line: string) => void): Promise<SoakFleet> {
  const cleanups: Cleanup[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => {});
    })());
  try {
    const schema = await createTestSchema("soak");
    cleanups.push(() => schema.drop());
    const redisUrl = await getRedis();
    const prefix = uniqueRedisPrefix("soak");
    cleanups.push(() => deleteRedisPrefix(redisUrl, prefix));
    const serviceAppName = `layover-soak-${schema.name}`.slice(0, 63);
    const deployment = {
      databaseUrl: withAppName(schema.url, serviceAppName),
      redisUrl,
      schema: schema.name,
      prefix,
    };
    const pool = new pg.Pool({ connectionString: withAppName(schema.url, "layover-soak-observer"), max: 4 });
    cleanups.push(() => pool.end());
    const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(STEP_QUEUE, { connection: queueConnection, prefix });
    cleanups.push(async () => {
      await queue.close();
      queueConnection.disconnect();
    });

    const { tally, services, respawn } = serviceSlotsOf(deployment, cleanups);
    // One at a time: the first migrates the schema, the others find it done.
    for (const [slot] of serviceSlots()) await respawn(slot);
    log(`${WORKERS} workers and ${SCHEDULERS} schedulers started (schema ${schema.name}, prefix ${prefix})`);

    const plain = { ...deployment, databaseUrl: schema.url };
    const clients: [LayoverClient, LayoverClient] = [
      await producer(plain, "layover-soak-client-a", "client-a", cleanups),
      await producer(plain, "layover-soak-client-b", "client-b", cleanups),
    ];
    return { deployment, serviceAppName, clients, pool, queue, redisUrl, services, tally, respawn, close };
  } catch (error) {
    await close();
    throw error;
  }
}
