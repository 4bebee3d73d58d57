/**
 * Pictures with boxes: an image (or a placeholder where the browser cannot read the image)
 * with absolutely positioned boxes in percent of its size, so they stay put at any width.
 */
import { h } from './dom';
import type { BoundingPoly, Vertex } from './types';

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface DrawnBox extends Box {
  label?: string;
  /** Colour index, so a box and its list entry share a colour. */
  tone: number;
  kind: 'object' | 'region' | 'reference';
  /** Extra data-* attributes (tests and clicks find boxes by them). */
  data?: Record<string, string>;
  dashed?: boolean;
}

/** The rectangle around a polygon, normalized; pixel vertices need the image size. */
export function polyBox(poly: BoundingPoly, width = 1, height = 1): Box | undefined {
  const norm = poly.normalizedVertices?.length ? poly.normalizedVertices : undefined;
  const vs: Vertex[] = norm ?? poly.vertices ?? [];
  if (vs.length === 0) return undefined;
  const sx = norm ? 1 : width;
  const sy = norm ? 1 : height;
  const xs = vs.map((v) => (v.x ?? 0) / sx);
  const ys = vs.map((v) => (v.y ?? 0) / sy);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

export function figure(
  src: string | undefined,
  boxes: DrawnBox[],
  opts: { alt: string; caption?: string; aspect?: number } = { alt: '' },
): HTMLElement {
  const frame = h('div', { class: src ? 'frame' : 'frame placeholder' });
  if (src) frame.append(h('img', { src, alt: opts.alt, decoding: 'async' }));
  else {
    frame.style.aspectRatio = String(opts.aspect ?? 1);
    frame.setAttribute('role', 'img');
    frame.setAttribute('aria-label', opts.alt);
  }
  for (const b of boxes) frame.append(boxEl(b));
  return h('figure', { class: 'pic' }, frame, opts.caption ? h('figcaption', {}, opts.caption) : null);
}

function boxEl(b: DrawnBox): HTMLElement {
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  const el = h('div', { class: `box ${b.kind} tone${b.tone % 8}${b.dashed ? ' dashed' : ''}`, title: b.label ?? null });
  el.style.left = `${clamp(b.x0) * 100}%`;
  el.style.top = `${clamp(b.y0) * 100}%`;
  el.style.width = `${(clamp(b.x1) - clamp(b.x0)) * 100}%`;
  el.style.height = `${(clamp(b.y1) - clamp(b.y0)) * 100}%`;
  for (const [k, v] of Object.entries(b.data ?? {})) el.dataset[k] = v;
  if (b.label) el.append(h('span', { class: 'tag' }, b.label));
  return el;
}

/** A reference image's picture, read through the server, with its size in pixels. */
export interface Picture {
  src: string;
  width: number;
  height: number;
}

/**
 * A reference image with its indexed regions: on its picture when the server could read it
 * (`picture`), else on a placeholder, pixel regions placed within their common extent (the
 * image is at least that large) and normalized ones on a square.
 */
export function referenceFigure(polys: BoundingPoly[], uri: string, tone: number, highlight?: number, picture?: Picture): HTMLElement {
  const pixel = polys.filter((p) => !p.normalizedVertices?.length && p.vertices?.length);
  const w = picture?.width ?? Math.max(1, ...pixel.flatMap((p) => p.vertices!.map((v) => v.x ?? 0)));
  const hgt = picture?.height ?? Math.max(1, ...pixel.flatMap((p) => p.vertices!.map((v) => v.y ?? 0)));
  const boxes: DrawnBox[] = [];
  polys.forEach((p, i) => {
    const b = polyBox(p, w, hgt);
    if (b)
      boxes.push({
        ...b,
        tone: highlight === undefined || highlight === i ? tone : 7,
        kind: 'reference',
        label: `region ${i + 1}`,
        data: { region: String(i) },
      });
  });
  const regions = `${polys.length} indexed region${polys.length === 1 ? '' : 's'}`;
  return figure(picture?.src, boxes, {
    alt: `${picture ? 'Reference image' : 'Indexed regions of'} ${uri}`,
    aspect: pixel.length ? w / hgt : 1,
    caption: picture ? `${uri} — its ${regions}` : `${uri} — image not readable through the server; its ${regions} drawn to scale`,
  });
}
