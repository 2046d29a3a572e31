"""tools/*.sh: the scripts that share tools/lib.sh answer ``--help`` with
their whole header and refuse an unknown argument before doing anything.

(``--help`` and an unknown argument are handled before any side effect,
so running the scripts here touches nothing.)
"""

import os
import subprocess

import pytest

TOOLS = os.path.join(os.path.dirname(__file__), '..', '..', 'tools')


def _read(name):
    with open(os.path.join(TOOLS, name), encoding='utf-8') as f:
        return f.read()


SCRIPTS = sorted(n for n in os.listdir(TOOLS)
                 if n.endswith('.sh') and n != 'lib.sh' and
                 'lib.sh"' in _read(n))


def _header(text):
    """The leading comment block after the #! line, without the '#'."""
    out = []
    for line in text.splitlines()[1:]:
        if not line.startswith('#'):
            break
        line = line[1:]
        out.append(line[1:] if line.startswith(' ') else line)
    return '\n'.join(out) + '\n'


def _run(name, *args):
    return subprocess.run(['bash', os.path.join(TOOLS, name), *args],
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def test_the_build_scripts_share_lib_sh():
    assert {'build-images.sh', 'build-agents-image.sh',
            'build-node-image.sh'} <= set(SCRIPTS)


@pytest.mark.parametrize('name', SCRIPTS)
@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_prints_the_whole_header(name, flag):
    result = _run(name, flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout == _header(_read(name))
    assert len(result.stdout.splitlines()) > 3
    assert result.stderr == ''


@pytest.mark.parametrize('name', [
    n for n in SCRIPTS if 'bad_argument' in _read(n) or
    'switch_arg' in _read(n)])
def test_unknown_argument_is_refused(name):
    result = _run(name, '--no-such-option')
    assert result.returncode == 2
    assert result.stdout == ''
    assert result.stderr.strip().endswith(
        'unknown argument: --no-such-option (see --help)')
