/**
 * The layers of src/ and the rules that keep them (npm run lint:deps). A folder belongs to
 * one layer; a module may import its own layer and the layers below it, never one above.
 * Within a layer a folder imports only the folders listed after it, so no two folders
 * import each other. docs/architecture.md draws these same layers in this order;
 * test/architecture/architecture-doc.test.ts checks that it does.
 */
const layers = [
  { name: 'roots', folders: ['cli', 'app'] },
  { name: 'edges', folders: ['api'] },
  { name: 'services', folders: ['jobs', 'encode', 'annotate', 'catalog'] },
  { name: 'engines', folders: ['regions', 'search', 'vision', 'images', 'store'] },
  { name: 'kernel', folders: ['core', 'config'] },
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

const orderRules = layers.flatMap((layer) =>
  layer.folders.slice(1).map((folder, k) => ({
    name: `${layer.name}-order`,
    comment: `in ${layer.name}, ${folder} may import only the folders listed after it`,
    severity: 'error',
    from: { path: inFolders([folder]) },
    to: { path: inFolders(layer.folders.slice(0, k + 1)) },
  })),
);

module.exports = {
  forbidden: [
    ...layerRules,
    ...orderRules,
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
