import { adminAndUser, type TestUser } from './factories.js';
import { startTestApp, type TestApp } from './test-app.js';

/** A running app with its admin (the first sign-up) and one approved user. */
export interface AppWithUsers {
  app: TestApp;
  admin: TestUser;
  user: TestUser;
}

/** Starts an app as `startTestApp(env, options)` does, then signs up its admin and one approved user. */
export async function startWithUsers(env: Record<string, string> = {}, options: Parameters<typeof startTestApp>[1] = {}): Promise<AppWithUsers> {
  const app = await startTestApp(env, options);
  try {
    return { app, ...(await adminAndUser(app)) };
  } catch (error) {
    await app.close();
    throw error;
  }
}
