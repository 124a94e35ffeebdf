import type { User } from '@parley/wire';
import type { UserRow } from '../../platform/db/schema.js';

/** A user as the API shows it (Open WebUI's shape; times in epoch seconds). */
export function toUserResponse(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    profile_image_url: row.profile_image_url,
    created_at: Math.floor(row.created_at / 1000),
    updated_at: Math.floor(row.updated_at / 1000),
    last_active_at: Math.floor(row.last_active_at / 1000),
  };
}
export type UserResponse = ReturnType<typeof toUserResponse>;
