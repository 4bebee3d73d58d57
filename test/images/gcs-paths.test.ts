/** gs:// names mapped into METAPIXEL_GCS_DIR: one object, one file, never an alias. */
import path from 'node:path';
import { localObjectPath, parseGsUri } from '../../src/images/gcs-fetch';

test('an object maps to DIR/bucket/object', () => {
  expect(localObjectPath('/data/gcs', 'b', 'x/y.jpg')).toBe(path.resolve('/data/gcs/b/x/y.jpg'));
});

test.each(['../b2/x.jpg', 'x/../../b2/x', './x.jpg', 'x//y.jpg', 'x/', '..'])(
  '"%s" is refused (it would alias another name or bucket)',
  (object) => {
    expect(() => localObjectPath('/data/gcs', 'b', object)).toThrow(expect.objectContaining({ code: 3 }));
  },
);

test('a bucket of "." or ".." is refused', () => {
  expect(() => localObjectPath('/data/gcs', '..', 'x.jpg')).toThrow(expect.objectContaining({ code: 3 }));
});

// Issue #15: gs://../o and gs://bkt/.. reached the storage emulator at other API paths.
test.each(['gs://../o', 'gs://./o', 'gs://bkt/..', 'gs://bkt/.', 'gs://b%2F..%2Fx/o', 'gs://bkt?x/o', 'gs://bkt#/o', 'gs://bkt/a\nb'])(
  '"%s" is not a gs:// object name',
  (uri) => {
    expect(() => parseGsUri(uri)).toThrow(expect.objectContaining({ code: 3 }));
  },
);

test('ordinary names still parse', () => {
  expect(parseGsUri('gs://my-bucket.example/a/b c.jpg')).toEqual({ bucket: 'my-bucket.example', object: 'a/b c.jpg' });
  expect(parseGsUri('gs://b/../x')).toEqual({ bucket: 'b', object: '../x' }); // one encoded path segment for the JSON API
});
