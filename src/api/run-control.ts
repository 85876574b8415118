// What a library caller adds to a command's options: where the printed lines go and how to stop a run.

export interface RunControl {
  /** Where the lines the command prints go (default console.log). */
  log?: (line: string) => void;
  /** Stops the run at the next safe point, as Ctrl-C does on the command line. */
  signal?: AbortSignal;
}

export const defaultLog = (line: string): void => console.log(line);
