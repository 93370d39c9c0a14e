/** Flow control between the stream and the history writer. */
export interface HistoryBackpressure {
  /** True while the history buffer is full: stop fetching (consumer.pause). */
  isFull(): boolean;
  /** Resolves when the buffer has room again. */
  whenWritable(): Promise<void>;
  /** Resolves when every result saved so far is durable (then settle the panes they came from). */
  durable(): Promise<void>;
  /** Registers a listener for `full` / `drained`; returns a function that removes it. */
  on(event: 'full' | 'drained', listener: () => void): () => void;
}
