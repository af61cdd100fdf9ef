export { parseWorkerEnv, WorkerEnv } from "./config.ts";
export { createLogger, PAYLOAD_PATHS } from "./logger.ts";
export { createWorker, type GraphEntry, type WorkerOptions } from "./worker.ts";
