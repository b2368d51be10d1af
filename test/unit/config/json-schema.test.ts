import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { CONFIG_SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from '../../../src/config/json-schema.js'
import { packageRoot } from '../../../src/package-root.js'

describe('config: JSON Schema', () => {
  it('the committed schema/gantry.config.schema.json is what `npm run schema` generates now', () => {
    const committed = readFileSync(join(packageRoot(), 'schema', CONFIG_SCHEMA_FILE), 'utf8')
    expect(committed, 'schema/ is out of date: run `npm run schema`').to.equal(configJsonSchemaText())
  })

  it('is a titled draft 2020-12 schema that refuses unknown keys and describes environments', () => {
    const schema = configJsonSchema() as {
      $schema: string
      title: string
      additionalProperties: boolean
      properties: Record<string, { additionalProperties?: { properties?: Record<string, unknown> } }>
    }
    expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema')
    expect(schema.title).to.be.a('string')
    expect(schema.additionalProperties).to.equal(false)
    expect(Object.keys(schema.properties.environments?.additionalProperties?.properties ?? {})).to.include.members([
      'database',
      'redis',
      'server',
      'auth',
      'rateLimits',
      'protected',
    ])
  })
})
