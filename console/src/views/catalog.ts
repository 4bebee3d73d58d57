/**
 * Catalog: product sets (with product counts and index time), their products (labels,
 * category, reference images with the indexed regions), and every edit through the API.
 */
import { call, listAll, message, parent, uploadToGcs } from '../api';
import { clear, field, fmtTime, h, idOf, notice } from '../dom';
import { referencePicture } from '../reference-picture';
import { CATEGORIES, type KeyValue, type Product, type ProductSet, type ReferenceImage } from '../types';

interface State {
  root: HTMLElement;
  sets: HTMLElement;
  detail: HTMLElement;
  status: HTMLElement;
  /** Selected set name; '' = all products of the location. */
  selected: string;
}

export function renderCatalog(root: HTMLElement): void {
  const st: State = {
    root,
    sets: h('div', { class: 'set-list' }),
    detail: h('section', { class: 'detail', 'aria-label': 'Products' }),
    status: h('div', { 'aria-live': 'polite' }),
    selected: new URLSearchParams(location.hash.split('?')[1] ?? '').get('set') ?? '',
  };
  clear(
    root,
    h('h1', {}, 'Catalog'),
    st.status,
    h(
      'div',
      { class: 'split' },
      h('section', { class: 'sets', 'aria-label': 'Product sets' }, h('h2', {}, 'Product sets'), st.sets, createSetForm(st)),
      st.detail,
    ),
  );
  void loadSets(st);
}

function report(st: State, e: unknown): void {
  clear(st.status, notice('error', message(e)));
}

async function loadSets(st: State): Promise<void> {
  clear(st.sets, notice('info', 'Loading product sets…'));
  try {
    const { items } = await listAll<ProductSet>(`${parent()}/productSets`, 'productSets');
    const list = h('ul', { class: 'plain' });
    list.append(setItem(st, undefined));
    for (const s of items) list.append(setItem(st, s));
    clear(st.sets, list, items.length === 0 ? notice('info', 'No product sets in this location yet.') : null);
    void loadDetail(st);
  } catch (e) {
    clear(st.sets, notice('error', message(e)));
  }
}

function setItem(st: State, s: ProductSet | undefined): HTMLElement {
  const name = s?.name ?? '';
  const count = h('span', { class: 'count' }, '…');
  const btn = h(
    'button',
    {
      class: `set-item${st.selected === name ? ' selected' : ''}`,
      'aria-current': st.selected === name ? 'true' : null,
      'data-set': s ? idOf(name) : '*',
      onclick: () => select(st, name),
    },
    h('strong', {}, s ? s.displayName : 'All products'),
    h('small', {}, s ? `${idOf(name)} · indexed ${fmtTime(s.indexTime)}` : 'every product of the location'),
    count,
  );
  const path = s ? `${name}/products` : `${parent()}/products`;
  void listAll<Product>(path, 'products', 10).then(
    ({ items, more }) => (count.textContent = `${items.length}${more ? '+' : ''} product${items.length === 1 ? '' : 's'}`),
    () => (count.textContent = '?'),
  );
  return h('li', {}, btn);
}

function select(st: State, name: string): void {
  st.selected = name;
  history.replaceState(null, '', name ? `#catalog?set=${idOf(name)}` : '#catalog');
  for (const b of st.sets.querySelectorAll<HTMLButtonElement>('.set-item')) {
    const on = (b.dataset.set === '*' ? '' : `${parent()}/productSets/${b.dataset.set}`) === name;
    b.classList.toggle('selected', on);
    if (on) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  void loadDetail(st);
}

function createSetForm(st: State): HTMLElement {
  const id = h('input', { name: 'setId', placeholder: 'optional: assigned if empty', maxlength: 128, pattern: '[^/]*' });
  const display = h('input', { name: 'setDisplayName', required: true, maxlength: 4096 });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const q = id.value.trim() ? `?productSetId=${encodeURIComponent(id.value.trim())}` : '';
          const s = await call<ProductSet>('POST', `${parent()}/productSets${q}`, { displayName: display.value.trim() });
          st.selected = s.name;
          (ev.target as HTMLFormElement).reset();
          clear(st.status, notice('ok', `Created product set ${idOf(s.name)}.`));
          await loadSets(st);
        } catch (e) {
          report(st, e);
        }
      },
    },
    h('h3', {}, 'New product set'),
    field('Display name', display),
    field('ID', id),
    h('button', { type: 'submit' }, 'Create set'),
  );
}

