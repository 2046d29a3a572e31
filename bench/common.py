"""What every part of the benchmark shares: images, paths, the error type,
and the one way a measured process is run and timed."""

import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, '.cache', 'bench')

BUSYBOX = os.environ.get('TDH_BUSYBOX_IMAGE', 'tdh/busybox:latest')
BUSYBOX_OTHER = os.environ.get('TDH_BUSYBOX_OTHER_IMAGE', 'tdh/busybox:other')
PUPPET = os.environ.get('TDH_PUPPET_IMAGE', 'tdh/puppet:latest')
#: Stops at once on SIGTERM (busybox ``sleep`` as PID 1 ignores it).
SLEEP_FOREVER = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"]
DOCKER_URL = os.environ.get('DOCKER_HOST', 'unix:///var/run/docker.sock')
RENDER_VOLUMES = ('bench_a', 'bench_b', 'bench_c', 'bench_d')
#: The client paunch forks: the distribution's, matching the engine (20.10).
DEFAULT_DOCKER_CLI = ('/usr/bin/docker' if os.path.exists('/usr/bin/docker')
                      else shutil.which('docker') or 'docker')


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def api_client():
    import docker
    return docker.APIClient(base_url=DOCKER_URL, version='1.41', timeout=300)


def git_commit():
    try:
        out = subprocess.run(['git', '-C', ROOT, 'describe', '--always',
                              '--dirty'], capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def cli_version(path):
    try:
        out = subprocess.run([path, 'version', '--format',
                              '{{.Client.Version}}'], capture_output=True,
                             text=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def child_env():
    """Environment of every measured process: bytecode cached.

    Installed packages (pip, RPM) ship ``.pyc`` files; a development shell
    with ``PYTHONDONTWRITEBYTECODE=1`` (tox sets it) recompiles every
    module of an editable install on each run, ~90 ms for the hook.  The
    cache goes to ``.cache/bench/pycache``, not the source tree.
    """
    env = dict(os.environ)
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    env['PYTHONPYCACHEPREFIX'] = os.path.join(CACHE, 'pycache')
    return env


def run_timed(argv, what, env=None, stdin=None, timeout=1800, ok=None,
              detail=None):
    """Whole-process wall time of ``argv`` (s) and its completed process.

    Raises BenchError naming ``what`` when the process fails: a non-zero
    exit status, or ``ok(proc)`` false when given (the hook answers its
    status on stdout); the message ends with ``detail(proc)`` when given,
    else with the process's stderr.
    """
    start = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or (ok is not None and not ok(proc)):
        text = detail(proc) if detail else (proc.stderr or proc.stdout)
        raise BenchError(f'{what} rc {proc.returncode}: {text[-800:]}')
    return elapsed, proc


def ensure_venv(venv, reqs, pip_args=()):
    """A private virtualenv holding ``reqs``, created on first use."""
    if not os.path.exists(os.path.join(venv, 'bin', 'python')):
        log(f'bench: installing {" ".join(reqs)} into {venv}')
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
        subprocess.run([os.path.join(venv, 'bin', 'pip'), 'install', '-q']
                       + list(pip_args) + list(reqs), check=True)
    return venv
