// The lab loader and the step Markdown conventions: what a teacher gets wrong is named with its
// file, and one broken lab does not keep the others from loading.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fillContainerNames, parseRunInfo, parseStepMarkdown } from '../../common/lab-markdown.js';
import { loadLabs } from '../../server/labs/loader.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
mkdirSync(join(repo, '.tmp'), { recursive: true });
const dir = mkdtempSync(join(repo, '.tmp', 'labs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lab(id: string, def: string, steps: Record<string, string>): void {
  mkdirSync(join(dir, id, 'steps'), { recursive: true });
  writeFileSync(join(dir, id, 'lab.ts'), `export default ${def};\n`);
  for (const [s, md] of Object.entries(steps)) writeFileSync(join(dir, id, 'steps', `${s}.md`), md);
}

const good = (id: string, extra = '') =>
  `{ id: '${id}', title: 'T', summary: 'S', order: 1, containers: [{ role: 'box', config: { image: 'base' }, terminal: true }, { role: 'two', config: { image: 'base' } }], steps: [{ id: 'one', title: 'One', checkLabel: 'x', check: () => true }${extra}] }`;

describe('step Markdown', () => {
  it('splits text, run blocks, hints and the what-just-happened note', () => {
    const p = parseStepMarkdown(
      'Do *this*:\n\n```run\nsleep 1\n```\n\n```run two background\nsleep 600\n```\n\n```sh\nnot a run block\n```\n\n## Hints\n- first `hint`\n- second\n\n## What just happened\nThe **kernel** did it.\n',
    );
    expect(p.runBlocks).toEqual([{ command: 'sleep 1' }, { command: 'sleep 600', target: 'two', background: true }]);
    expect(p.hints).toEqual(['first `hint`', 'second']);
    expect(p.whatHappened).toBe('The **kernel** did it.');
    expect(p.markdown).toContain('Do *this*');
    expect(p.markdown).toContain('not a run block');
    expect(p.markdown).not.toContain('Hints');
  });

  it('refuses what it cannot read, saying what', () => {
    expect(() => parseStepMarkdown('```run box extra\nx\n```\n')).toThrow(/run \[role\] \[background\] \[tty\]/);
    expect(() => parseStepMarkdown('```run\n\n```\n')).toThrow(/empty/);
    expect(() => parseStepMarkdown('## Hints\nnot a list\n')).toThrow(/one list/);
    expect(() => parseStepMarkdown('## Hints\n- a\n\n## Hints\n- b\n')).toThrow(/twice/);
    expect(() => parseStepMarkdown('```run docker\nrm -rf /\n```\n')).toThrow(/docker CLI command/);
    expect(() => parseStepMarkdown('```run docker background\ndocker ps\n```\n')).toThrow(/no role, background or tty/);
    expect(parseRunInfo('run box tty')).toEqual({ target: 'box', tty: true });
    expect(parseRunInfo('js')).toBeNull();
  });

  it('fills {{role}} with the session container names', () => {
    expect(fillContainerNames('docker kill {{bare}} {{nope}}', { bare: 'lab-x-bare' })).toBe('docker kill lab-x-bare {{nope}}');
  });
});

describe('loader', () => {
  it('loads the good labs and names the file and the reason for each broken one', async () => {
    lab('a-good', good('a-good'), { one: 'Text\n\n```run\ntrue\n```\n' });
    lab('b-dup-step', good('b-dup-step', `, { id: 'one', title: 'Again', checkLabel: 'y', check: () => true }`), { one: 'x' });
    lab('c-no-md', good('c-no-md'), {});
    lab('d-wrong-id', good('other'), { one: 'x' });
    lab('e-bad-role', good('e-bad-role'), { one: '```run nobody\nls\n```\n' });
    lab('f-syntax', '{ id: ', { one: 'x' });
    lab('g-dup-role', `{ id: 'g-dup-role', title: 'T', summary: 'S', order: 2, containers: [{ role: 'box', config: { image: 'base' }, terminal: true }, { role: 'box', config: { image: 'base' } }], steps: [{ id: 'one', title: 'One', checkLabel: 'x', check: () => true }] }`, { one: 'x' });
    lab('h-placeholder', good('h-placeholder'), { one: '```run docker\ndocker kill {{ghost}}\n```\n' });
    lab('i-no-terminal', `{ id: 'i-no-terminal', title: 'T', summary: 'S', order: 2, containers: [{ role: 'box', config: { image: 'base' } }], steps: [{ id: 'one', title: 'One', checkLabel: 'x', check: () => true }] }`, { one: 'x' });
    const { labs, errors } = await loadLabs(dir);
    expect(labs.map((l) => l.id)).toEqual(['a-good']);
    expect(labs[0].steps[0]).toMatchObject({ id: 'one', terminalRole: 'box', runBlocks: [{ command: 'true' }] });
    const byFile = Object.fromEntries(errors.map((e) => [e.file.replace(/^.*\.tmp\/labs-[^/]+\//, ''), e.message]));
    expect(byFile['b-dup-step/lab.ts']).toMatch(/"one" is used twice/);
    expect(byFile['c-no-md/steps/one.md']).toMatch(/no Markdown file/);
    expect(byFile['d-wrong-id/lab.ts']).toMatch(/not the folder's name/);
    expect(byFile['e-bad-role/steps/one.md']).toMatch(/role "nobody"/);
    expect(byFile['f-syntax/lab.ts']).toMatch(/cannot be imported/);
    expect(byFile['g-dup-role/lab.ts']).toMatch(/"box" is used twice/);
    expect(byFile['h-placeholder/steps/one.md']).toMatch(/\{\{ghost\}\}/);
    expect(byFile['i-no-terminal/lab.ts']).toMatch(/no terminal/);
    expect(errors).toHaveLength(8);
  });

  it('loads every lab of the repository', async () => {
    const { labs, errors } = await loadLabs();
    expect(errors).toEqual([]);
    for (const id of ['01-just-a-process', '02-pid-namespace', '06-uts-ipc']) expect(labs.map((l) => l.id)).toContain(id);
  });
});
