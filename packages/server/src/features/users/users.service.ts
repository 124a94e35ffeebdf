import type { Kysely } from 'kysely';
import type { AuthUser } from '../../http/access.js';
import type { AuditContext } from '../../http/audit-context.js';
import { HttpError, httpErrors } from '../../http/errors.js';
import { hashPassword } from '../../platform/crypto/passwords.js';
import type { Database, Role, UserRow, UserUpdate } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import { changedFields, type AuditService } from '../audit/audit.service.js';
import type { FilesService } from '../files/files.service.js';
import { createPasswordPolicy } from './password-policy.js';
import * as repo from './users.repo.js';
import type { ListUsersQuery, UpdateUserInput } from './users.schema.js';

// The API shape of a user and the email and password rules, for features (auth) that show or take users.
export { toUserResponse, type UserResponse } from './users.presenter.js';
export { emailSchema, passwordSchema } from './users.schema.js';

/** One feature's work on its own rows of a user, inside the users service's transaction. */
export type UserRowsAction = (trx: Kysely<Database>, userId: string) => Promise<void>;

/**
 * What the features owning a user's other rows do when the user's access ends or the user is
 * deleted. The composition root supplies them, so users imports none of those features and auth,
 * which reads users, can take part without an import cycle.
 */
export interface UserRowOwners {
  /** Ends the user's sessions except `keep` (null: all of them). */
  revokeSessionsIn(trx: Kysely<Database>, userId: string, keep: string | null): Promise<void>;
  /** Revokes all the user's API keys (a password reset ends them, as it ends sessions). */
  revokeApiKeysIn: UserRowsAction;
  /** Ends every way the user signs in (sessions, API keys). */
  revokeCredentialsIn: UserRowsAction;
  /** The user's role, name or email changed: their sessions and API keys are to be checked afresh. */
  recheckCredentialsIn: UserRowsAction;
  /** Each deletes its feature's rows of the user, in this order, before the user row goes. */
  deleteUserRowsIn: readonly UserRowsAction[];
}

