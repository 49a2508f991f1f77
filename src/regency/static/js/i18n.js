import en from '../i18n/en.json';
import id from '../i18n/id.json';

const CATALOGS = { id, en };
const KEY = 'kgw.regency.lang';
let lang = readLang();

function readLang() {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'id';
  } catch {
    return 'id';
  }
}

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'id';
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** Looks up a key in the current language, then Indonesian; fills {vars}. */
export function t(key, vars) {
  const text = CATALOGS[lang][key] ?? CATALOGS.id[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A translated label if the catalogue has one for this prefix+name, else the name itself. */
export function label(prefix, name) {
  if (name === null || name === undefined) return '—';
  const key = `${prefix}.${name}`;
  return key in CATALOGS[lang] ? CATALOGS[lang][key] : name;
}
