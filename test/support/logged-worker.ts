// An in-process worker logging as the worker CLI does at its defaults (LAYOVER_LOG_PAYLOADS
// unset), at debug, into a list the test reads; and a client of the same deployment.
import { Writable } from "node:stream";
import { createClient, createLogger, type LayoverClient } from "@layover/runtime";
import { createTestSchema, deleteRedisPrefix, getRedis, uniqueRedisPrefix } from "@layover/testing";
import { createWorker, type WorkerOptions } from "@layover/worker";
import pino from "pino";

export interface LoggedWorker {
  /** Every line the worker wrote, as written (pino JSON). */
  lines: string[];
  client: LayoverClient;
  redisUrl: string;
  prefix: string;
  close(): Promise<void>;
}

export async function loggedWorker(name: string, graphs: WorkerOptions["graphs"]): Promise<LoggedWorker> {
  const schema = await createTestSchema(name.replaceAll("-", "_"));
  const redisUrl = await getRedis();
  const prefix = uniqueRedisPrefix(name);
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: "debug", logPayloads: false, name: "layover-worker" }, stream);
  const deployment = { databaseUrl: schema.url, redisUrl, schema: schema.name, prefix };
  const worker = createWorker({ graphs, ...deployment, logger });
  await worker.start();
  const client = createClient({ ...deployment, logger: pino({ level: "silent" }) });
  const close = async () => {
    await worker.close();
    await client.close();
    await deleteRedisPrefix(redisUrl, prefix);
    await schema.drop();
  };
  return { lines, client, redisUrl, prefix, close };
}
