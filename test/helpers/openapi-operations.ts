/**
 * The server's routes as its OpenAPI document states them (which zod wrote): what a corpus of requests
 * is generated from, so a new route is probed without anyone listing it.
 */

export type JsonSchema = Record<string, unknown> & {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  enum?: unknown[]
  additionalProperties?: boolean | JsonSchema
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, JsonSchema>>
}

export interface Operation {
  readonly method: string
  /** OpenAPI path template, `{name}` for a parameter. */
  readonly template: string
  readonly body?: JsonSchema | undefined
  readonly query: Record<string, JsonSchema>
  readonly queryRequired: readonly string[]
  readonly params: readonly string[]
}

/** Every operation of the document. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = []
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as { name: string; in: string; required?: boolean; schema: JsonSchema }[]
      const content = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)?.content
      operations.push({
        method: method.toUpperCase(),
        template,
        body: content?.['application/json']?.schema,
        query: Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
        queryRequired: parameters.filter((p) => p.in === 'query' && p.required).map((p) => p.name),
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
      })
    }
  }
  return operations
}

/** A path of the template with each parameter replaced (the value is encoded by the caller). */
export function pathOf(template: string, value: (name: string) => string): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => value(name))
}
