import { GantryCommand } from '../src/cli/base-command.js'
import { doctorFailed, sectionLines, summaryLine } from '../src/cli/doctor-output.js'
import { doctorReport, doctorReportSchema, machineInputs, runDoctor, type DoctorCheck, type DoctorReport } from '../src/doctor/index.js'

export default class Doctor extends GantryCommand<typeof Doctor> {
  static override summary = 'Check this machine and workspace: toolchain, config, .env modes, every environment, credentials, server.'
  static override description =
    'Runs every check it can without asking anything and prints each with ✔ (ok), ! (warning) or ✖ (problem) and, when not ok, the fix: ' +
    'the Node version against package.json engines, the SQLite driver and argon2 load; gantry.config.json is valid; ' +
    'every .env and .env.* file in the workspace is mode 0600 (not on Windows); every environment as `gantry env check` checks it, ' +
    'one row each (an environment whose variables are not set on this machine warns); the login file of `gantry login`, who it is for and whether its token expired; ' +
    'and GANTRY_URL and the servers logged in to answer their readiness route (a warning when not). Never prints a secret. ' +
    'Exits 3 when a check fails, 0 otherwise (warnings printed); with --json the failing run carries the checks in error.details.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']
  static override resultSchema = doctorReportSchema

  async run(): Promise<DoctorReport> {
    const checks: DoctorCheck[] = []
    // Each group is printed when done; having written lines, the spinner leaves no mark of its own.
    await this.ui.spin('Checking the toolchain', async (spinner) => {
      const inputs = await machineInputs({ cwd: process.cwd(), configPath: this.flags.config, progress: (text) => spinner.update(text) })
      for await (const section of runDoctor(inputs)) {
        if (checks.length > 0) spinner.out('')
        checks.push(...section.checks)
        for (const line of sectionLines(section, this.ui.color)) spinner.out(line)
      }
    })
    const report = doctorReport(checks)
    this.ui.out(`\n${summaryLine(report.summary, this.ui.color)}`)
    if (report.summary.fail > 0) throw doctorFailed(report)
    return report
  }
}
