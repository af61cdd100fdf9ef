import { existsSync } from "node:fs";
import { request } from "node:http";

/** How long the Docker probe waits for `/_ping` before deciding there is no engine. */
const PING_TIMEOUT_MS = 1_500;

interface PingTarget {
  socketPath?: string;
  host?: string;
  port?: number;
}

function pingTarget(dockerHost: string | undefined): PingTarget | undefined {
  if (dockerHost === undefined || dockerHost === "") {
    return existsSync("/var/run/docker.sock") ? { socketPath: "/var/run/docker.sock" } : undefined;
  }
  if (dockerHost.startsWith("unix://")) return { socketPath: dockerHost.slice("unix://".length) };
  if (dockerHost.startsWith("tcp://") || dockerHost.startsWith("http://")) {
    const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  // ssh:// or npipe:// hosts: let testcontainers decide (it knows how to reach them).
  return { host: "__delegate__" };
}

/**
 * True when a Docker engine answers `GET /_ping` quickly (DOCKER_HOST, else the default
 * socket). Never lets a missing daemon hang the tests: testcontainers is only asked to start
 * anything after this says yes.
 */
export async function dockerIsReachable(dockerHost = process.env.DOCKER_HOST): Promise<boolean> {
  const target = pingTarget(dockerHost);
  if (target === undefined) return false;
  if (target.host === "__delegate__") return true;
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", method: "GET", timeout: PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
