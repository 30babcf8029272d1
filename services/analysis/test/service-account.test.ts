import type { authV1 } from '@charge/contracts';
import { ServiceAccount } from '../src/use-cases/knowledge-source';

/** A stand-in auth client whose Login hands out numbered tokens valid for `expiresIn` s. */
function fakeAuth(expiresIn: number) {
  const logins: authV1.LoginRequest[] = [];
  const client = {
    login(req: authV1.LoginRequest, _md: unknown, _opts: unknown, cb: (e: null, r: unknown) => void) {
      logins.push(req);
      const accessToken = `token-${logins.length}`;
      setImmediate(() => cb(null, { tokens: { accessToken, expiresIn }, accessToken, expiresIn }));
    },
  };
  return { client: client as unknown as authV1.AuthServiceClient, logins };
}

describe('ServiceAccount', () => {
  afterEach(() => jest.restoreAllMocks());

  test('logs in once, shares the login between concurrent callers and caches the token', async () => {
    const { client, logins } = fakeAuth(900);
    const account = new ServiceAccount(client, 'svc@example.com', 'secret-password', 1000);
    const tokens = await Promise.all([account.accessToken(), account.accessToken()]);
    expect(tokens).toEqual(['token-1', 'token-1']);
    expect(await account.accessToken()).toBe('token-1');
    expect(logins).toEqual([{ email: 'svc@example.com', password: 'secret-password' }]);
  });

  test('logs in again shortly before expires_in, and after invalidate()', async () => {
    const { client, logins } = fakeAuth(900);
    const account = new ServiceAccount(client, 'svc@example.com', 'secret-password', 1000, 30_000);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    expect(await account.accessToken()).toBe('token-1');
    clock.mockReturnValue(now + 869_000); // 31 s before expiry: still cached
    expect(await account.accessToken()).toBe('token-1');
    clock.mockReturnValue(now + 871_000); // within the 30 s margin: renewed
    expect(await account.accessToken()).toBe('token-2');
    account.invalidate();
    expect(await account.accessToken()).toBe('token-3');
    expect(logins).toHaveLength(3);
  });
});
