import type { UntypedHandleCall } from '@grpc/grpc-js';
import { authV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import type { CallContext, Role, Rpc } from '@charge/service-kit';
import type { ServedJwk } from '../domain/tokens';
import type { UserRow } from '../persistence/user.entity';
import type { AccountUseCases } from '../use-cases/accounts';
import type { Caller } from '../use-cases/caller';
import type { IssuedTokens, SessionUseCases } from '../use-cases/sessions';
import type { UserAdminUseCases } from '../use-cases/user-admin';

export interface AuthHandlerDeps {
  rpc: Rpc;
  accounts: AccountUseCases;
  sessions: SessionUseCases;
  admin: UserAdminUseCases;
  jwks: () => ServedJwk[];
}

type Implementation = { [K in keyof authV1.AuthServiceServer]: UntypedHandleCall };

/** AuthService: proto ⇄ use-case mapping only. */
export function authHandlers({ rpc, accounts, sessions, admin, jwks }: AuthHandlerDeps): Implementation {
  return {
    register: rpc.unary<authV1.RegisterRequest, authV1.RegisterResponse>(
      async (req, ctx) => ({
        user: toUser(
          await accounts.register(ctx.em, caller(ctx), {
            email: req.email,
            password: req.password,
            username: req.username,
            firstName: req.firstName,
            lastName: req.lastName,
          }),
        ),
      }),
      { auth: 'public' },
    ),

    login: rpc.unary<authV1.LoginRequest, authV1.LoginResponse>(
      async (req, ctx) => {
        const issued = await sessions.login(ctx.em, caller(ctx), req.email, req.password);
        const tokens = toTokenPair(issued);
        return {
          tokens,
          user: toUser(issued.user),
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresIn: tokens.expiresIn,
        };
      },
      { auth: 'public' },
    ),

    refresh: rpc.unary<authV1.RefreshRequest, authV1.RefreshResponse>(
      async (req, ctx) => {
        const issued = await sessions.refresh(ctx.em, req.refreshToken);
        return { tokens: toTokenPair(issued), user: toUser(issued.user) };
      },
      { auth: 'public' },
    ),

    logout: rpc.unary<authV1.LogoutRequest, authV1.LogoutResponse>(async (req, ctx) => {
      await sessions.logout(ctx.em, caller(ctx), req.refreshToken);
      return {};
    }),

    getMe: rpc.unary<authV1.GetMeRequest, authV1.GetMeResponse>(async (_req, ctx) => ({
      user: toUser(await accounts.getMe(ctx.em, caller(ctx))),
    })),

    updateMe: rpc.unary<authV1.UpdateMeRequest, authV1.UpdateMeResponse>(async (req, ctx) => ({
      user: toUser(
        await accounts.updateMe(ctx.em, caller(ctx), {
          username: req.username,
          firstName: req.firstName,
          lastName: req.lastName,
          avatarUrl: req.avatarUrl,
        }),
      ),
    })),

    changePassword: rpc.unary<authV1.ChangePasswordRequest, authV1.ChangePasswordResponse>(
      async (req, ctx) => {
        await accounts.changePassword(ctx.em, caller(ctx), req.currentPassword, req.newPassword);
        return {};
      },
    ),

    getJwks: rpc.unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(async () => ({ keys: jwks() }), {
      auth: 'public',
    }),

    listUsers: rpc.unary<authV1.ListUsersRequest, authV1.ListUsersResponse>(
      async (req, ctx) => {
        const page = await admin.list(ctx.em, {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          role: req.role === authV1.Role.ROLE_UNSPECIFIED ? undefined : fromRole(req.role, 'role'),
          isActive: req.isActive,
          query: req.query,
        });
        return {
          users: page.users.map(toUser),
          page: { nextPageToken: page.nextPageToken, totalSize: page.totalSize },
        };
      },
      { auth: 'admin' },
    ),

    setUserRole: rpc.unary<authV1.SetUserRoleRequest, authV1.SetUserRoleResponse>(
      async (req, ctx) => ({
        user: toUser(await admin.setRole(ctx.em, caller(ctx), req.userId, fromRole(req.role, 'role'))),
      }),
      { auth: 'admin' },
    ),

    setUserActive: rpc.unary<authV1.SetUserActiveRequest, authV1.SetUserActiveResponse>(
      async (req, ctx) => ({
        user: toUser(await admin.setActive(ctx.em, caller(ctx), req.userId, req.isActive)),
      }),
      { auth: 'admin' },
    ),

    deleteUser: rpc.unary<authV1.DeleteUserRequest, authV1.DeleteUserResponse>(
      async (req, ctx) => {
        await admin.delete(ctx.em, caller(ctx), req.userId);
        return {};
      },
      { auth: 'admin' },
    ),
  };
}

function caller(ctx: CallContext): Caller {
  return {
    claims: ctx.claims,
    actor: {
      userId: ctx.claims?.userId,
      ipAddress: ctx.ipAddress,
      userAgent: ctx.userAgent,
      requestId: ctx.requestId,
    },
  };
}

export function toUser(user: UserRow): authV1.User {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    firstName: user.firstName ?? '',
    lastName: user.lastName ?? '',
    role: user.role === 'admin' ? authV1.Role.ROLE_ADMIN : authV1.Role.ROLE_USER,
    isActive: user.isActive,
    avatarUrl: user.avatarUrl ?? '',
    lastLogin: user.lastLogin ?? undefined,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

function toTokenPair(issued: IssuedTokens): authV1.TokenPair {
  return {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    expiresIn: issued.expiresIn,
    tokenType: 'Bearer',
  };
}

function fromRole(role: authV1.Role, field: string): Role {
  if (role === authV1.Role.ROLE_ADMIN) return 'admin';
  if (role === authV1.Role.ROLE_USER) return 'user';
  throw DomainError.invalidArgument(field, 'must be ROLE_USER or ROLE_ADMIN');
}
