/**
 * Try a query: PRODUCT_SEARCH (with OBJECT_LOCALIZATION beside it) on a photo; the photo
 * with every searched region and detected object, each region's matches with their
 * scores against the recommended threshold, and one match side by side with its
 * reference image.
 */
import { call, listAll, message, parent } from '../api';
import { clear, field, h, idOf, notice } from '../dom';
import { figure, polyBox, type DrawnBox } from '../draw';
import { referencePicture } from '../reference-picture';
import { photoInput, type Photo } from '../photo-input';
import {
  CATEGORIES,
  MATCH_SCORE,
  type AnnotateImageResponse,
  type Explained,
  type GroupedResult,
  type ProductSet,
  type ReferenceImage,
  type SearchResult,
} from '../types';

export function renderQuery(root: HTMLElement): void {
  const set = h('select', { name: 'querySet', required: true });
  const category = h('select', { name: 'queryCategory' }, ...CATEGORIES.map((c) => h('option', { value: c }, c)));
  const filter = h('input', { name: 'queryFilter', placeholder: 'color = red AND brand = acme' });
  const maxResults = h('input', { name: 'queryMaxResults', type: 'number', min: 1, max: 500, value: 10 });
  const status = h('div', { 'aria-live': 'polite' });
  const results = h('div', { class: 'query-results' });
  let photo: Photo | undefined;

  const run = async () => {
    if (!photo) return clear(status, notice('info', 'Choose a photo first.'));
    if (!set.value) return clear(status, notice('error', 'Choose a product set (create one under Catalog).'));
    clear(status, notice('info', 'Searching…'));
    try {
      const res = await call<{ responses: AnnotateImageResponse[] }>('POST', `${parent()}/images:annotate`, {
        requests: [
          {
            image: photo.image,
            features: [
              { type: 'PRODUCT_SEARCH', maxResults: Number(maxResults.value) || 10 },
              { type: 'OBJECT_LOCALIZATION', maxResults: 50 },
            ],
            imageContext: {
              productSearchParams: { productSet: set.value, productCategories: [category.value], filter: filter.value.trim() },
            },
          },
        ],
      });
      const r = res.responses[0] ?? {};
      if (r.error) return clear(status, notice('error', `${r.error.message} (code ${r.error.code})`));
      clear(status);
      show(results, photo, r);
    } catch (e) {
      clear(status, notice('error', message(e)));
    }
  };

  const form = h(
    'form',
    {
      class: 'card query-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void run();
      },
    },
    h(
      'div',
      { class: 'row' },
      field('Product set', set),
      field('Category', category),
      field('Filter', filter, 'labels: (k = v OR k = w) AND k2 = v2'),
      field('Max results', maxResults),
    ),
    photoInput(
      (p) => {
        photo = p;
        void run();
      },
      (m) => clear(status, notice('error', m)),
    ),
    h('button', { type: 'submit' }, 'Search'),
  );
  clear(root, h('h1', {}, 'Try a query'), form, status, results);
  void listAll<ProductSet>(`${parent()}/productSets`, 'productSets').then(
    ({ items }) => {
      clear(set, ...items.map((s) => h('option', { value: s.name }, `${s.displayName} (${idOf(s.name)})`)));
      if (items.length === 0) clear(status, notice('info', 'No product sets here yet: create one under Catalog.'));
    },
    (e) => clear(status, notice('error', message(e))),
  );
}

function show(root: HTMLElement, photo: Photo, r: AnnotateImageResponse): void {
  const groups = r.productSearchResults?.productGroupedResults ?? [];
  const objects = r.localizedObjectAnnotations ?? [];
  const boxes: DrawnBox[] = [];
  groups.forEach((g, i) => {
    const b = polyBox(g.boundingPoly);
    if (b) boxes.push({ ...b, tone: i, kind: 'region', label: `${i + 1}`, data: { group: String(i) } });
  });
  objects.forEach((o) => {
    const b = polyBox(o.boundingPoly);
    if (b) boxes.push({ ...b, tone: 7, kind: 'object', dashed: true, label: `${o.name} ${o.score.toFixed(2)}`, data: { object: o.name } });
  });
  const compare = h('section', { class: 'compare', 'aria-live': 'polite', 'aria-label': 'Match detail' });
  const list = h('div', { class: 'groups' });
  groups.forEach((g, i) => list.append(groupCard(g, i, photo, compare)));
  clear(
    root,
    h(
      'div',
      { class: 'split photo' },
      h(
        'div',
        {},
        figure(photo.src || undefined, boxes, { alt: `Query photo ${photo.label} with ${groups.length} searched regions`, aspect: 4 / 3 }),
        h(
          'p',
          { class: 'legend' },
          h('span', { class: 'key region' }),
          'searched region (numbered) ',
          h('span', { class: 'key object' }),
          'detected object',
        ),
        photo.src ? null : notice('info', 'The server read this image; the page cannot show it, so the boxes are drawn on a blank frame.'),
      ),
      h(
        'div',
        {},
        h('h2', {}, `${groups.length} region${groups.length === 1 ? '' : 's'} searched`),
        threshold(),
        groups.length ? list : notice('info', 'No region matched anything in this set.'),
      ),
    ),
    compare,
  );
}

function threshold(): HTMLElement {
  return h(
    'p',
    { class: 'threshold' },
    `Scores at or above ${MATCH_SCORE} are matches (the recommended threshold, marked on each bar); below it, most likely a look-alike.`,
  );
}

