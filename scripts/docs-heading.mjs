// oclif readme writes its topic list under a level-1 heading; in our README it sits under
// "## Command reference", so it becomes a level-3 heading.
import { readFileSync, writeFileSync } from 'node:fs'

const readme = new URL('../README.md', import.meta.url)
writeFileSync(readme, readFileSync(readme, 'utf8').replace(/^# Command Topics$/m, '### Command topics'))
