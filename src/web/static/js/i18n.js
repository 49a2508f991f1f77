import en from '../i18n/en.json';
import id from '../i18n/id.json';
import { createI18n } from './i18n-core.js';

export const { getLang, setLang, t, label } = createI18n({ id, en }, 'kgw.lang');
