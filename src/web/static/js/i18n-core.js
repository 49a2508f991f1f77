/**
 * The pages' translation: Indonesian first, English as the switch, the choice kept in
 * localStorage under the page's own key. Shared by the technician page and the regency page.
 */
export function createI18n(catalogs, storageKey) {
  let lang = readLang();

  function readLang() {
    try {
      return localStorage.getItem(storageKey) === 'en' ? 'en' : 'id';
    } catch {
      return 'id';
    }
  }

  return {
    getLang: () => lang,

    setLang(next) {
      lang = next === 'en' ? 'en' : 'id';
      document.documentElement.lang = lang;
      try {
        localStorage.setItem(storageKey, lang);
      } catch {
        // private mode: the choice lasts for this page only
      }
    },

    /** Looks up a key in the current language, then Indonesian; fills {vars}. */
    t(key, vars) {
      const text = catalogs[lang][key] ?? catalogs.id[key] ?? key;
      if (!vars) return text;
      return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
    },

    /** A translated label if the catalogue has one for this prefix+name, else the name itself. */
    label(prefix, name) {
      const key = `${prefix}.${name}`;
      return key in catalogs[lang] ? catalogs[lang][key] : name;
    },
  };
}
