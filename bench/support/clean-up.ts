/** Clean-up that runs however a benchmark ends. */

/**
 * Runs `body`, then `cleanUp` once: after it returns or throws, or on SIGINT/SIGTERM (then the
 * process exits with 130), so the schemas and databases a benchmark creates never outlive it.
 */
export async function withCleanUp(cleanUp: () => Promise<void>, body: () => Promise<void>): Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    done ??= cleanUp();
    return done;
  };
  const onSignal = () => {
    void once().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await body();
  } finally {
    await once();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
