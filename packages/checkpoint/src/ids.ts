import { randomFillSync } from "node:crypto";

const pool = Buffer.alloc(8 * 512);
let poolOffset = pool.length;
let lastMs = 0;
let sequence = 0;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString("hex", poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/**
 * A new checkpoint id: a UUIDv7 (48-bit millisecond time, 12-bit sequence, random tail).
 * Ids from one process sort in creation order as strings, and they fit Postgres `uuid`.
 */
export function newCheckpointId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      ms += 1;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  const time = ms.toString(16).padStart(12, "0");
  const seq = sequence.toString(16).padStart(3, "0");
  const tail = randomHex(8);
  const variant = ((Number.parseInt(tail.slice(0, 1), 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${seq}-${variant}${tail.slice(1, 4)}-${tail.slice(4, 16)}`;
}
