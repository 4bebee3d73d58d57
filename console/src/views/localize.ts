/** Object localization: OBJECT_LOCALIZATION on a photo, its boxes with names and scores. */
import { call, message, parent } from '../api';
import { clear, h, notice, table } from '../dom';
import { figure, polyBox, type DrawnBox } from '../draw';
import { photoInput, type Photo } from '../photo-input';
import type { AnnotateImageResponse } from '../types';

export function renderLocalize(root: HTMLElement): void {
  const status = h('div', { 'aria-live': 'polite' });
  const out = h('div', {});
  const run = async (photo: Photo) => {
    clear(status, notice('info', 'Detecting objects…'));
    try {
      const res = await call<{ responses: AnnotateImageResponse[] }>('POST', `${parent()}/images:annotate`, {
        requests: [{ image: photo.image, features: [{ type: 'OBJECT_LOCALIZATION', maxResults: 50 }] }],
      });
      const r = res.responses[0] ?? {};
      if (r.error) return clear(status, notice('error', `${r.error.message} (code ${r.error.code})`));
      clear(status);
      const objects = r.localizedObjectAnnotations ?? [];
      const boxes: DrawnBox[] = [];
      objects.forEach((o, i) => {
        const b = polyBox(o.boundingPoly);
        if (b) boxes.push({ ...b, tone: i, kind: 'object', label: `${o.name} ${o.score.toFixed(2)}`, data: { object: o.name } });
      });
      clear(
        out,
        h(
          'div',
          { class: 'split photo' },
          figure(photo.src || undefined, boxes, { alt: `${photo.label} with ${objects.length} detected objects`, aspect: 4 / 3 }),
          h(
            'div',
            {},
            h('h2', {}, `${objects.length} object${objects.length === 1 ? '' : 's'}`),
            objects.length
              ? table(
                  ['', 'Name', 'Score', 'Box (x, y ranges)'],
                  objects.map((o, i) => {
                    const b = polyBox(o.boundingPoly);
                    return h(
                      'tr',
                      {},
                      h('td', {}, h('span', { class: `swatch tone${i % 8}` }, String(i + 1))),
                      h('td', {}, o.name),
                      h('td', {}, o.score.toFixed(3)),
                      h('td', {}, b ? `${b.x0.toFixed(2)}–${b.x1.toFixed(2)}, ${b.y0.toFixed(2)}–${b.y1.toFixed(2)}` : '–'),
                    );
                  }),
                )
              : notice('info', 'No object found above the server’s minimum score.'),
          ),
        ),
      );
    } catch (e) {
      clear(status, notice('error', message(e)));
    }
  };
  clear(
    root,
    h('h1', {}, 'Object localization'),
    h(
      'div',
      { class: 'card' },
      photoInput(run, (m) => clear(status, notice('error', m))),
    ),
    status,
    out,
  );
}
