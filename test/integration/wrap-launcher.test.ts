// How wrap starts a server on each platform: POSIX spawns the command as it is; Windows sends
// `.cmd`/`.bat` launchers (npx.cmd, uvx.cmd) and bare names through `cmd /d /s /c` with cmd.exe
// quoting. CI has no Windows runner, so these assert the exact command line built.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { exitStatus, launchFor, quoteForCmd } from '../../src/proxy/child.js';
import { absoluteCommand, isWrapped } from '../../src/cli/config-edit.js';

describe('wrap launcher', () => {
  it('spawns directly on POSIX, whatever the name', () => {
    assert.deepEqual(launchFor('npx', ['-y', 'server'], 'linux'), {
      command: 'npx',
      args: ['-y', 'server'],
      verbatim: false,
    });
    assert.deepEqual(launchFor('C:\\node\\node.exe', ['x'], 'win32'), {
      command: 'C:\\node\\node.exe',
      args: ['x'],
      verbatim: false,
    });
  });

  it('runs npx.cmd and bare names through cmd /d /s /c on Windows, quoting each argument', () => {
    assert.deepEqual(launchFor('npx.cmd', ['-y', '@scope/server', 'C:\\My Files'], 'win32'), {
      command: 'cmd.exe',
      args: ['/d', '/s', '/c', '"npx.cmd -y @scope/server "C:\\My Files""'],
      verbatim: true,
    });
    assert.equal(launchFor('uvx', ['mcp-server-time'], 'win32').command, 'cmd.exe');
    assert.equal(quoteForCmd('a&b'), '"a^&b"');
    assert.equal(quoteForCmd('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteForCmd(''), '""');
    assert.equal(quoteForCmd('C:\\my dir\\'), '"C:\\my dir\\\\"');
  });

  it('reports 128+N for a signal, like a shell', () => {
    assert.equal(exitStatus(null, 'SIGKILL'), 137);
    assert.equal(exitStatus(null, 'SIGTERM'), 143);
    assert.equal(exitStatus(3, null), 3);
  });

  it('install: recognises wrapped entries and makes bare commands absolute from PATH', () => {
    assert.ok(isWrapped('/usr/bin/node', ['/x/bin/mcp-audit.cjs', 'wrap', '--', 'npx']));
    assert.ok(isWrapped('mcp-audit', ['wrap', '--caller', 'u', '--', 'uvx', 'srv']));
    assert.ok(!isWrapped('npx', ['-y', 'wrap', '--', 'x']));
    assert.equal(
      absoluteCommand('sh', { PATH: '/nonexistent:/bin:/usr/bin' }, 'linux').endsWith('/sh'),
      true,
    );
    assert.equal(
      absoluteCommand('no-such-command-anywhere', { PATH: '/bin' }, 'linux'),
      'no-such-command-anywhere',
    );
    assert.equal(absoluteCommand('./relative.sh', { PATH: '/bin' }, 'linux'), './relative.sh');
  });
});
