/**
 * Maps each detector's class indices to the shared Open Images vocabulary (display name
 * + Knowledge Graph MID, as Google's object localizer answers), from the manifest's label
 * lists. COCO classes with no exact Open Images twin carry the nearest class the
 * manifest chose (e.g. cup -> Coffee cup); see its labels_note.
 */
import { invalidArgument } from '../core/errors';
import { ModelEntry } from './model-manifest';

export interface OpenImagesClass {
  mid: string;
  name: string;
}

export class LabelMap {
  private constructor(
    readonly model: string,
    /** null for classes that are never reported (the SSD background). */
    private readonly classes: readonly (OpenImagesClass | null)[],
  ) {}

  static fromManifest(entry: ModelEntry): LabelMap {
    const labels = entry.labels;
    if (!labels || labels.length === 0) throw invalidArgument(`models manifest: ${entry.name} has no labels`);
    return new LabelMap(
      entry.name,
      labels.map((l) => {
        if (l.mid === null || l.open_images_name === null) return null;
        return { mid: l.mid, name: l.open_images_name };
      }),
    );
  }

  get size(): number {
    return this.classes.length;
  }

  /** The Open Images class of a model class index, or null (background / out of range). */
  lookup(classIndex: number): OpenImagesClass | null {
    return this.classes[classIndex] ?? null;
  }
}
