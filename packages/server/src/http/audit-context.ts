import type { FastifyRequest } from 'fastify';

/** Who did something, from where, in which request: what routes hand services so they can audit. */
export interface AuditContext {
  /** The signed-in caller; null on public routes (sign-in, sign-up), where the service names the actor. */
  actor: { id: string; email: string } | null;
  ip: string | null;
  requestId: string | null;
}

/** The audit context of a request: its caller (when signed in), client address and request id. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  const user = request.user;
  return { actor: user ? { id: user.id, email: user.email } : null, ip: request.ip, requestId: String(request.id) };
}
