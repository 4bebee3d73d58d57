/** gs:// names mapped into METAPIXEL_GCS_DIR: one object, one file, never an alias. */
import path from 'node:path';
import { localObjectPath } from '../../src/images/gcs-fetch';

test('an object maps to DIR/bucket/object', () => {
  expect(localObjectPath('/data/gcs', 'b', 'x/y.jpg')).toBe(path.resolve('/data/gcs/b/x/y.jpg'));
});

test.each(['../b2/x.jpg', 'x/../../b2/x', './x.jpg', 'x//y.jpg', 'x/', '..'])('"%s" is refused (it would alias another name or bucket)', (object) => {
  expect(() => localObjectPath('/data/gcs', 'b', object)).toThrow(expect.objectContaining({ code: 3 }));
});

test('a bucket of "." or ".." is refused', () => {
  expect(() => localObjectPath('/data/gcs', '..', 'x.jpg')).toThrow(expect.objectContaining({ code: 3 }));
});
