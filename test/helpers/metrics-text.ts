/** Reading a Prometheus text exposition (`GET /metrics`) the way a scraper does. */

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Every sample of metric `name` (exactly that name, labelled or not). */
export function metricSamples(text: string, name: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const labelled = line[name.length] === '{'
    const valueAt = labelled ? line.indexOf('}') + 1 : name.length
    const labels: Record<string, string> = {}
    if (labelled) for (const [, key, value] of line.slice(name.length + 1, valueAt - 1).matchAll(/(\w+)="([^"]*)"/g)) labels[key ?? ''] = value ?? ''
    samples.push({ labels, value: Number(line.slice(valueAt).trim()) })
  }
  return samples
}

/** The sum of metric `name` over the samples whose labels include every one of `where`. */
export function metricSum(text: string, name: string, where: Readonly<Record<string, string>> = {}): number {
  return metricSamples(text, name)
    .filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0)
}
