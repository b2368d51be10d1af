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

/** A bcrypt hash ($2a$, $2b$ or $2y$) and its cost. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$/

/** Argon2 `Algorithm.Argon2id` (a const enum in @node-rs/argon2, which isolated modules cannot read). */
const ARGON2ID = 2

/** The production hasher. */
export function argon2Hasher(params: Argon2Params = OWASP_ARGON2): PasswordHasher {
  return {
    hash: (password) => argon2Hash(password, { algorithm: ARGON2ID, ...params }),
    async verify(stored, password) {
      if (BCRYPT.test(stored)) {
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

/**
 * What verifying `stored` costs depends on its family alone: the algorithm and parameters written before the
 * salt (`$2b$12$`, `$argon2id$v=19$m=19456,t=2,p=1$`). Undefined for what verify refuses without hashing.
 */
export function hashFamily(stored: string): string | undefined {
  const bcryptCost = Number(BCRYPT.exec(stored)?.[1])
  if (bcryptCost >= 4 && bcryptCost <= 31) return stored.slice(0, 7)
  if (!parseArgon2(stored)) return undefined
  return stored.slice(0, stored.lastIndexOf('$', stored.lastIndexOf('$') - 1) + 1)
}

/** A made-up salt (16 bytes) and digest (32 bytes) in PHC base64, and a bcrypt salt and digest (53 characters). */
const PROBE_ARGON2_TAIL = `c2FsdHNhbHRzYWx0c2FsdA$${'A'.repeat(43)}`
const PROBE_BCRYPT_TAIL = '.'.repeat(53)

/** A hash of `family` that verify works through in full, as it would a user's: to time the family without one. */
export function familyProbe(family: string): string {
  return family + (family.startsWith('$2') ? PROBE_BCRYPT_TAIL : PROBE_ARGON2_TAIL)
}

/** A random password for --generate-password: 24 base62 characters, 142 bits. */
export function generatePassword(): string {
  return randomBase62(24)
}
