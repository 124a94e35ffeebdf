/** One audit log entry. */
export interface AuditEvent {
  id: string;
  at: number;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** `GET /api/v1/audit/`: one page of the filtered log and the filtered total. */
export interface AuditPage {
  events: AuditEvent[];
  total: number;
}
