import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { wib } from '../format.js';
import { label, t } from '../i18n.js';

const LEVELS = ['error', 'warn', 'info', 'debug'];

/** Log: the daemon's recent lines (in-memory ring), filtered by level, refreshed every 5 s. */
export function logView(main) {
  let level = 'info';
  const select = h(
    'select',
    { id: 'log-level' },
    LEVELS.map((l) => h('option', { value: l, selected: l === level }, l)),
  );
  const list = h('ol', { class: 'log', id: 'log-lines' });
  const audit = h('div', { id: 'audit' });
  select.addEventListener('change', () => {
    level = select.value;
    load();
  });
  replace(
    main,
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, `${t('log.level')} `, select),
      h('button', { type: 'button', onclick: () => load() }, t('log.refresh')),
    ),
    h('section', { class: 'card' }, list),
    h('section', { class: 'card' }, h('h2', {}, t('log.audit')), audit),
  );
  api('GET', '/api/v1/audit?limit=30')
    .then((r) =>
      replace(
        audit,
        r.entries.length === 0
          ? h('p', { class: 'muted' }, t('log.empty'))
          : h(
              'table',
              { class: 'small' },
              r.entries.map((e) =>
                h(
                  'tr',
                  { class: e.outcome === 'ok' ? '' : 'bad' },
                  h('td', {}, wib(e.at)),
                  h('td', {}, e.actor ?? '—'),
                  h('td', {}, label('audit', e.action)),
                  h('td', {}, label('outcome', e.outcome)),
                  h('td', {}, e.source ?? ''),
                ),
              ),
            ),
      ),
    )
    .catch(() => replace(audit, h('p', { class: 'muted' }, t('app.not_available'))));
  async function load() {
    const r = await api('GET', `/api/v1/log?level=${level}&limit=300`).catch(() => null);
    if (!r) return;
    if (r.lines.length === 0) return replace(list, h('li', { class: 'muted' }, t('log.empty')));
    replace(
      list,
      r.lines
        .slice()
        .reverse()
        .map(({ level: lv, line }) => {
          const { time, msg, component, level: _l, gw: _g, ...rest } = line;
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          return h(
            'li',
            { class: `lv-${lv}` },
            h('time', {}, wib(time, false)),
            h('b', {}, ` ${lv} `),
            component ? `[${component}] ` : '',
            msg ?? '',
            h('small', {}, extra),
          );
        }),
    );
  }
  load();
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, 5000);
  return {
    dispose() {
      clearInterval(timer);
    },
  };
}
