export { createLogger, PAYLOAD_PATHS } from "@layover/runtime";
export { parseWorkerEnv, WorkerEnv } from "./config.ts";
export { createWorker, type GraphEntry, type WorkerOptions } from "./worker.ts";
