// The "New container" form's rules (components/lib/form-model.ts, common/container-name.ts): the
// image it starts with, and the names it refuses before sending, with the engine's own limit.
import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, nameProblem } from '../../common/container-name';
import { defaultForm, defaultImage, formProblem } from '../../components/lib/form-model';
import { validateName } from '../../server/engine/containers/validate';

describe('new container form', () => {
  it('starts with the base image when it is here, whatever the order of the tags', () => {
    expect(defaultImage(['alpine:3', 'busybox:latest', 'base:latest'])).toBe('base:latest');
    expect(defaultImage(['alpine:3', 'base:v2'])).toBe('base:v2');
    expect(defaultImage(['alpine:3', 'busybox:latest'])).toBe('alpine:3');
    expect(defaultImage([])).toBe('');
  });

  it('refuses a name the engine would refuse, with a message naming the field and the limit', () => {
    const long = 'a'.repeat(5000);
    expect(formProblem({ ...defaultForm('base'), name: long })).toBe(`Name: at most ${MAX_NAME_LENGTH} characters, this one has 5000`);
    expect(formProblem({ ...defaultForm('base'), name: 'a'.repeat(128) })).toBeNull();
    expect(formProblem({ ...defaultForm('base'), name: '' })).toBeNull();
    expect(formProblem({ ...defaultForm('base'), name: 'bad name' })).toMatch(/^Name: bad name is not allowed/);
    // the same rule as the engine's
    for (const n of ['a'.repeat(128), 'web-1', 'x.y_z']) {
      expect(nameProblem(n)).toBeNull();
      expect(validateName(n)).toBe(n);
    }
    for (const n of ['a'.repeat(129), 'bad name', '-x', 'a']) {
      expect(nameProblem(n)).not.toBeNull();
      expect(() => validateName(n)).toThrow();
    }
  });
});
