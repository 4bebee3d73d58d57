/**
 * The console's shell: the project and location every view works in, the API key when
 * the server asks for one, and the views by URL fragment (#catalog, #query, …).
 */
import { apiKey, needKey, recentScopes, scope, setApiKey, setScope } from './api';
import { clear, field, h, notice } from './dom';
import { renderCatalog } from './views/catalog';
import { renderHealth } from './views/health';
import { renderLocalize } from './views/localize';
import { renderOperations } from './views/operations';
import { renderQuery } from './views/query';

type View = (root: HTMLElement) => void | (() => void);
const VIEWS: Record<string, { title: string; render: View; scoped: boolean }> = {
  catalog: { title: 'Catalog', render: renderCatalog, scoped: true },
  query: { title: 'Try a query', render: renderQuery, scoped: true },
  localize: { title: 'Object localization', render: renderLocalize, scoped: true },
  operations: { title: 'Operations', render: renderOperations, scoped: true },
  health: { title: 'Health', render: renderHealth, scoped: false },
};

const main = document.getElementById('main')!;
let cleanup: (() => void) | void;

function route(): void {
  const name = location.hash.slice(1).split('?')[0] || 'catalog';
  const view = VIEWS[name] ?? VIEWS.catalog;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.hash === `#${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${view.title} · Metapixel`;
  cleanup?.();
  cleanup = undefined;
  if (view.scoped && !scope().project) {
    clear(main, h('h1', {}, view.title), notice('info', 'Type a project ID (and location) above to begin.'));
    (document.querySelector('input[name=project]') as HTMLInputElement).focus();
    return;
  }
  cleanup = view.render(main);
}

function scopeForm(): HTMLElement {
  const s = scope();
  const recent = recentScopes();
  const project = h('input', {
    name: 'project',
    required: true,
    value: s.project,
    list: 'recent-projects',
    pattern: '[a-z0-9][a-z0-9-]*',
    autocomplete: 'off',
  });
  const loc = h('input', { name: 'location', required: true, value: s.location, list: 'recent-locations', autocomplete: 'off' });
  const keyBtn = h('button', { type: 'button', class: 'ghost', onclick: () => askKey() }, apiKey() ? 'API key ✓' : 'API key');
  needKey.listeners.add(() => {
    keyBtn.textContent = 'API key';
    askKey('The server needs an API key for this project.');
  });
  return h(
    'form',
    {
      class: 'scope',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        setScope({ project: project.value.trim(), location: loc.value.trim() });
        route();
      },
    },
    field('Project', project),
    field('Location', loc),
    h('datalist', { id: 'recent-projects' }, ...[...new Set(recent.map((r) => r.project))].map((p) => h('option', { value: p }))),
    h(
      'datalist',
      { id: 'recent-locations' },
      ...[...new Set([...recent.map((r) => r.location), 'us-west1', 'us-east1', 'europe-west1', 'asia-east1'])].map((l) =>
        h('option', { value: l }),
      ),
    ),
    h('button', { type: 'submit' }, 'Open'),
    keyBtn,
  );
}

const dialog = h('dialog', { 'aria-labelledby': 'key-title' });
function askKey(why?: string): void {
  if (dialog.open) return;
  const key = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', value: apiKey() });
  clear(
    dialog,
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: () => {
          setApiKey(key.value.trim());
          const btn = document.querySelector('.scope .ghost');
          if (btn) btn.textContent = apiKey() ? 'API key ✓' : 'API key';
          setTimeout(route);
        },
      },
      h('h2', { id: 'key-title' }, 'API key'),
      why ? notice('info', why) : null,
      field('Key', key, 'Sent as x-goog-api-key; kept in this browser tab only (sessionStorage).'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, 'Use key'),
        h('button', { type: 'button', class: 'ghost', onclick: () => dialog.close() }, 'Cancel'),
      ),
    ),
  );
  dialog.showModal();
  key.focus();
}

document.getElementById('scope')!.append(scopeForm());
document.body.append(dialog);
window.addEventListener('hashchange', () => {
  route();
  // A new view: keyboard and screen-reader users start at its content, not the nav.
  main.focus({ preventScroll: true });
});
route();
