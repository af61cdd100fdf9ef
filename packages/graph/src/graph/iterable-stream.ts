// What stream() and streamEvents() return, as LangGraph's (LangChain's IterableReadableStream): a
// web ReadableStream — getReader(), pipeThrough(), tee(), cancel(), and a Response's body — that
// is also the async iterator `for await` and next() read. Read lazily: nothing is pulled from the
// run ahead of a read. Cancelled (cancel(), return(), a break out of for await), it returns the
// source, which stops the run.

import type { ReadableStreamAsyncIterator } from "node:stream/web";

export class IterableReadableStream<T> extends ReadableStream<T> implements AsyncIterableIterator<T> {
  private reader: ReadableStreamDefaultReader<T> | undefined;
  /** Read to its end, failed, or returned: every next() after says done. */
  private ended = false;

  constructor(source: AsyncIterator<T>) {
    super(
      {
        async pull(controller) {
          const { done, value } = await source.next();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel(reason) {
          await source.return?.(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  private read(): ReadableStreamDefaultReader<T> {
    this.reader ??= this.getReader();
    return this.reader;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.ended) return { done: true, value: undefined };
    const reader = this.read();
    try {
      const { done, value } = await reader.read();
      if (!done) return { done: false, value };
    } catch (error) {
      this.end(reader);
      throw error;
    }
    this.end(reader);
    return { done: true, value: undefined };
  }

  async return(value?: unknown): Promise<IteratorResult<T>> {
    await this.cancelReading();
    return { done: true, value: value as T };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.cancelReading(error);
    throw error;
  }

  private end(reader: ReadableStreamDefaultReader<T>): void {
    this.ended = true;
    reader.releaseLock();
  }

  private async cancelReading(reason?: unknown): Promise<void> {
    if (this.ended) return;
    const reader = this.read();
    const cancelled = reader.cancel(reason);
    this.end(reader);
    await cancelled;
  }

  // Itself, as LangChain's: next() and a for await share one reader.
  override [Symbol.asyncIterator](): ReadableStreamAsyncIterator<T> {
    return this as unknown as ReadableStreamAsyncIterator<T>;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
