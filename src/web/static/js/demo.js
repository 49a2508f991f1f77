// The demo panel: only `kampung-gw demo` has GET /api/v1/demo, and only then is this chunk
// loaded. It says that everything is simulated, starts the scenario, and for each step says
// what to look at, with the kiosks' last answers from /svc as the kiosks saw them.
import { ApiError, api } from './api.js';
import { h, replace } from './dom.js';
import { wib } from './format.js';
import { t } from './i18n.js';

const POLL_MS = 2000;

/** Mounts the panel into `el` and keeps it current; returns a function that stops it. */
export function mountDemo(el, first) {
  let view = first;
  let stopped = false;
  let timer;
  const draw = () => replace(el, ...panel(view, start));
  const poll = async () => {
    try {
      view = await api('GET', '/api/v1/demo');
      if (!stopped) draw();
    } catch {
      // the demo is stopping, or the session ended: the page handles that elsewhere
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };
  async function start() {
    try {
      await api('POST', '/api/v1/demo/scenario');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
    }
    clearTimeout(timer);
    await poll();
  }
  el.hidden = false;
  draw();
  timer = setTimeout(poll, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function panel(v, start) {
  const sc = v.scenario;
  const running = sc.state === 'running';
  const current = sc.step;
  const shown = current ?? (sc.state === 'done' ? 'done' : 'idle');
  const stale = v.last_stale;
  return [
    h(
      'div',
      { class: 'demo-head' },
      h('span', { class: 'demo-badge' }, 'DEMO'),
      h('strong', {}, t('demo.title')),
      h(
        'button',
        { id: 'demo-start', type: 'button', disabled: running, onclick: () => start() },
        running ? t('demo.running') : t('demo.start'),
      ),
    ),
    h('p', { class: 'demo-note' }, t('demo.note')),
    h(
      'ol',
      { class: 'demo-steps', id: 'demo-steps' },
      v.steps.map((name) =>
        h(
          'li',
          { class: name === current ? 'now' : '', dataset: { step: name } },
          h('strong', {}, t(`demo.step.${name}`)),
          name === current && ` — ${t('demo.now')}`,
        ),
      ),
    ),
    h('p', { class: 'demo-guide', id: 'demo-guide', dataset: { step: shown } }, t(`demo.guide.${shown}`)),
    h(
      'ul',
      { class: 'demo-facts' },
      h(
        'li',
        { id: 'demo-stale' },
        stale
          ? t('demo.stale', {
              kiosk: stale.kiosk,
              path: stale.path,
              date: t('demo.data_per', { time: wib(stale.data_date) }),
            })
          : t('demo.no_stale'),
      ),
      h(
        'li',
        { id: 'demo-writes' },
        t('demo.writes', {
          submitted: v.writes.submitted,
          queued: v.writes.queued,
          delivered: v.writes.queued_delivered,
          repeats: v.upstream.repeats,
        }),
      ),
      h('li', { id: 'demo-reads' }, t('demo.reads', { reads: readsText(v.reads) })),
      h(
        'li',
        {},
        `${t('demo.regency')}: `,
        h('a', { href: v.regency_url, target: '_blank', rel: 'noopener', id: 'demo-regency' }, v.regency_url),
      ),
    ),
  ];
}

function readsText(reads) {
  const parts = Object.entries(reads).map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}