/** User administration: listing, roles, profile changes and deletion, under the admin safety rules. */
export function createUsersService(platform: Platform, files: FilesService, audit: AuditService, owners: UserRowOwners) {
  const { db, clock } = platform;
  const lockAdmins = db.dialect === 'postgres';
  const passwords = createPasswordPolicy(platform.config);

  /**
   * Runs `work` in a transaction with the target loaded; with `guardAdmins`
   * the admins' rows are locked first, so the safety rules below are checked
   * against what the transaction will change.
   */
  function withTarget<T>(
    id: string,
    guardAdmins: boolean,
    work: (trx: Kysely<Database>, target: UserRow, admins: string[]) => Promise<T>,
  ): Promise<T> {
    return db.kysely.transaction().execute(async (trx) => {
      const admins = guardAdmins ? await repo.adminIds(trx, lockAdmins) : [];
      const target = await repo.findUserById(trx, id);
      if (!target) throw httpErrors.notFound('User');
      return work(trx, target, admins);
    });
  }

  function refuseLosingAdmin(actor: AuthUser, target: UserRow, admins: string[], action: 'demote' | 'delete'): void {
    if (target.id === actor.id) {
      throw httpErrors.badRequest(
        action === 'delete' ? 'You cannot delete your own account' : 'You cannot remove your own admin role; ask another admin',
      );
    }
    if (target.role === 'admin' && admins.length <= 1) {
      throw httpErrors.badRequest(`The last admin cannot be ${action === 'delete' ? 'deleted' : 'demoted'}`);
    }
  }

  async function emailTakenByOther(email: string, id: string): Promise<boolean> {
    const owner = await repo.findUserByEmail(db.kysely, email);
    return owner !== undefined && owner.id !== id;
  }

  async function update(actor: AuthUser, id: string, input: UpdateUserInput, context: AuditContext): Promise<UserRow> {
    const email = input.email?.toLowerCase();
    if (input.password) passwords.check(input.password);
    // Hashed outside the transaction: argon2 is slow and must not hold the admins' locks.
    const passwordHash = input.password ? await hashPassword(input.password) : undefined;
    try {
      return await withTarget(id, input.role !== undefined, async (trx, target, admins) => {
        if (input.role && input.role !== 'admin' && (target.role === 'admin' || target.id === actor.id)) {
          refuseLosingAdmin(actor, target, admins, 'demote');
        }
        if (email && email !== target.email && (await repo.findUserByEmail(trx, email))) {
          throw httpErrors.conflict('An account with this email already exists');
        }
        const changes: UserUpdate = { updated_at: clock.now() };
        if (input.role) changes.role = input.role;
        if (input.name) changes.name = input.name;
        if (email) changes.email = email;
        if (input.profile_image_url !== undefined) changes.profile_image_url = input.profile_image_url;
        if (passwordHash) changes.password_hash = passwordHash;
        await repo.updateUser(trx, id, changes);
        // A new role is in force on the user's next request, not when a cached sign-in check lapses.
        if (changes.role || changes.name || changes.email) await owners.recheckCredentialsIn(trx, id);
        // A reset password ends the account's other sessions and its API keys, as a self-service change does.
        if (passwordHash) {
          await owners.revokeSessionsIn(trx, id, id === actor.id ? actor.sessionId : null);
          await owners.revokeApiKeysIn(trx, id);
        }
        await auditUpdate(trx, context, target, changes);
        return { ...target, ...changes };
      });
    } catch (error) {
      // Two changes to one email racing past the check above: the unique index decides.
      if (!(error instanceof HttpError) && email && (await emailTakenByOther(email, id))) {
        throw httpErrors.conflict('An account with this email already exists');
      }
      throw error;
    }
  }

  /** Records a role change and any other field changes, in the transaction making them. */
  async function auditUpdate(trx: Kysely<Database>, context: AuditContext, target: UserRow, changes: UserUpdate): Promise<void> {
    const { role, ...fields } = changedFields(
      { role: target.role, name: target.name, email: target.email },
      { role: changes.role, name: changes.name, email: changes.email },
    );
    const subject = { type: 'user', id: target.id };
    if (role) await audit.recordIn(trx, context, { action: 'user.role.changed', target: subject, details: { email: target.email, role } });
    const edited: Record<string, unknown> = { ...fields };
    if (changes.profile_image_url !== undefined && changes.profile_image_url !== target.profile_image_url) edited.profile_image_url = 'changed';
    if (changes.password_hash) edited.password = 'changed';
    if (Object.keys(edited).length > 0) {
      await audit.recordIn(trx, context, { action: 'user.updated', target: subject, details: { email: target.email, ...edited } });
    }
  }

  return {
    /** One page of users matching `query` (name or email, case-insensitive), and the total matching. */
    list: (query: ListUsersQuery) => repo.listUsers(db.kysely, query),

    /** One user, or undefined when unknown. */
    find: (id: string): Promise<UserRow | undefined> => repo.findUserById(db.kysely, id),

    /** The user with this (lower-cased) email, or undefined. */
    findByEmail: (email: string): Promise<UserRow | undefined> => repo.findUserByEmail(db.kysely, email),

    /** Inserts a new user in the caller's transaction (sign-up). */
    createIn: (trx: Kysely<Database>, user: UserRow): Promise<void> => repo.insertUser(trx, user),

    /** Sets a user's role in the caller's transaction, with no admin checks (the first admin's sign-up). */
    setRoleIn: (trx: Kysely<Database>, id: string, role: Role, now = clock.now()): Promise<void> => repo.updateUser(trx, id, { role, updated_at: now }),

    /** Stores a new password hash for a user in the caller's transaction (a self-service change, already checked by the caller). */
    setPasswordHashIn: (trx: Kysely<Database>, id: string, passwordHash: string): Promise<void> =>
      repo.updateUser(trx, id, { password_hash: passwordHash, updated_at: clock.now() }),

    /** Throws a 400 when a new password does not follow PASSWORD_VALIDATION_REGEX_PATTERN (when enabled). */
    checkPassword: (password: string): void => passwords.check(password),

    /** One user; 404 when unknown. */
    async get(id: string): Promise<UserRow> {
      const user = await repo.findUserById(db.kysely, id);
      if (!user) throw httpErrors.notFound('User');
      return user;
    },

    /** Changes a user's role; takes effect on their next request. */
    updateRole: (actor: AuthUser, id: string, role: Role, context: AuditContext) => update(actor, id, { role }, context),

    /** Changes any of role, name, email (unique) and password. */
    update,

    /**
     * Deletes a user with their sessions, API key, chats and files. Access is
     * revoked first under the admins' lock; if a later step fails, the account
     * is left pending and signed out, and deleting again finishes the job.
     */
    async delete(actor: AuthUser, id: string, context: AuditContext): Promise<void> {
      const deleted = await withTarget(id, true, async (trx, target, admins) => {
        refuseLosingAdmin(actor, target, admins, 'delete');
        await owners.revokeCredentialsIn(trx, id);
        await repo.updateUser(trx, id, { role: 'pending', updated_at: clock.now() });
        return { email: target.email, name: target.name, role: target.role };
      });
      await files.deleteAllForUser(id);
      await db.kysely.transaction().execute(async (trx) => {
        for (const deleteRowsIn of owners.deleteUserRowsIn) await deleteRowsIn(trx, id);
        await repo.deleteUserRow(trx, id);
        await audit.recordIn(trx, context, { action: 'user.deleted', target: { type: 'user', id }, details: deleted });
      });
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
