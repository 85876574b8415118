// Jobs run one at a time in the order they were added, in the background of the code that adds them, with a bound
// on how many may wait: the producer goes on while they run, and is held back when it gets that far ahead.

import { integer } from './check.js';

export class OrderedJobs {
  /** The promises of the jobs added and not finished, oldest first; none rejects. */
  private readonly queued: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  /** `limit`: jobs waiting or running before add() waits for the oldest to finish. */
  constructor(private readonly limit: number) {
    integer('OrderedJobs: limit', limit, { min: 1 });
  }

  /**
   * Queues `job` after the others, first waiting while `limit` jobs are queued. Throws the error of a job that failed
   * before (the jobs queued after a failed one are not run).
   */
  async add(job: () => Promise<void>): Promise<void> {
    while (this.queued.length >= this.limit) await this.queued[0];
    this.throwIfFailed();
    const done = (this.queued.at(-1) ?? Promise.resolve())
      .then(() => (this.failure ? undefined : job()))
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.queued.shift();
      });
    this.queued.push(done);
  }

  /** Waits for every queued job to finish; throws the error of the first that failed. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every queued job to finish, failed or not. */
  async settle(): Promise<void> {
    while (this.queued.length > 0) await this.queued.at(-1);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
