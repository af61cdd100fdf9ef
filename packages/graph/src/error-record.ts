// A failed task's error as pending writes keep it (`__error__`), and the Error it stands for when
// read back: its name, message and code, which is what crosses a pause or another worker.

export interface ErrorRecord {
  name: string;
  message: string;
  code?: string | undefined;
}

/** What is kept of `error`. */
export function errorRecord(error: unknown): ErrorRecord {
  const e = error as { name?: string; message?: string; code?: string };
  return { name: e?.name ?? "Error", message: e?.message ?? String(error), code: e?.code };
}

/** The Error a kept record stands for: its name, message and code. */
export function storedError(record: unknown): Error {
  const { name, message, code } = (record ?? {}) as Partial<ErrorRecord>;
  const error = new Error(message ?? "The node failed.");
  if (name !== undefined) error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}
