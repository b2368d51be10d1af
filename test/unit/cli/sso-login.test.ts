/** Where `gantry login --sso` looks for a browser: the choice between this machine's browser and a code for another device. */
import { expect } from 'chai'
import { hasLocalBrowser } from '../../../src/cli/sso-login.js'

describe('gantry login --sso: is there a browser on this machine', () => {
  const cases: Array<[string, NodeJS.ProcessEnv, NodeJS.Platform, boolean]> = [
    ['a Linux desktop (X11)', { DISPLAY: ':0' }, 'linux', true],
    ['a Linux desktop (Wayland)', { WAYLAND_DISPLAY: 'wayland-0' }, 'linux', true],
    ['a Linux box without a display', {}, 'linux', false],
    ['a shell over SSH, even with X forwarding', { DISPLAY: 'localhost:10.0', SSH_CONNECTION: '198.51.100.7 52000 10.0.0.2 22' }, 'linux', false],
    ['macOS', {}, 'darwin', true],
    ['macOS over SSH', { SSH_TTY: '/dev/ttys003' }, 'darwin', false],
    ['Windows', {}, 'win32', true],
  ]
  for (const [what, env, platform, expected] of cases) {
    it(`${what}: ${expected ? 'the browser here' : 'a code for another device'}`, () => {
      expect(hasLocalBrowser(env, platform)).to.equal(expected)
    })
  }
})
