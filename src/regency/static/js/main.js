import { api, setCsrf, whenUnauthorized } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { showAuth } from './auth.js';
import { fleetIncidentsView } from './fleet-incidents.js';
import { getLang, setLang, t } from './i18n.js';
import { reportsView } from './reports.js';
import { villageView } from './village.js';
import { wallView } from './wall.js';

const root = document.getElementById('app');
let session = null;
let current = null;

/** Hash routes: #/ the wall, #/desa/CODE a village, #/insiden the incidents, #/laporan the reports. */
function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const village = hash.match(/^\/desa\/([0-9]{10})$/);
  if (village) return { name: 'village', code: village[1] };
  if (hash.startsWith('/laporan')) return { name: 'reports' };
  if (hash.startsWith('/insiden')) return { name: 'incidents' };
  return { name: 'wall' };
}

function shell() {
  const r = route();
  const tab = (href, key, on) => h('a', { href, class: on ? 'active' : undefined }, t(key));
  const main = h('main', { id: 'main' });
  replace(
    root,
    h(
      'header',
      { class: 'top' },
      h('div', {}, h('strong', {}, session.regency.name), ' ', h('small', {}, session.name)),
      h(
        'div',
        { class: 'top-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            id: 'lang',
            onclick: () => {
              setLang(getLang() === 'id' ? 'en' : 'id');
              show();
            },
          },
          t('app.lang'),
        ),
        h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, t('app.logout')),
      ),
    ),
    h(
      'nav',
      { class: 'tabs' },
      tab('#/', 'nav.wall', r.name === 'wall' || r.name === 'village'),
      tab('#/insiden', 'nav.incidents', r.name === 'incidents'),
      tab('#/laporan', 'nav.reports', r.name === 'reports'),
    ),
    main,
  );
  return { r, main };
}

function show() {
  current?.stop?.();
  const { r, main } = shell();
  if (r.name === 'village') current = villageView(main, r.code);
  else if (r.name === 'reports') current = reportsView(main, session.regency.name);
  else if (r.name === 'incidents') current = fleetIncidentsView(main);
  else current = wallView(main);
}

async function logout() {
  try {
    await api('DELETE', '/api/v1/session');
  } catch {
    // already gone: the login screen is the answer either way
  }
  start();
}

async function start(notice) {
  current?.stop?.();
  current = null;
  const s = await api('GET', '/api/v1/session');
  if (!s.authenticated) {
    showAuth(root, s, notice, () => start());
    return;
  }
  session = s;
  setCsrf(s.csrf);
  show();
}

whenUnauthorized(() => start());
window.addEventListener('hashchange', () => session && show());
document.documentElement.lang = getLang();
start().catch((err) => replace(root, h('p', { class: 'error' }, t('app.error', { message: String(err) }))));
