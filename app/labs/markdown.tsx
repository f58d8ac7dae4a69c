'use client';
// A lab step's Markdown as React elements, from marked's tokens (never raw HTML: the page's CSP
// runs only nonce'd scripts, and a step's text is content, not code). A ```run block becomes the
// command with a Run button (or, for `run docker`, a host command to copy).
import { Lexer, type Token, type Tokens } from 'marked';
import { Fragment, type ReactNode } from 'react';
import { parseRunInfo, type RunBlock } from '@/common/lab-markdown';

export interface RunHandlers {
  /** the command with the session's container names filled in */
  fill: (command: string) => string;
  onRun: (block: RunBlock) => void;
  /** no session yet: the buttons wait */
  disabled: boolean;
}

function inline(tokens: Token[] | undefined, key = ''): ReactNode[] {
  return (tokens ?? []).map((t, i) => {
    const k = `${key}${i}`;
    switch (t.type) {
      case 'strong':
        return <strong key={k}>{inline((t as Tokens.Strong).tokens, k)}</strong>;
      case 'em':
        return <em key={k}>{inline((t as Tokens.Em).tokens, k)}</em>;
      case 'codespan':
        return (
          <code key={k} className="rounded bg-slate-800 px-1 py-0.5 font-mono text-[0.92em] text-sky-200">
            {decode((t as Tokens.Codespan).text)}
          </code>
        );
      case 'link': {
        const l = t as Tokens.Link;
        // only web links and in-app paths: a javascript: or //other-host URL is not a link
        const safe = /^(https?:\/\/|\/(?!\/))/.test(l.href);
        return safe ? (
          <a key={k} href={l.href} className="text-sky-300 underline" rel="noreferrer" target={l.href.startsWith('/') ? undefined : '_blank'}>
            {inline(l.tokens, k)}
          </a>
        ) : (
          <Fragment key={k}>{inline(l.tokens, k)}</Fragment>
        );
      }
      case 'br':
        return <br key={k} />;
      case 'del':
        return <del key={k}>{inline((t as Tokens.Del).tokens, k)}</del>;
      case 'text': {
        const tt = t as Tokens.Text;
        return tt.tokens ? <Fragment key={k}>{inline(tt.tokens, k)}</Fragment> : <Fragment key={k}>{decode(tt.text)}</Fragment>;
      }
      case 'escape':
        return <Fragment key={k}>{decode((t as Tokens.Escape).text)}</Fragment>;
      default:
        // html and anything unknown: shown as the text it is
        return <Fragment key={k}>{'raw' in t ? String(t.raw) : ''}</Fragment>;
    }
  });
}

/** marked escapes &, <, >, " and ' in text tokens; React escapes again, so undo marked's. */
function decode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? _);
}

function RunBlockView({ block, run }: { block: RunBlock; run: RunHandlers }) {
  const command = run.fill(block.command);
  if (block.docker) {
    return (
      <div className="my-3 rounded-lg border border-amber-700/60 bg-slate-950" data-testid="docker-block" data-command={command}>
        <div className="flex items-center gap-2 border-b border-slate-800 px-3 py-1.5 text-xs text-amber-200">
          on the host, with the docker CLI (DOCKER_HOST=unix:///run/glassbox/docker.sock)
          <button type="button" className="ml-auto rounded border border-slate-600 px-2 py-0.5 text-slate-200 hover:bg-slate-800" onClick={() => void navigator.clipboard?.writeText(command).catch(() => {})}>
            Copy
          </button>
        </div>
        <pre className="overflow-x-auto px-3 py-2 font-mono text-sm text-slate-100">{command}</pre>
      </div>
    );
  }
  return (
    <div className="my-3 flex items-stretch overflow-hidden rounded-lg border border-slate-700 bg-slate-950">
      <pre className="min-w-0 flex-1 overflow-x-auto px-3 py-2 font-mono text-sm text-slate-100">
        {command}
        {block.background ? <span className="text-gb-muted"> &amp;</span> : null}
      </pre>
      <button
        type="button"
        data-testid="run-button"
        data-command={command}
        disabled={run.disabled}
        onClick={() => run.onRun({ ...block, command })}
        className="shrink-0 bg-sky-700 px-4 text-sm font-semibold text-white hover:bg-sky-600 disabled:opacity-40"
        title={block.target ? `type it into the ${block.target} terminal` : 'type it into the terminal'}
      >
        Run{block.target ? ` in ${block.target}` : ''}
      </button>
    </div>
  );
}

function block(t: Token, i: number, run: RunHandlers | null): ReactNode {
  switch (t.type) {
    case 'space':
      return null;
    case 'paragraph':
      return (
        <p key={i} className="my-2 leading-relaxed">
          {inline((t as Tokens.Paragraph).tokens, `${i}-`)}
        </p>
      );
    case 'heading': {
      const h = t as Tokens.Heading;
      const cls = h.depth <= 2 ? 'mt-4 mb-2 text-lg font-semibold' : 'mt-3 mb-1 font-semibold';
      return (
        <div key={i} role="heading" aria-level={Math.min(6, h.depth + 1)} className={cls}>
          {inline(h.tokens, `${i}-`)}
        </div>
      );
    }
    case 'list': {
      const l = t as Tokens.List;
      const items = l.items.map((it, j) => <li key={j}>{it.tokens.map((x, n) => (x.type === 'text' ? <Fragment key={n}>{inline((x as Tokens.Text).tokens ?? [x], `${i}-${j}-${n}-`)}</Fragment> : block(x, n, run)))}</li>);
      return l.ordered ? (
        <ol key={i} className="my-2 list-decimal space-y-1 pl-6">
          {items}
        </ol>
      ) : (
        <ul key={i} className="my-2 list-disc space-y-1 pl-6">
          {items}
        </ul>
      );
    }
    case 'code': {
      const c = t as Tokens.Code;
      const info = parseRunInfo(c.lang);
      if (info && !(info instanceof Error) && run) return <RunBlockView key={i} block={{ command: c.text.trim(), ...info }} run={run} />;
      return (
        <pre key={i} className="my-3 overflow-x-auto rounded-lg border border-slate-800 bg-slate-950 px-3 py-2 font-mono text-sm text-slate-200">
          {c.text}
        </pre>
      );
    }
    case 'blockquote':
      return (
        <blockquote key={i} className="my-2 border-l-4 border-slate-600 pl-3 text-gb-muted">
          {(t as Tokens.Blockquote).tokens.map((x, n) => block(x, n, run))}
        </blockquote>
      );
    case 'hr':
      return <hr key={i} className="my-4 border-slate-700" />;
    case 'table': {
      const tb = t as Tokens.Table;
      return (
        <table key={i} className="my-3 text-sm">
          <thead>
            <tr>
              {tb.header.map((h, j) => (
                <th key={j} className="border-b border-slate-700 px-2 py-1 text-left">
                  {inline(h.tokens, `${i}-h${j}-`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tb.rows.map((r, j) => (
              <tr key={j}>
                {r.map((c, n) => (
                  <td key={n} className="border-b border-slate-800 px-2 py-1">
                    {inline(c.tokens, `${i}-${j}-${n}-`)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
    default:
      return (
        <p key={i} className="my-2">
          {'text' in t ? String(t.text) : ''}
        </p>
      );
  }
}

/** Markdown to React; run blocks get buttons when `run` is given. */
export function LabMarkdown({ source, run = null }: { source: string; run?: RunHandlers | null }) {
  const tokens = new Lexer().lex(source);
  return <div className="text-[15px] text-slate-200">{tokens.map((t, i) => block(t, i, run))}</div>;
}
