import { useCallback, useEffect, useState } from 'react';
import type { Role, User } from '@parley/wire';
import { deleteUser, listUsers, setUserRole } from '../../api/admin';
import { messageOf } from '../../api/http';
import { ConfirmDialog } from '../../components/Dialog';
import { IconButton } from '../../components/IconButton';
import { useSession } from '../../state/session';

const pageSize = 50;

/** Users: search, approve pending accounts, change roles, delete. */
export function UsersAdmin() {
  const me = useSession((s) => s.user);
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ users: User[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);

  const load = useCallback(() => {
    listUsers(page, query.trim()).then(setData, (caught: unknown) => setError(messageOf(caught)));
  }, [page, query]);

  useEffect(() => {
    const timer = setTimeout(load, 200);
    return () => clearTimeout(timer);
  }, [load]);

  async function act(work: Promise<unknown>) {
    setError(null);
    try {
      await work;
      load();
    } catch (caught) {
      setError(messageOf(caught));
    }
  }

  function changeRole(user: User, role: Role) {
    // Shown at once; the reload after saving corrects it if the server refused.
    setData((current) => current && { ...current, users: current.users.map((u) => (u.id === user.id ? { ...u, role } : u)) });
    void act(setUserRole(user.id, role));
  }

  const pending = data?.users.filter((user) => user.role === 'pending').length ?? 0;
  return (
    <div>
      <div className="admin__toolbar">
        <input type="search" aria-label="Search users" placeholder="Search by name or email" value={query} onChange={(e) => (setQuery(e.target.value), setPage(1))} />
        {data && (
          <span className="muted">
            {data.total} users{pending > 0 ? ` · ${pending} waiting for approval` : ''}
          </span>
        )}
      </div>
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="table-scroll">
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {data?.users.map((user) => (
              <tr key={user.id} data-user-email={user.email}>
                <td>{user.name}</td>
                <td>{user.email}</td>
                <td>
                  <select aria-label={`Role of ${user.email}`} value={user.role} disabled={user.id === me?.id} onChange={(e) => changeRole(user, e.target.value as Role)}>
                    <option value="pending">Pending</option>
                    <option value="user">User</option>
                    <option value="admin">Admin</option>
                  </select>
                </td>
                <td>
                  <div className="admin-table__actions">
                    {user.role === 'pending' && (
                      <button type="button" className="button button--small button--primary" onClick={() => changeRole(user, 'user')}>
                        Approve
                      </button>
                    )}
                    {user.id !== me?.id && <IconButton icon="trash" label={`Delete ${user.email}`} onClick={() => setDeleting(user)} />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.total > pageSize && (
        <div className="pager">
          <button type="button" className="button button--small" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            Page {page} of {Math.ceil(data.total / pageSize)}
          </span>
          <button type="button" className="button button--small" disabled={page * pageSize >= data.total} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </div>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete user?"
          message={<>{deleting.name} ({deleting.email}) and all their chats and files will be deleted.</>}
          confirmLabel="Delete user"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            void act(deleteUser(deleting.id));
            setDeleting(null);
          }}
        />
      )}
    </div>
  );
}
