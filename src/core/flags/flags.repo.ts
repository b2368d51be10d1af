/** The knex queries of feature flags, their segments and the version every change bumps (what instances poll). */
import type { Knex } from 'knex'
import { versionCounter } from '../settings/settings.repo.js'
import { flagDefinitionSchema, segmentDefinitionSchema, type FlagDefinition, type SegmentDefinition } from './flags.schema.js'

export const FLAGS_TABLE = 'gantry_flags'
export const SEGMENTS_TABLE = 'gantry_flag_segments'
const VERSION_KEY = 'flags.version'

interface FlagRow {
  key: string
  type: string
  enabled: boolean | number
  lifetime: string
  definition: string
  created_by: string
  created_at: number | string
  updated_at: number | string
}

interface SegmentRow {
  name: string
  definition: string
  created_at: number | string
  updated_at: number | string
}

export interface StoredFlag {
  readonly flag: FlagDefinition
  readonly createdBy: string
  readonly createdAt: number
  readonly updatedAt: number
}

export interface StoredSegment {
  readonly segment: SegmentDefinition
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * A row as the evaluator may read it: parsed through the same schema as any input, so a row edited by hand
 * into something invalid fails the load (the snapshot in force stays) instead of reaching evaluation.
 */
function toStoredFlag(row: FlagRow): StoredFlag {
  const { description, variants, defaultVariant, offVariant, rules } = JSON.parse(row.definition) as Record<string, unknown>
  const flag = flagDefinitionSchema.parse({
    key: row.key,
    type: row.type,
    enabled: Boolean(row.enabled),
    lifetime: row.lifetime,
    description,
    variants,
    defaultVariant,
    offVariant,
    rules,
  })
  return { flag, createdBy: row.created_by, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) }
}

function toStoredSegment(row: SegmentRow): StoredSegment {
  const { description, conditions } = JSON.parse(row.definition) as Record<string, unknown>
  return {
    segment: segmentDefinitionSchema.parse({ name: row.name, description, conditions }),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

const flagColumns = (flag: FlagDefinition) => ({
  type: flag.type,
  enabled: flag.enabled,
  lifetime: flag.lifetime,
  definition: JSON.stringify({
    description: flag.description,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    offVariant: flag.offVariant,
    rules: flag.rules,
  }),
})

export async function selectFlags(k: Knex): Promise<StoredFlag[]> {
  return ((await k<FlagRow>(FLAGS_TABLE).select('*').orderBy('key')) as FlagRow[]).map(toStoredFlag)
}

export async function selectFlag(k: Knex, key: string): Promise<StoredFlag | undefined> {
  const row = (await k<FlagRow>(FLAGS_TABLE).select('*').where({ key }).first()) as FlagRow | undefined
  return row && toStoredFlag(row)
}

export async function insertFlag(k: Knex, flag: FlagDefinition, createdBy: string, at: number): Promise<void> {
  await k(FLAGS_TABLE).insert({ key: flag.key, ...flagColumns(flag), created_by: createdBy, created_at: at, updated_at: at })
}

export async function updateFlag(k: Knex, flag: FlagDefinition, at: number): Promise<void> {
  await k(FLAGS_TABLE)
    .where({ key: flag.key })
    .update({ ...flagColumns(flag), updated_at: at })
}

export async function deleteFlag(k: Knex, key: string): Promise<void> {
  await k(FLAGS_TABLE).where({ key }).delete()
}

export async function selectSegments(k: Knex): Promise<StoredSegment[]> {
  return ((await k<SegmentRow>(SEGMENTS_TABLE).select('*').orderBy('name')) as SegmentRow[]).map(toStoredSegment)
}

/** Inserts or replaces a segment by name; `created_at` stays what it was. */
export async function upsertSegment(k: Knex, segment: SegmentDefinition, at: number): Promise<void> {
  await k(SEGMENTS_TABLE)
    .insert({
      name: segment.name,
      definition: JSON.stringify({ description: segment.description, conditions: segment.conditions }),
      created_at: at,
      updated_at: at,
    })
    .onConflict('name')
    .merge(['definition', 'updated_at'])
}

export async function deleteSegment(k: Knex, name: string): Promise<void> {
  await k(SEGMENTS_TABLE).where({ name }).delete()
}

/** The flags' version (`lock` first in a change's transaction, `bump` last). */
export const { read: readVersion, lock: lockVersion, bump: bumpVersion } = versionCounter(VERSION_KEY)
