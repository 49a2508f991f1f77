import { fileURLToPath } from 'node:url';

// Where the daemon's own files are. Every lookup goes through this module, at the top of src/:
// built, it is dist/paths.js (tsc) or one of the bundle's files, which all sit at dist/'s top
// level beside dist/main.js (scripts/build-bundle.mjs), so `./` is dist/ either way; under the
// tests it is src/. A module deeper in the tree must not look its files up from its own URL:
// in the bundle that URL is a chunk at dist/'s top level, not the module's folder.
const HERE = new URL('./', import.meta.url);

/** The package's own files, each as a file URL or path. */
export const OWN_FILES = {
  /** package.json (the version), one level above dist/ or src/. */
  packageJson: new URL('../package.json', HERE),
  /** dist/build-info.json (the commit), written by the build. */
  buildInfo: new URL('build-info.json', HERE),
  /** The technician page, built by scripts/build-web.mjs. */
  technicianStatic: fileURLToPath(new URL('web/static/', HERE)),
  /** The regency's fleet page, built beside it. */
  regencyStatic: fileURLToPath(new URL('regency/static/', HERE)),
  /** Banyuwangi's 203 villages, in the package's config/ folder. */
  villagesCsv: fileURLToPath(new URL('../config/banyuwangi-villages.csv', HERE)),
} as const;
