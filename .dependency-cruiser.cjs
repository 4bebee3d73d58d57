/**
 * The layers of src/ and the rules that keep them (npm run lint:deps). A folder belongs to
 * one layer; a module may import its own layer and the layers below it, never one above,
 * and no two folders may import each other (directly or round a loop). docs/architecture.md
 * draws these same layers; test/architecture/architecture-doc.test.ts checks that it does.
 */
const layers = [
  { name: 'roots', folders: ['app', 'cli'], role: 'composition roots: the server (app) and the metapixel binary (cli)' },
  { name: 'edges', folders: ['api'], role: 'REST and gRPC adapters over the services' },
  {
    name: 'services',
    folders: ['catalog', 'annotate', 'encode', 'jobs'],
    role: 'the RPCs: catalog, annotate (PRODUCT_SEARCH, OBJECT_LOCALIZATION), encode, operations and jobs',
  },
  {
    name: 'engines',
    folders: ['regions', 'search', 'vision', 'images', 'store'],
    role: 'regions of an image, the search index, the models, image I/O, storage',
  },
  { name: 'kernel', folders: ['core', 'config'], role: 'errors, names, messages, call context, config' },
];

const inFolders = (folders) => `^src/(${folders.join('|')})/`;
const above = (i) => layers.slice(0, i).flatMap((l) => l.folders);

const layerRules = layers.slice(1).map((layer, k) => ({
  name: `${layer.name}-not-upward`,
  comment: `${layer.name} (${layer.folders.join(', ')}) may not import a layer above it`,
  severity: 'error',
  from: { path: inFolders(layer.folders) },
  to: { path: inFolders(above(k + 1)) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-folder-cycles',
      comment: 'two folders of src/ import each other, directly or round a loop',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'a runtime import loop between modules (type-only imports cannot make one)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'drivers-only-in-store-impls',
      comment: 'only src/store/<impl> talks to a database driver',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/(sqlite|mongo)/' },
      to: { path: '(^|/)node_modules/(better-sqlite3|mongodb)/' },
    },
    {
      name: 'transports-only-at-edges',
      comment: 'only the edges (and the roots that wire them) import express, grpc-js or protobufjs',
      severity: 'error',
      from: { path: '^src/', pathNot: inFolders(['api', 'app', 'cli']) },
      to: { path: '(^|/)node_modules/(express|@grpc/grpc-js|@grpc/proto-loader|protobufjs)/' },
    },
    {
      name: 'src-not-from-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|tools)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};

// Read by the docs check; kept off the enumerable keys that dependency-cruiser validates.
Object.defineProperty(module.exports, 'layers', { value: layers, enumerable: false });
