/**
 * Operations: imports, purges and async annotations of the location, with live progress
 * (GetOperationProgress, `…:progress`), the failed lines of a finished import, cancel,
 * and forms to start an import or a purge.
 */
import { call, listAll, message, parent } from '../api';
import { clear, field, fmtTime, h, idOf, notice } from '../dom';
import type { Operation, OperationProgress } from '../types';

const POLL_MS = 1000;

export function renderOperations(root: HTMLElement): () => void {
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('div', { class: 'ops' });
  let timer: number | undefined;
  let stopped = false;
  const refresh = async () => {
    window.clearTimeout(timer);
    try {
      const { items } = await listAll<Operation>(`${parent()}/operations`, 'operations', 2);
      const running = await render(list, items, refresh, status);
      if (!stopped && running) timer = window.setTimeout(() => void refresh(), POLL_MS);
    } catch (e) {
      clear(list, notice('error', message(e)));
    }
  };
  clear(
    root,
    h('h1', {}, 'Operations'),
    status,
    h('div', { class: 'split list-first' }, list, h('div', {}, importForm(status, refresh), purgeForm(status, refresh))),
  );
  void refresh();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

/** Draws the operations; true while one is still running. */
async function render(list: HTMLElement, ops: Operation[], refresh: () => Promise<void>, status: HTMLElement): Promise<boolean> {
  if (ops.length === 0) {
    clear(list, notice('info', 'No operations in this location.'));
    return false;
  }
  const progress = await Promise.all(ops.map((o) => call<OperationProgress>('GET', `${o.name}:progress`).catch(() => undefined)));
  const cards = ops
    .map((o, i) => ({ o, p: progress[i] }))
    .sort((a, b) => (b.p?.createTime ?? '').localeCompare(a.p?.createTime ?? ''))
    .map(({ o, p }) => opCard(o, p, refresh, status));
  clear(list, ...cards);
  // Poll until the operation itself is done too: the progress call comes second and may
  // already say FAILED while the operation read before it has no response (failed lines) yet.
  return ops.some((o, i) => !o.done || progress[i]?.done === false);
}

function opCard(o: Operation, p: OperationProgress | undefined, refresh: () => Promise<void>, status: HTMLElement): HTMLElement {
  const done = p?.done ?? o.done;
  const state = p?.state ?? o.metadata?.state ?? (done ? 'DONE' : 'RUNNING');
  // proto3 JSON leaves zero counts out.
  const total = Number(p?.totalLines ?? 0);
  const processed = Number(p?.processedLines ?? 0);
  const failed = Number(p?.failedLines ?? 0);
  const succeeded = Number(p?.succeededLines ?? 0);
  const meter = h('progress', {
    max: p?.totalKnown ? Math.max(total, 1) : null,
    value: p?.totalKnown ? processed : done ? 1 : null,
    'aria-label': `progress of ${idOf(o.name)}`,
  });
  const failures = (o.response?.statuses ?? []).map((s, line) => ({ s, line })).filter(({ s }) => s.code);
  return h(
    'article',
    { class: `card op ${state.toLowerCase()}`, 'data-operation': idOf(o.name), 'data-state': state },
    h('h3', {}, `${kindName(p?.kind)} `, h('small', {}, idOf(o.name)), ' ', h('span', { class: 'chip state' }, state)),
    meter,
    h(
      'p',
      { class: 'meta' },
      p
        ? `${processed}${p.totalKnown ? ` of ${total}` : ''} processed · ${succeeded} succeeded · ${failed} failed`
        : 'progress not available',
      p?.createTime ? ` · started ${fmtTime(p.createTime)}` : '',
      p?.updateTime ? ` · updated ${fmtTime(p.updateTime)}` : '',
    ),
    o.error ? notice('error', `${o.error.message} (code ${o.error.code})`) : null,
    failures.length
      ? h(
          'details',
          { open: failures.length <= 10 },
          h('summary', {}, `${failures.length} failed line${failures.length === 1 ? '' : 's'}`),
          h(
            'ol',
            { class: 'failures' },
            ...failures
              .slice(0, 200)
              .map(({ s, line }) =>
                h('li', {}, `${/^Line \d+:/.test(s.message ?? '') ? '' : `Line ${line}: `}${s.message ?? ''} (code ${s.code})`),
              ),
          ),
        )
      : null,
    done
      ? null
      : h(
          'button',
          {
            class: 'danger',
            onclick: async () => {
              try {
                await call('POST', `${o.name}:cancel`, {});
                clear(status, notice('ok', `Cancel requested for ${idOf(o.name)}.`));
                await refresh();
              } catch (e) {
                clear(status, notice('error', message(e)));
              }
            },
          },
          'Cancel',
        ),
  );
}

function kindName(kind: string | undefined): string {
  if (!kind) return 'Operation';
  if (/import/i.test(kind)) return 'Import';
  if (/purge/i.test(kind)) return 'Purge';
  if (/annotate/i.test(kind)) return 'Async annotate';
  return kind;
}

function importForm(status: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const uri = h('input', { name: 'importCsv', required: true, placeholder: 'gs://bucket/products.csv', pattern: 'gs://.+/.+' });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const op = await call<Operation>('POST', `${parent()}/productSets:import`, {
            inputConfig: { gcsSource: { csvFileUri: uri.value.trim() } },
          });
          clear(status, notice('ok', `Import started: ${idOf(op.name)}.`));
          await refresh();
        } catch (e) {
          clear(status, notice('error', message(e)));
        }
      },
    },
    h('h2', {}, 'Import a CSV'),
    field(
      'CSV in Cloud Storage',
      uri,
      'Google’s format: image-uri, image-id, product-set-id, product-id, category, display name, labels, bounding poly',
    ),
    h('button', { type: 'submit' }, 'Start import'),
  );
}

function purgeForm(status: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const set = h('input', { name: 'purgeSet', placeholder: 'product set ID' });
  const orphans = h('input', { type: 'checkbox', name: 'purgeOrphans' });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const what = orphans.checked ? 'every product in no set' : `every product of set ${set.value.trim()}`;
        if (!orphans.checked && !set.value.trim()) return clear(status, notice('error', 'Name a product set or choose orphan products.'));
        if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
        try {
          const body = orphans.checked
            ? { deleteOrphanProducts: true, force: true }
            : { productSetPurgeConfig: { productSetId: set.value.trim() }, force: true };
          const op = await call<Operation>('POST', `${parent()}/products:purge`, body);
          clear(status, notice('ok', `Purge started: ${idOf(op.name)}.`));
          await refresh();
        } catch (e) {
          clear(status, notice('error', message(e)));
        }
      },
    },
    h('h2', {}, 'Purge products'),
    field('Product set', set),
    h('label', { class: 'check' }, orphans, ' products in no set instead'),
    h('button', { type: 'submit', class: 'danger' }, 'Purge'),
  );
}
