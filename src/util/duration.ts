/** Milliseconds as seconds for messages: `1.5 s`, `30 s`. */
export function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(3)} s`;
}
