// oclif writes its manifest indented (2 MB, a fifth of the package); every command start parses it and
// nobody reads it by eye, so the build keeps it on one line (about 1.2 MB).
import { readFileSync, writeFileSync } from 'node:fs'

const file = new URL('../oclif.manifest.json', import.meta.url)
writeFileSync(file, JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))))