const refs = new Map<string, Promise<ReferenceImage>>();
function reference(name: string): Promise<ReferenceImage> {
  let p = refs.get(name);
  if (!p) refs.set(name, (p = call<ReferenceImage>('GET', name)));
  return p;
}

function groupCard(g: GroupedResult, i: number, photo: Photo, compare: HTMLElement): HTMLElement {
  const names = (g.objectAnnotations ?? []).map((o) => `${o.name} ${o.score.toFixed(2)}`).join(', ');
  const matches = h('ol', { class: 'matches' });
  for (const res of g.results ?? []) matches.append(h('li', {}, matchButton(res, g, i, photo, compare)));
  return h(
    'article',
    { class: 'card group', 'data-group': String(i) },
    h(
      'h3',
      {},
      h('span', { class: `swatch tone${i % 8}` }, String(i + 1)),
      ' Region ',
      String(i + 1),
      names ? h('small', {}, ` · ${names}`) : null,
    ),
    (g.results ?? []).length ? matches : notice('info', 'No product in this region.'),
  );
}

function matchButton(res: SearchResult, g: GroupedResult, i: number, photo: Photo, compare: HTMLElement): HTMLElement {
  const isMatch = res.score >= MATCH_SCORE;
  const thumb = h('span', { class: 'thumb' });
  void reference(res.image).then(
    (ref) => clear(thumb, referencePicture(ref.boundingPolys ?? [], ref.uri, i)),
    () => undefined,
  );
  const bar = h(
    'span',
    { class: 'bar', role: 'img', 'aria-label': `score ${res.score.toFixed(3)} of 1, threshold ${MATCH_SCORE}` },
    h('span', { class: 'fill' }),
    h('span', { class: 'mark' }),
  );
  (bar.firstChild as HTMLElement).style.width = `${Math.max(0, Math.min(1, res.score)) * 100}%`;
  (bar.lastChild as HTMLElement).style.left = `${MATCH_SCORE * 100}%`;
  return h(
    'button',
    {
      class: `match ${isMatch ? 'hit' : 'near'}`,
      'data-product': idOf(res.product.name),
      'data-score': res.score.toFixed(4),
      onclick: () => void showCompare(compare, res, g, i, photo),
    },
    thumb,
    h('span', { class: 'who' }, h('strong', {}, res.product.displayName), h('small', {}, idOf(res.product.name))),
    h('span', { class: 'score' }, res.score.toFixed(3), h('small', {}, isMatch ? 'match' : 'look-alike')),
    bar,
  );
}

async function showCompare(root: HTMLElement, res: SearchResult, g: GroupedResult, i: number, photo: Photo): Promise<void> {
  const b = polyBox(g.boundingPoly);
  const left = figure(photo.src || undefined, b ? [{ ...b, tone: i, kind: 'region', label: `${i + 1}`, data: { group: String(i) } }] : [], {
    alt: `Query region ${i + 1}`,
    caption: `Query region ${i + 1}`,
    aspect: 4 / 3,
  });
  clear(root, h('h2', {}, 'Why it matched'), notice('info', 'Loading the reference image…'));
  try {
    const ref = await reference(res.image);
    // Which of the reference image's regions the query region resembles (Metapixel's
    // explainMatch; a result itself does not say). Without it, all regions are drawn alike.
    const explained = await call<Explained>('POST', `${ref.name}:explainMatch`, { image: photo.image, boundingPoly: g.boundingPoly }).catch(
      (e: unknown) => e as Error,
    );
    // proto3 JSON leaves out zeros (region 0, a similarity of 0).
    const regions =
      explained instanceof Error
        ? []
        : (explained.regions ?? []).map((r) => ({ ...r, index: r.index ?? 0, similarity: r.similarity ?? 0 }));
    const best = regions[0];
    clear(
      root,
      h(
        'h2',
        { tabindex: -1 },
        `Region ${i + 1} → ${res.product.displayName}: score ${res.score.toFixed(3)} (${res.score >= MATCH_SCORE ? 'match' : 'below the threshold'})`,
      ),
      h('div', { class: 'side-by-side' }, left, referencePicture(ref.boundingPolys ?? [], ref.uri, i, best?.index)),
      best
        ? h(
            'p',
            {},
            `Reference image ${idOf(ref.name)} of product ${idOf(res.product.name)}: query region ${i + 1} is most like its region ${best.index + 1} (${best.source}, similarity ${best.similarity.toFixed(3)}), highlighted.`,
          )
        : h(
            'p',
            {},
            `Reference image ${idOf(ref.name)} of product ${idOf(res.product.name)}; its indexed regions are those the query region is compared with.`,
          ),
      regions.length
        ? h(
            'table',
            { class: 'region-similarities' },
            h('caption', {}, 'Similarity of the query region with each indexed region (cosine, before the discounts that make the score)'),
            h(
              'thead',
              {},
              h('tr', {}, h('th', { scope: 'col' }, 'Region'), h('th', { scope: 'col' }, 'From'), h('th', { scope: 'col' }, 'Similarity')),
            ),
            h(
              'tbody',
              {},
              ...regions.map((r) =>
                h(
                  'tr',
                  { 'data-region': String(r.index), class: r === best ? 'best' : '' },
                  h('td', {}, `region ${r.index + 1}`),
                  h('td', {}, r.source),
                  h('td', {}, r.similarity.toFixed(3)),
                ),
              ),
            ),
          )
        : notice('info', `Which region matched is not known: ${message(explained as Error)}`),
    );
    (root.querySelector('h2') as HTMLElement).focus();
    root.scrollIntoView({ block: 'nearest' });
  } catch (e) {
    clear(root, notice('error', message(e)));
  }
}
