// An in-process "the approvals changed" signal: a call asked for an approval, a person decided one, a call
// consumed one, or one expired. Listeners (the console's live inbox) re-read the store when it fires; the
// signal carries no record, so nothing is trusted from it. It only reaches this process: listeners must
// also poll the store to see what other replicas did.

export type ApprovalChangeListener = () => void;

export class ApprovalSignal {
  private readonly listeners = new Set<ApprovalChangeListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ApprovalChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tells every listener; a listener that throws cannot stop the others or the caller (DESIGN rule 15). */
  notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // A listener owns its errors; the change it missed shows on its next poll.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
