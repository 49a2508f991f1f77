import { api, optional, setCsrf, whenUnauthorized } from './api.js';
import { showAuth } from './auth.js';
import { h, replace } from './dom.js';
import { wib } from './format.js';
import { getLang, setLang, t } from './i18n.js';
import { live } from './live.js';
import { actionsView } from './views/actions.js';
import { redrawCharts } from './views/chart-parts.js';
import { devicesView } from './views/devices.js';
import { diagnosticsView } from './views/diagnostics.js';
import { logView } from './views/log.js';
import { overviewView } from './views/overview.js';
import { uplinkView } from './views/uplink.js';

const TABS = [
  ['ringkasan', 'tab.overview', overviewView],
  ['uplink', 'tab.uplink', uplinkView],
  ['perangkat', 'tab.devices', devicesView],
  ['diagnostik', 'tab.diagnostics', diagnosticsView],
  ['tindakan', 'tab.actions', actionsView],
  ['log', 'tab.log', logView],
];

const root = document.getElementById('app');
let session = null;
let current = null;
let unsubscribe = null;
let lastKeepAlive = 0;
let stopDemo = null;

setLang(getLang());
whenUnauthorized(() => boot(t('app.expired')));
live.onExpired = () => boot(t('app.expired'));

async function boot(notice) {
  live.stop();
  stopDemo?.();
  stopDemo = null;
  current?.dispose?.();
  current = null;
  session = await api('GET', '/api/v1/session').catch(() => null);
  if (!session) {
    replace(root, h('p', { class: 'card' }, t('app.error', { message: 'HTTP' })));
    return;
  }
  document.title = `${session.gateway.name} — kampung-gateway`;
  if (!session.authenticated) {
    setCsrf('');
    showAuth(root, session, notice, (s) => {
      setCsrf(s.csrf);
      boot();
    });
    return;
  }
  setCsrf(session.csrf);
  shell();
  live.start();
}

function tabFromHash() {
  const name = location.hash.replace(/^#/, '');
  return TABS.find((tab) => tab[0] === name) ?? TABS[0];
}

function shell() {
  const [active] = tabFromHash();
  const updated = h('span', { id: 'updated', class: 'updated' }, `${t('app.updated')}: —`);
  const banner = h('div', { id: 'stale', class: 'stale', hidden: true });
  const demo = h('section', { id: 'demo', class: 'card demo', hidden: true });
  const main = h('main', { id: 'view' });
  replace(
    root,
    h(
      'header',
      { class: 'top' },
      h(
        'div',
        { class: 'title' },
        h('strong', {}, session.gateway.name),
        h('small', {}, ` ${session.gateway.id}`),
      ),
      h(
        'div',
        { class: 'top-actions' },
        h('button', { id: 'lang', type: 'button', class: 'link', onclick: switchLang }, t('app.lang')),
        h(
          'button',
          { id: 'logout', type: 'button', class: 'link', onclick: logout },
          `${t('app.logout')} (${session.name})`,
        ),
      ),
    ),
    h(
      'nav',
      { class: 'tabs' },
      TABS.map(([id, key]) =>
        h('a', { href: `#${id}`, id: `tab-${id}`, class: id === active ? 'active' : '' }, t(key)),
      ),
    ),
    banner,
    demo,
    h('div', { class: 'status-line' }, updated),
    main,
  );
  unsubscribe?.();
  unsubscribe = live.subscribe(onLive);
  mount();
  showDemo(demo);
}

/** Only `kampung-gw demo` answers /api/v1/demo; then its panel (a chunk of its own) is shown. */
async function showDemo(el) {
  stopDemo?.();
  stopDemo = null;
  const first = await optional('/api/v1/demo').catch(() => null);
  if (!first || !el.isConnected) return;
  document.body.classList.add('is-demo');
  const { mountDemo } = await import('./demo.js');
  stopDemo = mountDemo(el, first);
}

function mount() {
  const [id, , view] = tabFromHash();
  for (const a of document.querySelectorAll('nav.tabs a')) a.classList.toggle('active', a.id === `tab-${id}`);
  current?.dispose?.();
  const main = document.getElementById('view');
  if (!main) return;
  replace(main);
  main.dataset.view = id;
  current = view(main);
  if (live.status) current.update?.('status');
}

function onLive(event, payload) {
  const updated = document.getElementById('updated');
  const banner = document.getElementById('stale');
  if (!updated || !banner) return;
  if (event === 'stale') {
    banner.hidden = !live.stale;
    document.body.classList.toggle('is-stale', live.stale);
    banner.textContent = t('app.stale', { time: wib(live.updatedAt, false) });
    return;
  }
  banner.hidden = true;
  document.body.classList.remove('is-stale');
  updated.textContent = `${t('app.updated')}: ${wib(live.updatedAt, false)}`;
  current?.update?.(event, payload);
}

function switchLang() {
  setLang(getLang() === 'id' ? 'en' : 'id');
  shell();
  onLive('status');
}

async function logout() {
  await api('DELETE', '/api/v1/session').catch(() => null);
  boot();
}

// Interaction keeps the session's idle timer alive; an open but untouched tab does not.
function keepAlive() {
  const now = Date.now();
  if (!session?.authenticated || now - lastKeepAlive < 60_000) return;
  lastKeepAlive = now;
  api('GET', '/api/v1/session').catch(() => null);
}
for (const ev of ['click', 'keydown', 'touchstart'])
  document.addEventListener(ev, keepAlive, { passive: true });

// Charts follow the width (a phone turned, a window resized); a height change alone — the
// mobile address bar sliding away — redraws nothing.
let drawnWidth = window.innerWidth;
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (window.innerWidth === drawnWidth) return;
    drawnWidth = window.innerWidth;
    redrawCharts();
  }, 200);
});

window.addEventListener('hashchange', () => {
  if (session?.authenticated) mount();
});
boot();
