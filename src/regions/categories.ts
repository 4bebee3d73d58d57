/**
 * Product categories and the detector classes (Open Images names) that stand for products
 * of each, shared by reference-image ingestion, search and images:encode.
 */

/** Product category -> the Open Images classes (our detectors' vocabulary) that fit it. */
export const CATEGORY_CLASSES: Readonly<Record<string, readonly string[] | 'any'>> = {
  'apparel-v2': ['Footwear', 'Boot', 'High heels', 'Handbag', 'Backpack', 'Tie', 'Suitcase', 'Umbrella'],
  'homegoods-v2': [
    'Chair',
    'Table',
    'Desk',
    'Kitchen & dining room table',
    'Couch',
    'Bed',
    'Bench',
    'Mug',
    'Coffee cup',
    'Bowl',
    'Wine glass',
    'Vase',
    'Clock',
    'Houseplant',
    'Fork',
    'Knife',
    'Spoon',
    'Toaster',
    'Microwave oven',
    'Oven',
    'Refrigerator',
    'Sink',
    'Toilet',
    'Television',
    'Computer monitor',
    'Book',
  ],
  'toys-v2': ['Teddy bear', 'Kite', 'Ball', 'Flying disc', 'Skateboard', 'Bicycle', 'Car', 'Airplane', 'Boat', 'Train'],
  'packagedgoods-v1': ['Bottle', 'Box', 'Book', 'Mug', 'Coffee cup', 'Wine glass'],
  'general-v1': 'any',
};
// The legacy categories mean what their -v2 successors mean.
const LEGACY: Record<string, string> = { apparel: 'apparel-v2', homegoods: 'homegoods-v2', toys: 'toys-v2' };

export function classesForCategory(category: string): readonly string[] | 'any' {
  return CATEGORY_CLASSES[LEGACY[category] ?? category] ?? 'any';
}

/**
 * The product category a class belongs to: the first narrower category that lists it (in
 * CATEGORY_CLASSES order; e.g. Book is homegoods-v2 before packagedgoods-v1), else
 * general-v1, which takes every class.
 */
export function categoryOfClass(name: string): string {
  for (const [category, classes] of Object.entries(CATEGORY_CLASSES)) {
    if (classes !== 'any' && classes.includes(name)) return category;
  }
  return 'general-v1';
}

/** A category as its current name (the legacy apparel/homegoods/toys mean their -v2). */
export function canonicalCategory(category: string): string {
  return LEGACY[category] ?? category;
}
