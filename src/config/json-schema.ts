import { z } from 'zod'
import { configSchema } from './schema.js'

/** The file name of the shipped JSON Schema, under the package's schema/ folder. */
export const CONFIG_SCHEMA_FILE = 'gantry.config.schema.json'

/**
 * The JSON Schema (draft 2020-12) of gantry.config.json, generated from the zod schema so the two never
 * disagree; `npm run schema` writes it to schema/, and a unit test fails when the committed copy drifts.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' })
  const { $schema, ...rest } = generated
  return {
    $schema,
    title: 'Gantry workspace configuration (gantry.config.json)',
    description:
      'Environments (database, redis, server, auth, rate limits, log) and migration settings of a Gantry workspace. Any value may be a ${VAR} or ${VAR:-default} reference to an environment variable; secrets belong in variables, never in this file.',
    ...rest,
  }
}

/** The schema as it is written to disk: 2-space JSON with a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}
