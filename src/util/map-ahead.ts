// Work on the items of an async source with the next items' work started before the current result is taken, so
// that stages on different threads overlap (pre-processing the next video frame while ONNX Runtime infers this one),
// and the results still come in the source's order.

import { integer } from './check.js';

/**
 * `task(item)` for each item of `source`, yielded in the source's order, with at most `depth` tasks started and not
 * yet yielded. The source is read only while a task may start, so a consumer that stops taking results stops the
 * reading. A failing task or source throws at its place in the order; tasks started after it finish unobserved.
 * When the consumer stops early, a read still under way is left to end (make the source end it: an abort signal)
 * and the source is closed after it.
 */
export async function* mapAhead<T, R>(source: AsyncIterator<T>, task: (item: T) => Promise<R>, depth: number): AsyncGenerator<R> {
  integer('mapAhead: depth', depth, { min: 1 });
  const started: Promise<R>[] = [];
  const state: { reading: Promise<void> | null; done: boolean; failure: { error: unknown } | null; closed: boolean } = {
    reading: null,
    done: false,
    failure: null,
    closed: false,
  };
  const read = (): void => {
    if (state.reading || state.done || state.failure || state.closed || started.length >= depth) return;
    state.reading = source.next().then(
      (next) => {
        state.reading = null;
        if (state.closed) return;
        if (next.done) {
          state.done = true;
          return;
        }
        const result = Promise.resolve().then(() => task(next.value));
        // Rejections are thrown when their turn comes; until then (or when it never comes) they are not unhandled.
        result.catch(() => {});
        started.push(result);
        read();
      },
      (error: unknown) => {
        state.reading = null;
        state.failure = { error };
      },
    );
  };
  try {
    for (;;) {
      read();
      const head = started[0];
      if (head) {
        const result = await head;
        started.shift();
        read();
        yield result;
      } else if (state.reading) {
        await state.reading;
      } else if (state.failure) {
        throw state.failure.error;
      } else {
        return;
      }
    }
  } finally {
    state.closed = true;
    const closing = state.reading ? state.reading.then(() => source.return?.()) : source.return?.();
    if (state.reading) closing?.catch(() => {});
    else await closing;
  }
}
