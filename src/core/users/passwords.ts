/**
 * Password hashing: argon2id with the OWASP parameters set explicitly for new hashes; verification also
 * accepts imported argon2 (PHC) and bcrypt ($2a$/$2b$/$2y$) hashes and says when one should be re-hashed.
 */
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { randomBase62 } from '../random.js'

export interface Argon2Params {
  /** KiB */
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

/** OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1. */
export const OWASP_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 }

/** The outcome of checking a password against a stored hash. */
export interface VerifyResult {
  readonly ok: boolean
  /** The hash is bcrypt, another argon2 variant, or argon2id below the policy: re-hash on this login. */
  readonly needsRehash: boolean
}

/** Hashing behind an interface so the services do not care which algorithm or parameters. */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(hash: string, password: string): Promise<VerifyResult>
}

/** Argon2 `Algorithm.Argon2id` (a const enum in @node-rs/argon2, which isolated modules cannot read). */
const ARGON2ID = 2

/** The production hasher. */
export function argon2Hasher(params: Argon2Params = OWASP_ARGON2): PasswordHasher {
  return {
    hash: (password) => argon2Hash(password, { algorithm: ARGON2ID, ...params }),
    async verify(stored, password) {
      if (/^\$2[aby]\$\d\d\$/.test(stored)) {
        const ok = await bcrypt.compare(password, stored)
        return { ok, needsRehash: true }
      }
      const phc = parseArgon2(stored)
      if (!phc) return { ok: false, needsRehash: false }
      let ok: boolean
      try {
        ok = await argon2Verify(stored, password)
      } catch {
        return { ok: false, needsRehash: false }
      }
      const weaker = phc.variant !== 'argon2id' || phc.m < params.memoryCost || phc.t < params.timeCost || phc.p < params.parallelism
      return { ok, needsRehash: weaker }
    },
  }
}

/** The variant and parameters of an argon2 PHC string, or undefined when it is not one. */
export function parseArgon2(stored: string): { variant: string; m: number; t: number; p: number } | undefined {
  const match = /^\$(argon2(?:id|i|d))\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$/.exec(stored)
  if (!match) return undefined
  return { variant: match[1] as string, m: Number(match[2]), t: Number(match[3]), p: Number(match[4]) }
}

/** A random password for --generate-password: 24 base62 characters, 142 bits. */
export function generatePassword(): string {
  return randomBase62(24)
}
