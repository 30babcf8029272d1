import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { authV1 } from '@charge/contracts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, type Role } from '@charge/service-kit';

export interface IssueOptions {
  userId: number;
  role?: Role;
  sessionId?: string;
  expiresInS?: number;
}

/**
 * A real gRPC server answering auth's GetJwks with a test key, and a signer for tokens
 * under that key: lets a service's tests authenticate without running auth's database.
 */
export class TestTokenIssuer {
  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly privateKey: KeyObject,
    readonly kid: string,
  ) {}

  static async start(): Promise<TestTokenIssuer> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `test-${randomUUID().slice(0, 8)}`;
    const jwk = publicKey.export({ format: 'jwk' });
    const server = new Server();
    const notImplemented = (_call: unknown, cb: (e: { code: number; details: string }) => void) =>
      cb({ code: status.UNIMPLEMENTED, details: 'test issuer serves GetJwks only' });
    const impl: Record<string, unknown> = {};
    for (const key of Object.keys(authV1.AuthServiceService)) impl[key] = notImplemented;
    impl.getJwks = (_call: unknown, cb: (e: null, r: authV1.GetJwksResponse) => void) =>
      cb(null, { keys: [{ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' }] });
    server.addService(authV1.AuthServiceService, impl as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return new TestTokenIssuer(server, `127.0.0.1:${port}`, privateKey, kid);
  }

  issue(options: IssueOptions): string {
    return jwt.sign(
      { role: options.role ?? 'user', sid: options.sessionId ?? randomUUID() },
      this.privateKey,
      {
        algorithm: 'ES256',
        keyid: this.kid,
        subject: String(options.userId),
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        expiresIn: options.expiresInS ?? 900,
      },
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
