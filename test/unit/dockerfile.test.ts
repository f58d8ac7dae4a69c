// The Dockerfile parser and the argument language (shell-words.ts), and the path patterns
// (.dockerignore, COPY globs): no kernel needed.
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../server/engine/build/dockerfile.js';
import { globMatch, isIgnored, parseDockerignore } from '../../server/engine/build/patterns.js';
import { expandWord, expandWords, parseKeyValues, splitWords } from '../../server/engine/build/shell-words.js';

describe('parseDockerfile', () => {
  it('stages, AS names, meta ARGs, comments, continuations, JSON and shell forms', () => {
    const df = parseDockerfile(['ARG V=1', 'FROM base AS Build', '# comment', 'RUN echo a \\', '  # inner comment', '  && echo b', 'CMD ["sh", "-c", "x"]', '', 'from build', 'COPY --from=build /a /b'].join('\n'));
    expect(df.metaArgs.map((a) => a.args)).toEqual(['V=1']);
    expect(df.stages.map((s) => [s.image, s.name])).toEqual([
      ['base', 'build'],
      ['build', null],
    ]);
    const [run, cmd] = df.stages[0].instructions;
    expect(run).toMatchObject({ keyword: 'RUN', line: 4, args: 'echo a   && echo b', json: null });
    expect(cmd.json).toEqual(['sh', '-c', 'x']);
    expect(df.stages[1].instructions[0]).toMatchObject({ keyword: 'COPY', flags: { from: 'build' }, args: '/a /b' });
  });

  it('the escape directive changes the continuation character', () => {
    const df = parseDockerfile('# escape=`\nFROM base\nRUN echo a `\n  b\n');
    expect(df.escape).toBe('`');
    expect(df.stages[0].instructions[0].args).toBe('echo a   b');
  });

  it('a directive after a comment is just a comment', () => {
    expect(parseDockerfile('# hello\n# escape=`\nFROM base\n').escape).toBe('\\');
  });

  it.each([
    ['FROM base\nFORM base\n', /line 2: unknown instruction: FORM/],
    ['RUN true\n', /line 1: no FROM before RUN/],
    ['FROM base\nCOPY onlyone\n', /line 2: COPY requires at least two arguments/],
    ['FROM base\nSHELL /bin/bash -c\n', /line 2: SHELL requires the arguments to be in JSON form/],
    ['FROM base\nCOPY --frm=x a b\n', /line 2: unknown flag: --frm for COPY/],
    ['FROM base\nRUN --mount=type=cache,target=/x true\n', /line 2: RUN --mount needs BuildKit/],
    ['FROM base AS 1st\n', /line 1: invalid name for build stage/],
    ['FROM base AS a\nFROM base AS a\n', /line 2: duplicate name for build stage: a/],
    ['FROM base junk\n', /line 1: FROM requires either one or three arguments/],
    ['# escape=x\nFROM base\n', /line 1: invalid escape token/],
    ['FROM base\nONBUILD RUN true\n', /line 2: ONBUILD is not supported/],
    ['FROM base\nHEALTHCHECK maybe\n', /line 2: HEALTHCHECK takes NONE or CMD/],
    ['FROM base\nENV\n', /line 2: ENV requires at least one argument/],
    ['# just a comment\n', /no FROM instruction/],
  ])('refuses %j naming the line', (text, msg) => {
    expect(() => parseDockerfile(text)).toThrow(msg);
  });
});

describe('argument words and variables', () => {
  const vars = new Map([
    ['A', 'x'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['$A', 'x'],
    ['${A}y', 'xy'],
    ['${B:-def}', 'def'],
    ['${EMPTY:-def}', 'def'],
    ['${EMPTY-def}', ''],
    ['${A:+alt}', 'alt'],
    ['${B:+alt}', ''],
    ["'$A'", '$A'],
    ['"$A b"', 'x b'],
    ['\\$A', '$A'],
    ['a$', 'a$'],
  ])('%s → %s', (w, out) => {
    expect(expandWord(w, vars)).toBe(out);
  });

  it('splits at unquoted blanks and refuses bad input', () => {
    expect(splitWords('a "b c" d\\ e')).toEqual(['a', '"b c"', 'd\\ e']);
    expect(expandWords('a "b c" d\\ e', vars)).toEqual(['a', 'b c', 'd e']);
    expect(() => splitWords('a "b')).toThrow(/unterminated double quote/);
    expect(() => expandWord('${A', vars)).toThrow(/missing '}'/);
    expect(() => expandWord('${A/x/y}', vars)).toThrow(/unsupported modifier/);
    expect(() => expandWord('${B:?must be set}', vars)).toThrow(/B: must be set/);
  });

  it('KEY=VALUE pairs and the legacy ENV form', () => {
    expect(parseKeyValues('A=1 B="two words" C=$A', vars, '\\', 'ENV')).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'x'],
    ]);
    expect(parseKeyValues('KEY some value', vars, '\\', 'ENV')).toEqual([['KEY', 'some value']]);
    expect(() => parseKeyValues('KEY', vars, '\\', 'ENV')).toThrow(/without a value/);
    expect(() => parseKeyValues('=x', vars, '\\', 'LABEL')).toThrow(/expects KEY=VALUE/);
  });
});

describe('patterns', () => {
  it('COPY globs match one component per *', () => {
    expect(globMatch('*.txt', 'a.txt')).toBe(true);
    expect(globMatch('*.txt', 'd/a.txt')).toBe(false);
    expect(globMatch('d/?.t[a-x]t', 'd/a.txt')).toBe(true);
  });

  it('.dockerignore: directories, **, exceptions (last rule wins), comments', () => {
    const rules = parseDockerignore('# comment\nlogs\n**/*.tmp\n!keep.tmp\n./secret\n');
    expect(isIgnored(rules, 'logs/a/b.log')).toBe(true);
    expect(isIgnored(rules, 'x/y/z.tmp')).toBe(true);
    expect(isIgnored(rules, 'keep.tmp')).toBe(false);
    expect(isIgnored(rules, 'secret')).toBe(true);
    expect(isIgnored(rules, 'app.txt')).toBe(false);
  });
});
