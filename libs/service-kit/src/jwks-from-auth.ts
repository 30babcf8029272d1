import { Metadata } from '@grpc/grpc-js';
import { authV1 } from '@charge/contracts';
import { JwksTokenVerifier } from './auth';
import { createGrpcClient } from './grpc-client';
import type { Lifecycle } from './lifecycle';

/** A verifier for services other than auth: keys come from auth's GetJwks over gRPC. */
export function jwksVerifierFromAuth(authAddress: string, lifecycle: Lifecycle): JwksTokenVerifier {
  const client = createGrpcClient(authV1.AuthServiceClient, authAddress);
  lifecycle.onStop('auth-client', () => client.close());
  return new JwksTokenVerifier(
    () =>
      new Promise((resolve, reject) =>
        client.getJwks({}, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) =>
          err ? reject(err) : resolve(res.keys),
        ),
      ),
  );
}
