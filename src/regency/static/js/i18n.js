import { createI18n } from '../../../web/static/js/i18n-core.js';
import en from '../i18n/en.json';
import id from '../i18n/id.json';

const i18n = createI18n({ id, en }, 'kgw.regency.lang');

export const { getLang, setLang, t } = i18n;

/** As the technician page's, with a dash for a value the village has not reported. */
export function label(prefix, name) {
  return name === null || name === undefined ? '—' : i18n.label(prefix, name);
}
