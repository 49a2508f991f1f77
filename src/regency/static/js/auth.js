import { ApiError, api } from '../../../web/static/js/api.js';
import { h, replace } from '../../../web/static/js/dom.js';
import { getLang, setLang, t } from './i18n.js';

function field(id, key, type, extra = {}) {
  return h('label', { for: id }, t(key), h('input', { id, name: id, type, required: true, ...extra }));
}

/** The setup screen (no account yet) or the login screen. */
export function showAuth(root, session, notice, done) {
  const setup = session.setup_pending;
  const error = h('p', { class: 'error', role: 'alert', hidden: !notice }, notice ?? '');
  const fail = (msg) => {
    error.textContent = msg;
    error.hidden = false;
  };
  const form = h(
    'form',
    { class: 'card auth', id: setup ? 'setup-form' : 'login-form' },
    h('h1', {}, t(setup ? 'auth.setup_title' : 'auth.login_title')),
    h('p', { class: 'muted' }, session.regency.name),
    setup && h('p', {}, t('auth.setup_help')),
    error,
    setup &&
      field('code', 'auth.code', 'text', {
        autocomplete: 'off',
        autocapitalize: 'characters',
        maxlength: 32,
      }),
    field('name', 'auth.name', 'text', { autocomplete: 'username', autocapitalize: 'none', maxlength: 32 }),
    field('password', 'auth.password', 'password', {
      autocomplete: setup ? 'new-password' : 'current-password',
      maxlength: 256,
    }),
    setup &&
      field('password2', 'auth.password2', 'password', { autocomplete: 'new-password', maxlength: 256 }),
    h('button', { type: 'submit', id: 'submit' }, t(setup ? 'auth.create' : 'auth.login')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (id) => form.querySelector(`#${id}`)?.value ?? '';
    const name = v('name').trim().toLowerCase();
    const password = v('password');
    if (setup) {
      if (password.length < 8) return fail(t('auth.password_short'));
      if (password !== v('password2')) return fail(t('auth.password_mismatch'));
    }
    try {
      done(
        setup
          ? await api('POST', '/api/v1/setup', { code: v('code').trim(), name, password })
          : await api('POST', '/api/v1/session', { name, password }),
      );
    } catch (err) {
      if (!(err instanceof ApiError)) return fail(t('app.error', { message: String(err) }));
      if (err.status === 429) return fail(t('auth.throttled'));
      if (setup && err.status === 403) return fail(t('auth.bad_code'));
      if (err.status === 401) return fail(t('auth.bad_login'));
      fail(t('app.error', { message: err.message }));
    }
  });
  const lang = h(
    'button',
    {
      type: 'button',
      class: 'link',
      id: 'lang',
      onclick: () => {
        setLang(getLang() === 'id' ? 'en' : 'id');
        showAuth(root, session, notice, done);
      },
    },
    t('app.lang'),
  );
  replace(root, h('header', { class: 'top' }, h('strong', {}, 'kampung-regency'), lang), form);
}
