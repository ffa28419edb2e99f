/**
 * Signal lets one async loop sleep until something happens elsewhere, without
 * polling. wait() resolves on the next notify(); a notify() with nobody waiting
 * is dropped, so check your condition before you wait.
 */
export class Signal {
  #waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  notify(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
