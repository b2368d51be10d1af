/** The payloads of single sign-on that cross a door: the providers a sign-in offers, and the CLI's loopback sign-in. */
import { z } from 'zod'
import { sessionTokensSchema } from '../sessions/sessions.schema.js'

export const ssoProvidersSchema = z.object({
  providers: z.array(z.object({ id: z.string(), name: z.string() })),
  passwordLogin: z.boolean().describe('whether the password form is worth showing (auth.passwordLogin)'),
})
export type SsoProviders = z.infer<typeof ssoProvidersSchema>

/** A PKCE value as RFC 7636 allows it: 43 to 128 characters of the unreserved set. */
const pkceValue = z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'a PKCE value is 43 to 128 characters of A-Z, a-z, 0-9 and -._~')

/**
 * Where a CLI signing in waits for the browser (RFC 8252 §7.3): plain http to the IP loopback literal, a
 * port of its own, a path; never a name such as localhost, which another program could answer for.
 */
export const loopbackRedirectSchema = z
  .string()
  .max(255)
  .refine((text) => {
    if (!URL.canParse(text)) return false
    const url = new URL(text)
    return (
      url.protocol === 'http:' &&
      (url.hostname === '127.0.0.1' || url.hostname === '[::1]') &&
      url.port !== '' &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === ''
    )
  }, 'a CLI waits at http://127.0.0.1:PORT/PATH (or [::1]), nothing else')

/** `gantry login --sso`: how the CLI asks for a sign-in that comes back to it. */
export const cliSignInSchema = z.object({
  cli: loopbackRedirectSchema,
  state: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'a state is 16 to 128 characters of A-Z, a-z, 0-9, _ and -'),
  challenge: pkceValue,
})
export type CliSignIn = z.infer<typeof cliSignInSchema>

/** The CLI's exchange of the code its loopback received, with the verifier of the challenge it sent. */
export const ssoExchangeInputSchema = z.object({
  code: z.string().regex(/^[A-Za-z0-9]{20,64}$/, 'the code the sign-in handed to the CLI'),
  verifier: pkceValue,
})
export type SsoExchangeInput = z.infer<typeof ssoExchangeInputSchema>

/** A device sign-in started for a CLI (RFC 8628): what the person enters where, and the handle the CLI polls with. */
export const ssoDeviceStartSchema = z.object({
  handle: z.string().describe('what the CLI polls with: only it holds it'),
  userCode: z.string().describe('the code the person enters at the provider'),
  verificationUri: z.string().describe("the provider's page to enter it at"),
  verificationUriComplete: z.string().nullable().describe('the same page with the code filled in, where the provider offers one'),
  expiresIn: z.number().int().describe('seconds until the code expires'),
  interval: z.number().int().describe('seconds between polls'),
})
export type SsoDeviceStart = z.infer<typeof ssoDeviceStartSchema>

export const ssoDevicePollInputSchema = z.object({ handle: z.string().regex(/^[A-Za-z0-9]{32}$/, 'the handle the device sign-in gave') })

/** A poll of a device sign-in: still waiting for the person, or their session. */
export const ssoDevicePollSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('pending'), interval: z.number().int().describe('seconds before the next poll') }),
  z.object({ status: z.literal('signed-in'), tokens: sessionTokensSchema }),
])
export type SsoDevicePoll = z.infer<typeof ssoDevicePollSchema>
