/** What the result files record about the machine a figure was measured on. */
import { arch, availableParallelism, cpus, loadavg, platform, totalmem } from 'node:os'

/** Cores, memory, Node version, platform, CPU model and the load average when the run started. */
export function machineInfo() {
  return {
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()}-${arch()}`,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  }
}
