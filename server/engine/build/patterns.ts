// Path patterns: COPY's globs (Go's filepath.Match: *, ?, [a-z], one path component each) and
// .dockerignore (the same, plus ** for any number of components and ! for exceptions; the last
// matching line wins). The docker CLI already leaves ignored files out of the context it sends;
// applying the file here too covers API clients that send a raw tar.
import { components } from './in-root.js';

/** One component pattern → a RegExp (anchored). */
function componentRe(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = p.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < p.length) re += '\\' + p[++i];
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const hasGlob = (p: string): boolean => /[*?[]/.test(p);

/** Does the path (components) match the pattern (components, ** allowed)? */
function matchParts(pat: string[], path: string[]): boolean {
  if (!pat.length) return !path.length;
  if (pat[0] === '**') {
    for (let k = 0; k <= path.length; k++) if (matchParts(pat.slice(1), path.slice(k))) return true;
    return false;
  }
  return path.length > 0 && componentRe(pat[0]).test(path[0]) && matchParts(pat.slice(1), path.slice(1));
}

export function globMatch(pattern: string, rel: string): boolean {
  return matchParts(components(pattern), components(rel));
}

export interface IgnoreRule {
  pattern: string[];
  exclude: boolean;
}

/** .dockerignore's lines: comments and blanks dropped, "!" exceptions, paths cleaned. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let exclude = true;
    if (line.startsWith('!')) {
      exclude = false;
      line = line.slice(1).trim();
    }
    const pattern = components(line).filter((p) => p !== '..');
    if (pattern.length) rules.push({ pattern, exclude });
  }
  return rules;
}

/** Is rel ignored? A path is ignored when it, or a directory above it, matches (last rule wins). */
export function isIgnored(rules: IgnoreRule[], rel: string): boolean {
  const path = components(rel);
  let ignored = false;
  for (const r of rules) {
    let hit = false;
    for (let k = path.length; k >= 1 && !hit; k--) hit = matchParts(r.pattern, path.slice(0, k));
    if (hit) ignored = r.exclude;
  }
  return ignored;
}