async function loadDetail(st: State): Promise<void> {
  const name = st.selected;
  clear(st.detail, notice('info', 'Loading products…'));
  try {
    const head = h('div', { class: 'detail-head' });
    let products: Product[];
    let more: boolean;
    if (name) {
      const set = await call<ProductSet>('GET', name);
      ({ items: products, more } = await listAll<Product>(`${name}/products`, 'products', 10));
      head.append(h('h2', {}, set.displayName, ' ', h('small', {}, idOf(name))), setActions(st, set));
    } else {
      ({ items: products, more } = await listAll<Product>(`${parent()}/products`, 'products', 10));
      head.append(h('h2', {}, 'All products'));
    }
    const grid = h('div', { class: 'products' });
    for (const p of products) grid.append(productCard(st, p));
    clear(
      st.detail,
      head,
      productForm(st, undefined),
      products.length === 0 ? notice('info', name ? 'No products in this set yet.' : 'No products yet.') : null,
      grid,
      more ? notice('info', 'Showing the first 1,000 products.') : null,
    );
  } catch (e) {
    clear(st.detail, notice('error', message(e)));
  }
}

function setActions(st: State, set: ProductSet): HTMLElement {
  const display = h('input', { name: 'renameSet', value: set.displayName, required: true, maxlength: 4096 });
  return h(
    'div',
    { class: 'actions' },
    h(
      'form',
      {
        class: 'inline',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          try {
            await call('PATCH', `${set.name}?updateMask=displayName`, { displayName: display.value.trim() });
            await loadSets(st);
          } catch (e) {
            report(st, e);
          }
        },
      },
      field('Rename', display),
      h('button', { type: 'submit' }, 'Save'),
    ),
    h(
      'button',
      {
        class: 'danger',
        onclick: async () => {
          if (!confirm(`Delete product set ${idOf(set.name)}? Its products are kept.`)) return;
          try {
            await call('DELETE', set.name);
            st.selected = '';
            await loadSets(st);
          } catch (e) {
            report(st, e);
          }
        },
      },
      'Delete set',
    ),
  );
}

function parseLabels(text: string): KeyValue[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((kv) => {
      const eq = kv.indexOf('=');
      return eq < 0 ? { key: kv, value: '' } : { key: kv.slice(0, eq).trim(), value: kv.slice(eq + 1).trim() };
    });
}

/** The create form (no product) or the edit form of one. */
function productForm(st: State, p: Product | undefined, done?: () => void): HTMLElement {
  const id = h('input', { name: 'productId', placeholder: 'optional: assigned if empty', maxlength: 128 });
  const display = h('input', { name: 'productDisplayName', required: true, maxlength: 4096, value: p?.displayName ?? '' });
  const description = h('input', { name: 'productDescription', maxlength: 4096, value: p?.description ?? '' });
  const labels = h('input', {
    name: 'productLabels',
    placeholder: 'color=red, brand=acme',
    value: (p?.productLabels ?? []).map((l) => `${l.key}=${l.value}`).join(', '),
  });
  const category = h(
    'select',
    { name: 'productCategory', disabled: Boolean(p) },
    ...CATEGORIES.map((c) => h('option', { value: c, selected: p?.productCategory === c }, c)),
  );
  const form = h(
    'form',
    {
      class: p ? 'card edit' : 'card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const body = { displayName: display.value.trim(), description: description.value.trim(), productLabels: parseLabels(labels.value) };
        try {
          if (p) {
            await call('PATCH', `${p.name}?updateMask=displayName,description,productLabels`, body);
          } else {
            const q = id.value.trim() ? `?productId=${encodeURIComponent(id.value.trim())}` : '';
            const created = await call<Product>('POST', `${parent()}/products${q}`, { ...body, productCategory: category.value });
            if (st.selected) await call('POST', `${st.selected}:addProduct`, { product: created.name });
            clear(st.status, notice('ok', `Created product ${idOf(created.name)}${st.selected ? ` in ${idOf(st.selected)}` : ''}.`));
          }
          done?.();
          await loadSets(st);
        } catch (e) {
          report(st, e);
        }
      },
    },
    p ? null : h('h3', {}, st.selected ? `New product in ${idOf(st.selected)}` : 'New product'),
    h(
      'div',
      { class: 'row' },
      field('Display name', display),
      p ? null : field('ID', id),
      field('Category', category, p ? 'fixed once created' : undefined),
    ),
    h('div', { class: 'row' }, field('Labels', labels, 'key=value, comma-separated'), field('Description', description)),
    h('button', { type: 'submit' }, p ? 'Save product' : 'Create product'),
  );
  if (!p) return h('details', { class: 'create' }, h('summary', {}, 'New product…'), form);
  return form;
}

