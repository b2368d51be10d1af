/**
 * An identity provider as an environment's config names it (`auth.sso.providers`): where it is (its OIDC
 * issuer, discovered from its metadata), who Gantry is to it (client id and secret, the redirect URI
 * registered there), and what a sign-in may do to Gantry's accounts: link an existing user by a verified
 * email of an allowed domain, create one (`autoCreate`) with `defaultRole`, and turn the values of a claim
 * into a role (`roleClaim`, `roleMap`). The file's form leaves the policy fields out; the resolved one has
 * their defaults: no linking or creation by email until domains are allowed.
 *
 * A provider without OpenID Connect (GitHub) is a plain OAuth 2.0 one: `oauth2` names its endpoints and how
 * its user API's answer maps to the claims a sign-in reads (its stable id, email, name), and where a list of
 * the account's verified addresses is.
 */
import { z } from 'zod'

const providerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a provider id is 1 to 32 characters of a-z, 0-9 and - (it is part of the callback URL)')
const roleName = z.string().min(1).max(64)
const domain = z
  .string()
  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a domain such as example.com')
  .transform((d) => d.toLowerCase())

/** A plain OAuth 2.0 provider's endpoints, and where its user API keeps what a sign-in reads. */
const oauth2Schema = z
  .object({
    authorizationEndpoint: z.string().url().describe('GitHub: https://github.com/login/oauth/authorize'),
    tokenEndpoint: z.string().url().describe('GitHub: https://github.com/login/oauth/access_token'),
    userInfoEndpoint: z.string().url().describe('GET with the access token: the account as a JSON object (GitHub: https://api.github.com/user)'),
    emailsEndpoint: z
      .string()
      .url()
      .describe('GET with the access token: [{ email, verified, primary }], what vouches for an address (GitHub: https://api.github.com/user/emails)')
      .optional(),
    claims: z
      .object({
        sub: z.string().min(1).max(64).describe("The user info's field of the account's stable id (default id)").optional(),
        email: z.string().min(1).max(64).describe('Its email field (default email)').optional(),
        emailVerified: z
          .string()
          .min(1)
          .max(64)
          .describe('Its field that is true for a verified address; without it (or emailsEndpoint) no address counts as verified')
          .optional(),
        name: z.string().min(1).max(64).describe('Its display name field (default name)').optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
export type OAuth2Endpoints = z.infer<typeof oauth2Schema>

const fields = {
  id: providerId,
  name: z.string().min(1).max(64).describe('The sign-in button: "Sign in with <name>" (default: the id)').optional(),
  issuer: z
    .string()
    .url()
    .describe(
      "The provider's OpenID Connect issuer URL; its metadata is read from /.well-known/openid-configuration (with oauth2: the provider's URL, e.g. https://github.com)",
    ),
  clientId: z.string().min(1).max(255),
  clientSecret: z.string().describe('Write a ${VAR} reference, never the value').optional(),
  redirectUri: z.string().url().describe('The callback registered at the provider (default: server.publicUrl + /api/v1/auth/sso/<id>/callback)').optional(),
  oauth2: oauth2Schema.describe('A provider without OpenID Connect (GitHub): its endpoints and user API; no discovery, no ID token').optional(),
}

/** A provider as the config file may write it. */
export const ssoProviderFileSchema = z
  .object({
    ...fields,
    scopes: z.array(z.string().min(1).max(64)).max(20).describe('Default: openid email profile').optional(),
    allowedDomains: z
      .array(domain)
      .describe('Email domains whose verified addresses may link an existing user or, with autoCreate, create one (default: none)')
      .optional(),
    autoCreate: z.boolean().describe('Create a user at the first sign-in of a verified email of an allowed domain (default false)').optional(),
    deviceFlow: z
      .boolean()
      .describe(
        'Let a CLI without a browser sign in on another device with a code (RFC 8628; default false: whoever gets a person to enter a code signs in as them)',
      )
      .optional(),
    defaultRole: roleName.describe('The role of a user created at sign-in when roleMap gives none (default viewer)').optional(),
    roleClaim: z.string().min(1).max(64).describe('The ID token claim whose values roleMap reads (groups, roles …)').optional(),
    roleMap: z.record(z.string().min(1).max(255), roleName).describe("Claim value → Gantry role; the first of the claim's values found wins").optional(),
  })
  .strict()
  // The device grant is found through OpenID Connect discovery, which a plain OAuth 2.0 provider has not.
  .refine((p) => !(p.deviceFlow && p.oauth2), {
    path: ['deviceFlow'],
    message: 'a provider without OpenID Connect (oauth2) offers no sign-in on another device: leave deviceFlow out',
  })

/** A provider with its defaults, as the SSO service reads it. */
export const ssoProviderSchema = z.object({
  ...fields,
  scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
  allowedDomains: z.array(domain).default([]),
  autoCreate: z.boolean().default(false),
  deviceFlow: z.boolean().default(false),
  defaultRole: roleName.default('viewer'),
  roleClaim: z.string().optional(),
  roleMap: z.record(z.string(), roleName).default({}),
})
export type SsoProviderConfig = z.output<typeof ssoProviderSchema>
