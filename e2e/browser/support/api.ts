/** A tiny client for setting up test data through Parley's HTTP API. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Signs up (the first account becomes the admin) and keeps the token. */
  async signUp(name: string, email: string, password: string): Promise<{ id: string; role: string; token: string }> {
    const session = await this.request<{ id: string; role: string; token: string }>('POST', '/api/v1/auths/signup', { name, email, password });
    this.token = session.token;
    return session;
  }

  async signIn(email: string, password: string): Promise<void> {
    this.token = (await this.request<{ token: string }>('POST', '/api/v1/auths/signin', { email, password })).token;
  }
}