function productCard(st: State, p: Product): HTMLElement {
  const images = h('div', { class: 'refs' }, notice('info', 'Loading reference images…'));
  const body = h('div', {});
  const card = h(
    'article',
    { class: 'card product', 'data-product': idOf(p.name) },
    h('h3', {}, p.displayName, ' ', h('small', {}, idOf(p.name))),
    h(
      'p',
      { class: 'meta' },
      h('span', { class: 'chip cat' }, p.productCategory),
      ...(p.productLabels ?? []).map((l) => h('span', { class: 'chip' }, `${l.key}=${l.value}`)),
    ),
    p.description ? h('p', {}, p.description) : null,
    body,
    images,
    addImageForm(st, p, () => void loadImages(p, images, st)),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          onclick: () =>
            clear(
              body,
              productForm(st, p, () => clear(body)),
            ),
        },
        'Edit',
      ),
      st.selected
        ? h(
            'button',
            {
              onclick: async () => {
                try {
                  await call('POST', `${st.selected}:removeProduct`, { product: p.name });
                  await loadSets(st);
                } catch (e) {
                  report(st, e);
                }
              },
            },
            'Remove from set',
          )
        : null,
      h(
        'button',
        {
          class: 'danger',
          onclick: async () => {
            if (!confirm(`Delete product ${idOf(p.name)} and its reference images?`)) return;
            try {
              await call('DELETE', p.name);
              await loadSets(st);
            } catch (e) {
              report(st, e);
            }
          },
        },
        'Delete',
      ),
    ),
  );
  void loadImages(p, images, st);
  return card;
}

async function loadImages(p: Product, el: HTMLElement, st: State): Promise<void> {
  try {
    const { items } = await listAll<ReferenceImage>(`${p.name}/referenceImages`, 'referenceImages', 2);
    clear(el, items.length === 0 ? notice('info', 'No reference images: this product cannot be found by search yet.') : null);
    for (const r of items) {
      el.append(
        h(
          'div',
          { class: 'ref', 'data-reference-image': idOf(r.name) },
          referencePicture(r.boundingPolys ?? [], r.uri, 0),
          h(
            'button',
            {
              class: 'danger small',
              'aria-label': `Delete reference image ${idOf(r.name)}`,
              onclick: async () => {
                try {
                  await call('DELETE', r.name);
                  await loadImages(p, el, st);
                } catch (e) {
                  report(st, e);
                }
              },
            },
            'Delete image',
          ),
        ),
      );
    }
  } catch (e) {
    clear(el, notice('error', message(e)));
  }
}

/** Where the last photo was uploaded (a gs:// folder), offered for the next one; at first
 *  the server's METAPIXEL_CONSOLE_STAGING (a <meta> of the page). */
const STAGING_STORE = 'metapixel.staging';

function addImageForm(st: State, p: Product, done: () => void): HTMLElement {
  const photo = h('input', { type: 'file', name: 'imageFile', accept: 'image/*' });
  const uri = h('input', {
    name: 'imageUri',
    required: true,
    placeholder: 'gs://bucket/object.jpg, or gs://bucket/folder/ for a photo chosen above',
    pattern: 'gs://.+/.*',
    maxlength: 4096,
    value: localStorage.getItem(STAGING_STORE) ?? document.querySelector<HTMLMetaElement>('meta[name=metapixel-staging]')?.content ?? '',
  });
  const box = h('input', { name: 'imageBox', placeholder: 'optional: x0,y0,x1,y1 in pixels' });
  return h(
    'details',
    { class: 'add-image' },
    h('summary', {}, 'Add reference image…'),
    h(
      'form',
      {
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const nums = box.value.split(',').map((s) => Number(s.trim()));
          const file = photo.files?.[0];
          let target = uri.value.trim();
          if (file && target.endsWith('/')) target += file.name;
          if (target.endsWith('/')) return report(st, new Error('Name the object in that folder, or choose a photo to upload into it.'));
          const body: Record<string, unknown> = { uri: target };
          if (box.value.trim()) {
            if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n)))
              return report(st, new Error('The region must be four numbers: x0,y0,x1,y1.'));
            const [x0, y0, x1, y1] = nums;
            body.boundingPolys = [
              {
                vertices: [
                  { x: x0, y: y0 },
                  { x: x1, y: y0 },
                  { x: x1, y: y1 },
                  { x: x0, y: y1 },
                ],
              },
            ];
          }
          const btn = (ev.target as HTMLFormElement).querySelector('button')!;
          btn.disabled = true;
          try {
            if (file) {
              btn.textContent = 'Uploading…';
              await uploadToGcs(target, file);
              localStorage.setItem(STAGING_STORE, target.slice(0, target.lastIndexOf('/') + 1));
            }
            btn.textContent = 'Indexing…';
            await call('POST', `${p.name}/referenceImages`, body);
            clear(st.status, notice('ok', `Added ${body.uri as string} to ${idOf(p.name)}.`));
            (ev.target as HTMLFormElement).reset();
            (ev.target as HTMLFormElement).closest('details')?.removeAttribute('open');
            done();
          } catch (e) {
            report(st, e);
          } finally {
            btn.disabled = false;
            btn.textContent = 'Add image';
          }
        },
      },
      field('Photo from this computer', photo, 'Optional: uploaded through the server to the gs:// place below, then indexed.'),
      field(
        'Image in Cloud Storage',
        uri,
        'The API takes gs:// URIs: an object already there (metapixel import --staging, gsutil cp), or where the photo above goes.',
      ),
      field('Region', box, 'Empty: the server detects the regions of the product category.'),
      h('button', { type: 'submit' }, 'Add image'),
    ),
  );
}
