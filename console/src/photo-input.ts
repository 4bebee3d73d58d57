/**
 * Where a photo comes in: a file chosen or dropped, an image pasted, or a URL (which the
 * server fetches: `imageUri`). Gives the picture to show and the API's Image message.
 */
import { field, h } from './dom';

export interface Photo {
  /** What <img> shows: a blob: URL of the file, or the URL itself. */
  src: string;
  label: string;
  image: { content: string } | { source: { imageUri: string } };
}

const MAX_BYTES = 7 * 1024 * 1024; // base64 grows it by 4/3: under the 10 MB request cap

export function photoInput(onPhoto: (p: Photo) => void, onError: (message: string) => void): HTMLElement {
  const file = h('input', { type: 'file', accept: 'image/*', name: 'photo', class: 'visually-hidden' });
  const drop = h(
    'label',
    { class: 'drop', tabindex: -1 },
    file,
    h('strong', {}, 'Drop a photo here'),
    h('span', {}, 'or click to choose one, or paste an image (Ctrl+V)'),
  );
  const take = async (f: File | null | undefined) => {
    if (!f) return;
    if (!f.type.startsWith('image/')) return onError(`${f.name} is not an image.`);
    if (f.size > MAX_BYTES) return onError(`${f.name} is larger than 7 MB; the API takes requests up to 10 MB.`);
    const content = await base64(f);
    onPhoto({ src: URL.createObjectURL(f), label: f.name || 'pasted image', image: { content } });
  };
  file.addEventListener('change', () => void take(file.files?.[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void take(e.dataTransfer?.files?.[0]);
  });
  const onPaste = (e: ClipboardEvent) => {
    if (!drop.isConnected) return document.removeEventListener('paste', onPaste);
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.type.startsWith('image/'));
    if (item) void take(item.getAsFile());
  };
  document.addEventListener('paste', onPaste);
  const url = h('input', { type: 'url', name: 'photoUrl', placeholder: 'https://… or gs://…' });
  const urlForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const u = url.value.trim();
        if (!u) return;
        // gs:// cannot be shown by the browser; the server reads it.
        onPhoto({ src: /^https?:/.test(u) ? u : '', label: u, image: { source: { imageUri: u } } });
      },
    },
    field('Or an image URL (fetched by the server)', url),
    h('button', { type: 'submit' }, 'Use URL'),
  );
  return h('div', { class: 'photo-input' }, drop, urlForm);
}

function base64(f: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('could not read the file'));
    r.readAsDataURL(f);
  });
}
