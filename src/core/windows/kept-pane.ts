import { Pane, type PaneJSON } from './pane.js';
import type { PaneLayout } from './pane-layout.js';

/**
 * A merged pane the window cache keeps: the object while it still changes,
 * packed as its serialized text (version-2 JSON, one byte a character) once
 * it is only read. Packed, a pane costs its data and none of the objects and
 * typed arrays around it: 15-25% less at hundreds of values per feature,
 * about two thirds less at tens. Reading a packed pane restores a copy
 * (about 2 ms for a 25-feature block of 1,000 events, so a 1-hour window of
 * 12 blocks costs some 20 ms more to merge than from objects).
 */
export class KeptPane {
  private pane: Pane | undefined;
  private text: string | undefined;

  constructor(pane: Pane) {
    this.pane = pane;
  }

  /** The pane to change: restored and kept as an object until the next {@link pack}. */
  open(layout: PaneLayout): Pane {
    if (this.pane === undefined) {
      this.pane = restore(this.text!, layout);
      this.text = undefined;
    }
    return this.pane;
  }

  /** The pane to read (do not change it): the object, or a copy restored from the packed text. */
  view(layout: PaneLayout): Pane {
    return this.pane ?? restore(this.text!, layout);
  }

  /** Packs the pane into its text; a no-op when packed. */
  pack(): void {
    if (this.pane === undefined) return;
    this.text = JSON.stringify(this.pane.toJSON());
    this.pane = undefined;
  }

  /** True while packed. */
  get packed(): boolean {
    return this.pane === undefined;
  }
}

function restore(text: string, layout: PaneLayout): Pane {
  return Pane.fromJSON(JSON.parse(text) as PaneJSON, layout);
}
