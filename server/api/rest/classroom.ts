// REST for the classroom, mounted by the server after its token and write checks:
//   POST   /api/join {code, name}                       (no token) a learner's session: 201 { token, learner, class }
//   GET    /api/whoami                                   the teacher, or the learner with their class, quota, ports
//   teacher only (a learner gets 404, as for any route that is not theirs):
//   POST   /api/classes {name, seats, labs, quota, endsAt, portBase?}   201 the class, with its joinPath
//   GET    /api/classes                                  every class, with its learner count
//   GET    /api/classes/:id                              { class, learners: the roster }
//   POST   /api/classes/:id/end                          revoke everyone, remove everything the class made
//   DELETE /api/classes/:id/learners/:lid                revoke the learner (their sandbox is removed)
//   POST   /api/classes/:id/learners/:lid/reset          remove the learner's sandbox; the session stays
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Classroom } from '../../classroom/classroom.js';
import type { Principal } from '../../classroom/principal.js';
import { buildRoster } from '../../classroom/roster.js';
import type { ClassRecord } from '../../classroom/store.js';
import { learnerPageCookie } from './auth.js';
import { HttpError, httpStatusOf } from './errors.js';
import { readBody, sendJson } from './routes.js';

const CLASS_ID_RE = /^[a-f0-9]{12}$/;
const LEARNER_ID_RE = /^[a-z0-9]{10}$/;

/** Failed joins, all callers together: a join code is six letters, too few to try them all. */
const JOIN_FAILURES_PER_MINUTE = 30;

export function classView(c: ClassRecord) {
  return { ...c, joinPath: `/join/${c.code}` };
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

export class ClassroomRoutes {
  private failures: number[] = [];

  constructor(
    private readonly classroom: Classroom,
    /** how many sockets each learner has open now (the roster's "online") */
    private readonly online: (learnerId: string) => number = () => 0,
  ) {}

  /** Handles the classroom's URLs and returns true; false for any other URL. */
  handle(principal: Principal | null, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const path = url.pathname.replace(/\/+$/, '');
    const isJoin = path === '/api/join';
    if (!isJoin && path !== '/api/whoami' && path !== '/api/classes' && !path.startsWith('/api/classes/')) return false;
    if (!isJoin && !principal) {
      req.resume();
      sendJson(res, 401, { error: 'token required' });
      return true;
    }
    this.route(principal, req, path).then(
      (r) => {
        if (r.headers) for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
        sendJson(res, r.status, r.body);
      },
      (e: Error) => {
        const status = httpStatusOf(e);
        if (status === 500) console.error(`[classroom] ${req.method} ${path}:`, e);
        req.resume();
        sendJson(res, status, { error: e.message || 'internal error' });
      },
    );
    return true;
  }

  private async route(principal: Principal | null, req: IncomingMessage, path: string): Promise<Reply> {
    const m = req.method ?? 'GET';
    if (path === '/api/join') {
      if (m !== 'POST') throw new HttpError(405, `method ${m} not allowed`);
      return this.join(await readBody(req));
    }
    if (path === '/api/whoami') {
      if (m !== 'GET') throw new HttpError(405, `method ${m} not allowed`);
      return { status: 200, body: this.whoami(principal!) };
    }
    // a learner does not learn that these routes exist
    if (principal!.role !== 'teacher') throw new HttpError(404, `no such endpoint: ${path}`);
    const parts = path.split('/').slice(3); // after /api/classes
    if (parts.length === 0) {
      if (m === 'GET') return { status: 200, body: this.classroom.store.classes().map((c) => ({ ...classView(c), learners: this.classroom.store.learners(c.id).filter((l) => !l.revokedAt).length })) };
      if (m === 'POST') return { status: 201, body: classView(this.classroom.createClass(await readBody(req))) };
      throw new HttpError(405, `method ${m} not allowed`);
    }
    const classId = parts[0];
    if (!CLASS_ID_RE.test(classId)) throw new HttpError(400, `class id: expected 12 hex characters, got ${JSON.stringify(classId.slice(0, 40))}`);
    if (parts.length === 1 && m === 'GET') {
      const cls = this.classroom.store.getClass(classId);
      return { status: 200, body: { class: classView(cls), learners: await buildRoster(this.classroom, classId, this.online) } };
    }
    if (parts.length === 2 && parts[1] === 'end' && m === 'POST') return { status: 200, body: classView(await this.classroom.endClass(classId)) };
    if (parts[1] === 'learners' && parts.length >= 3) {
      const lid = parts[2];
      if (!LEARNER_ID_RE.test(lid)) throw new HttpError(400, `learner id: expected 10 characters [a-z0-9], got ${JSON.stringify(lid.slice(0, 40))}`);
      if (parts.length === 3 && m === 'DELETE') return { status: 200, body: await this.classroom.revoke(classId, lid).then(({ tokenHash: _t, ...l }) => l) };
      if (parts.length === 4 && parts[3] === 'reset' && m === 'POST') {
        await this.classroom.reset(classId, lid);
        return { status: 204, body: null };
      }
    }
    throw new HttpError(404, `no such endpoint: ${req.method} ${path}`);
  }

  private async join(body: unknown): Promise<Reply> {
    const now = Date.now();
    this.failures = this.failures.filter((t) => now - t < 60_000);
    if (this.failures.length >= JOIN_FAILURES_PER_MINUTE) throw new HttpError(429, 'too many failed joins in the last minute: wait a minute and check the code');
    const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; name?: unknown };
    try {
      const { learner, token, class: cls } = await this.classroom.join(b.code, b.name);
      return {
        status: 201,
        body: { token, learner: { id: learner.id, displayName: learner.displayName }, class: { id: cls.id, name: cls.name, endsAt: cls.endsAt } },
        headers: { 'set-cookie': learnerPageCookie(this.classroom.pageSecret, learner.id) },
      };
    } catch (e) {
      this.failures.push(now);
      throw e;
    }
  }

  private whoami(p: Principal) {
    if (p.role === 'teacher') return { role: 'teacher' };
    const cls = this.classroom.store.getClass(p.classId);
    return {
      role: 'learner',
      learner: { id: p.learner.id, displayName: p.learner.displayName },
      class: { id: cls.id, name: cls.name, endsAt: cls.endsAt, labs: cls.labs },
      quota: cls.quota,
      ports: this.classroom.store.portsOf(p.learner),
    };
  }
}
