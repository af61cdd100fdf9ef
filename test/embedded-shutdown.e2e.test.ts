// close() on a worker, a scheduler and a client releases every connection they opened, so a
// process that embeds them (a test runner, a serverless handler, a script) exits on its own.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { serviceEnv } from "@layover/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

const SCRIPT = fileURLToPath(new URL("./fixtures/embedded-services.ts", import.meta.url));
let h: Harness;

beforeAll(async () => {
  h = await createHarness("shutdown");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("a process that closes its worker, scheduler and client exits without process.exit", async () => {
  const child = spawn(process.execPath, [SCRIPT], {
    env: serviceEnv(h.deployment),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code, signal] = await once(child, "exit");
  clearTimeout(timer);
  expect(output).toContain("run success; closed");
  expect({ code, signal }).toEqual({ code: 0, signal: null });
}, 30_000);
