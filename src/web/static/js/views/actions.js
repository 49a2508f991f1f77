import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';

/** Tindakan: the bundle download and the allow-listed actions (flush outbox, refresh cache...). */
export function actionsView(main) {
  const list = h('section', { class: 'card' }, h('p', {}, t('app.loading')));
  const result = h('pre', { id: 'action-result', class: 'result', hidden: true });
  replace(
    main,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('actions.bundle')),
      h('p', { class: 'muted' }, t('actions.bundle_help')),
      h('a', { class: 'button', id: 'bundle', href: '/api/v1/bundle', download: '' }, t('actions.bundle')),
    ),
    h('p', { class: 'muted' }, t('actions.help')),
    list,
    result,
  );
  api('GET', '/api/v1/actions')
    .then((r) =>
      replace(
        list,
        r.items.length === 0
          ? h('p', { class: 'muted' }, t('actions.none'))
          : r.items.map((it) =>
              h(
                'div',
                { class: 'action' },
                h(
                  'button',
                  { type: 'button', id: `action-${it.name}`, onclick: () => run(it.name) },
                  label('action', it.name),
                ),
                h('small', { class: 'muted' }, ` ${it.description}`),
              ),
            ),
      ),
    )
    .catch((err) => replace(list, h('p', { class: 'error' }, t('app.error', { message: err.message }))));

  async function run(name) {
    if (!window.confirm(t('actions.confirm', { name: label('action', name) }))) return;
    result.hidden = false;
    result.textContent = t('diag.running');
    try {
      const r = await api('POST', `/api/v1/actions/${name}`, {});
      result.textContent = `${t(r.ok ? 'diag.ok' : 'diag.failed')} (${r.ms} ms)\n${r.ok ? JSON.stringify(r.result, null, 2) : r.error}`;
    } catch (err) {
      result.textContent = t('app.error', { message: err.message });
    }
  }
  return {};
}
