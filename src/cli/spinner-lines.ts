/** What writing lines next to a spinner needs of it (ora's spinner has these). */
export interface Redrawable {
  readonly isSpinning: boolean;
  /** Erases the spinner's frame, leaving the cursor where the frame began. */
  clear(): unknown;
  /** Draws the spinner's frame again at the cursor. */
  render(): unknown;
}

/**
 * The one way lines reach the terminal while a spinner may be showing there: the spinner is cleared
 * before each write and drawn again after it, so that a line never lands inside a spinner frame and
 * the spinner stays below the lines. Without a spinner (or once it stopped) the text is written as it
 * is.
 */
export class LinesAboveSpinner {
  #spinner: Redrawable | undefined;

  constructor(private readonly out: (text: string) => unknown) {}

  /** Keeps `spinner` below the lines written until the returned function releases it. */
  hold(spinner: Redrawable): () => void {
    this.#spinner = spinner;
    return () => {
      if (this.#spinner === spinner) this.#spinner = undefined;
    };
  }

  write(text: string): void {
    const spinner = this.#spinner?.isSpinning ? this.#spinner : undefined;
    spinner?.clear();
    this.out(text);
    spinner?.render();
  }
}
