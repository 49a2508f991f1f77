import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';

/**
 * Diagnostik: the allow-listed diagnostics the daemon offers (GET /api/v1/diagnostics), each
 * with a small form for its arguments; steps stream in over SSE while the run goes on.
 */
export function diagnosticsView(main) {
  const list = h('section', { class: 'card' }, h('p', {}, t('app.loading')));
  const out = h(
    'section',
    { class: 'card' },
    h('h2', {}, t('diag.results')),
    h('ol', { id: 'diag-results', class: 'results' }),
  );
  replace(main, h('p', { class: 'muted' }, t('diag.help')), list, out);
  const results = out.querySelector('ol');
  const runs = new Map();

  api('GET', '/api/v1/diagnostics')
    .then((r) => renderList(list, r.items, (name, args) => run(name, args)))
    .catch((err) => replace(list, h('p', { class: 'error' }, t('app.error', { message: err.message }))));

  async function run(name, args) {
    const item = h(
      'li',
      { class: 'running' },
      h('strong', {}, label('diag', name)),
      ` — ${t('diag.running')}`,
      h('ul', { class: 'steps' }),
    );
    results.prepend(item);
    try {
      const r = await api('POST', `/api/v1/diagnostics/${name}`, { args });
      runs.set(r.id, item);
      item.className = r.ok ? 'ok' : 'failed';
      item.firstChild.nextSibling.textContent = ` — ${t(r.ok ? 'diag.ok' : 'diag.failed')} (${r.ms} ms)`;
      item.append(h('pre', {}, r.ok ? JSON.stringify(r.result, null, 2) : r.error));
    } catch (err) {
      item.className = 'failed';
      item.append(h('pre', {}, err.message));
    }
  }

  return {
    update(event, payload) {
      // Steps arrive before the POST answers; they are shown under the newest running entry.
      if (event !== 'diag' || payload?.kind !== 'diagnostic' || !payload.step) return;
      const item = runs.get(payload.id) ?? results.querySelector('li.running');
      item?.querySelector('.steps')?.append(h('li', {}, JSON.stringify(payload.step)));
    },
  };
}

/** The catalogue's description when it has one, else the module's English text. */
function describe(it) {
  const text = label('diagdesc', it.name);
  return text === it.name ? it.description : text;
}

export function renderList(el, items, onRun) {
  if (items.length === 0) return replace(el, h('p', { class: 'muted' }, t('diag.none')));
  replace(
    el,
    items.map((it) => {
      const props = it.args?.properties ?? {};
      const inputs = Object.entries(props).map(([k, s]) =>
        h(
          'label',
          {},
          k,
          h('input', {
            name: k,
            type: s.type === 'number' || s.type === 'integer' ? 'number' : 'text',
            placeholder: s.default ?? '',
          }),
        ),
      );
      const form = h(
        'form',
        { class: 'diag', dataset: { name: it.name } },
        h(
          'div',
          {},
          h('strong', {}, label('diag', it.name)),
          h('small', { class: 'muted' }, ` ${describe(it)}`),
        ),
        inputs,
        h('button', { type: 'submit', id: `run-${it.name}` }, t('diag.run')),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const args = {};
        for (const input of form.querySelectorAll('input')) {
          if (input.value === '') continue;
          args[input.name] = input.type === 'number' ? Number(input.value) : input.value;
        }
        onRun(it.name, args);
      });
      return form;
    }),
  );
}
