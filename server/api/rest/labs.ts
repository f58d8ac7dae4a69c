// REST for the labs, mounted by the server after its token and write checks:
//   GET    /api/labs                          [{ id, title, summary, order, steps }]
//   GET    /api/labs/:id                      the lab with its steps (text, run blocks, hints, diagram…)
//   POST   /api/labs/:id/start                { sessionId, containers: [{ role, id, name, status }] }
//   GET    /api/labs/:id/sessions/:sid        { sessionId, labId, steps: [{ id, passed, detail? }], containers }
//   DELETE /api/labs/:id/sessions/:sid        leave: the containers are removed
// A bad id is a 400, an unknown one a 404, both JSON { error } and neither changes anything.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedLab } from '../../labs/loader.js';
import type { LearnerEngine } from '../../engine/index.js';
import { SESSION_ID_RE, type LabSessions } from '../../labs/sessions.js';
import { HttpError, httpStatusOf } from './errors.js';
import { sendJson } from './routes.js';

const LAB_ID_RE = /^[a-z0-9-]{1,64}$/;


/** start takes no options: an empty body or {} */
async function expectEmptyBody(req: IncomingMessage): Promise<void> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 4096) throw new HttpError(413, 'body too large');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length) throw new HttpError(400, 'starting a lab takes no options: send {} or nothing');
}

function labId(raw: string): string {
  if (!LAB_ID_RE.test(raw)) throw new HttpError(400, `lab id: expected [a-z0-9-] (at most 64), got ${JSON.stringify(raw.slice(0, 80))}`);
  return raw;
}

function sessionId(raw: string): string {
  if (!SESSION_ID_RE.test(raw)) throw new HttpError(400, `session id: expected 10 characters [a-z0-9], got ${JSON.stringify(raw.slice(0, 80))}`);
  return raw;
}

export function labSummary(l: LoadedLab) {
  return { id: l.id, title: l.title, summary: l.summary, order: l.order, steps: l.steps.length };
}

export function labDetail(l: LoadedLab) {
  return {
    ...labSummary(l),
    corrections: l.corrections ?? [],
    images: l.images ?? [],
    containers: l.containers.map((c) => ({ role: c.role, image: c.config.image, terminal: l.terminalRoles.includes(c.role), init: !!c.config.init })),
    terminals: l.terminalRoles,
    steps: l.steps.map((s) => ({
      id: s.id,
      title: s.title,
      diagram: s.diagram ?? null,
      highlight: s.highlight ?? null,
      terminal: s.terminalRole,
      checkLabel: s.checkLabel,
      markdown: s.markdown,
      runBlocks: s.runBlocks,
      hints: s.hints,
      whatHappened: s.whatHappened,
    })),
  };
}

/** The session, checked to belong to the lab of the path (another lab's session is not found here). */
function sessionOf(labs: LabSessions, id: string, sid: string, principal?: LearnerEngine): string {
  labs.lab(id);
  let owner: string | null = null;
  try {
    owner = labs.labOf(sid, principal);
  } catch (e) {
    if (httpStatusOf(e) === 404) throw new HttpError(404, `no session ${sid} of lab ${id}`);
    throw e;
  }
  if (owner !== id) throw new HttpError(404, `no session ${sid} of lab ${id}`);
  return sid;
}

/** true when the request was for /api/labs (answered here). */
/**
 * @param owner the learner's engine (their sessions only, their policy on the lab's containers),
 *   undefined for the teacher
 * @param offered the labs the learner's class offers (empty: every lab a learner can run)
 */
export function handleLabRequest(labs: LabSessions, req: IncomingMessage, res: ServerResponse, url: URL, owner?: LearnerEngine, offered: readonly string[] = []): boolean {
  const path = url.pathname.replace(/\/+$/, '');
  if (path !== '/api/labs' && !path.startsWith('/api/labs/')) return false;
  const isOffered = (id: string) => !owner || !offered.length || offered.includes(id);
  void (async () => {
    try {
      const parts = path.split('/').slice(3).map((p) => decodeURIComponent(p));
      const m = req.method ?? 'GET';
      const wrong = () => new HttpError(405, `method ${m} not allowed on ${path}`);
      if (parts.length === 0) {
        if (m !== 'GET') throw wrong();
        return sendJson(res, 200, labs.listLabs(owner).filter((l) => isOffered(l.id)).map(labSummary));
      }
      const id = labId(parts[0]);
      // a lab the class does not offer is not there for its learners
      if (!isOffered(id)) throw new HttpError(404, `no such lab: ${id}`);
      if (parts.length === 1) {
        if (m !== 'GET') throw wrong();
        return sendJson(res, 200, labDetail(labs.lab(id)));
      }
      if (parts.length === 2 && parts[1] === 'start') {
        if (m !== 'POST') throw wrong();
        labs.lab(id); // an unknown lab is a 404 before the body is read
        await expectEmptyBody(req);
        return sendJson(res, 201, await labs.start(id, owner));
      }
      if (parts.length === 3 && parts[1] === 'sessions') {
        const sid = sessionOf(labs, id, sessionId(parts[2]), owner);
        if (m === 'GET') return sendJson(res, 200, await labs.get(sid, owner));
        if (m === 'DELETE') {
          await labs.leave(sid, owner);
          return sendJson(res, 204, null);
        }
        throw wrong();
      }
      throw new HttpError(404, `no such endpoint: ${path}`);
    } catch (e) {
      const status = e instanceof URIError ? 400 : httpStatusOf(e);
      if (status === 500) console.error(`[rest] ${req.method} ${path}:`, e);
      req.resume();
      sendJson(res, status, { error: (e as Error).message || 'internal error' });
    }
  })();
  return true;
}
