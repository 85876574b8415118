// Early stopping (official EarlyStopping): stop once fitness has not improved for `patience` epochs.

export interface EarlyStopState {
  bestFitness: number;
  bestEpoch: number;
}

export class EarlyStopping {
  readonly patience: number;
  state: EarlyStopState;
  /** Set by update(): the next epoch may be the last, so it gets validated even with --noval. */
  possibleStop = false;

  /** patience 0 (or less) never stops. */
  constructor(patience: number, state: EarlyStopState = { bestFitness: 0, bestEpoch: 0 }) {
    this.patience = patience > 0 ? patience : Infinity;
    this.state = { ...state };
  }

  /** Records an epoch's fitness; true when training should stop. Equal fitness counts as progress (early zero-mAP phase). */
  update(epoch: number, fitness: number): boolean {
    if (fitness >= this.state.bestFitness) this.state = { bestFitness: fitness, bestEpoch: epoch };
    const stale = epoch - this.state.bestEpoch;
    this.possibleStop = stale >= this.patience - 1;
    return stale >= this.patience;
  }
}
