/** `promise`'s value, or undefined once `ms` have passed (or if it rejected), whichever is first. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, ms, undefined);
    }),
  ]).finally(() => clearTimeout(timer));
}
