/**
 * An identity provider as an environment's config names it (`auth.sso.providers`): where it is (its OIDC
 * issuer, discovered from its metadata), who Gantry is to it (client id and secret, the redirect URI
 * registered there), and what a sign-in may do to Gantry's accounts: link an existing user by a verified
 * email of an allowed domain, create one (`autoCreate`) with `defaultRole`, and turn the values of a claim
 * into a role (`roleClaim`, `roleMap`). The file's form leaves the policy fields out; the resolved one has
 * their defaults: no linking or creation by email until domains are allowed.
 */
import { z } from 'zod'

const providerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a provider id is 1 to 32 characters of a-z, 0-9 and - (it is part of the callback URL)')
const roleName = z.string().min(1).max(64)
const domain = z
  .string()
  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a domain such as example.com')
  .transform((d) => d.toLowerCase())

const fields = {
  id: providerId,
  name: z.string().min(1).max(64).describe('The sign-in button: "Sign in with <name>" (default: the id)').optional(),
  issuer: z.string().url().describe("The provider's OpenID Connect issuer URL; its metadata is read from /.well-known/openid-configuration"),
  clientId: z.string().min(1).max(255),
  clientSecret: z.string().describe('Write a ${VAR} reference, never the value').optional(),
  redirectUri: z.string().url().describe('The callback registered at the provider (default: server.publicUrl + /api/v1/auth/sso/<id>/callback)').optional(),
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
    defaultRole: roleName.describe('The role of a user created at sign-in when roleMap gives none (default viewer)').optional(),
    roleClaim: z.string().min(1).max(64).describe('The ID token claim whose values roleMap reads (groups, roles …)').optional(),
    roleMap: z.record(z.string().min(1).max(255), roleName).describe("Claim value → Gantry role; the first of the claim's values found wins").optional(),
  })
  .strict()

/** A provider with its defaults, as the SSO service reads it. */
export const ssoProviderSchema = z.object({
  ...fields,
  scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
  allowedDomains: z.array(domain).default([]),
  autoCreate: z.boolean().default(false),
  defaultRole: roleName.default('viewer'),
  roleClaim: z.string().optional(),
  roleMap: z.record(z.string(), roleName).default({}),
})
export type SsoProviderConfig = z.output<typeof ssoProviderSchema>
