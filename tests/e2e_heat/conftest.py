"""A real Heat engine driving the agents container (tox -e e2e-heat).

Session set-up: ``tools/heat-services.sh start`` (Keystone + heat-all +
the fake Nova endpoint on 127.0.0.1, state in a temp dir) unless
``TDH_HEAT_STATE`` names a running one, and the agents image
(``tools/build-agents-image.sh``, a no-op when current).

A *node* is the agents container started with the systemd unit's own
``docker run`` (tests/functional/test_agents_container.unit_command: every
mount, host paths moved under the test's directory at the same path on both
sides), its os-collect-config on the ``heat`` collector with the
credentials Heat put in the DeployedServer's metadata.

Phase timings: ``phases('name')`` context manager; every phase is printed
in pytest's summary ("e2e-heat phase timings").
"""

import contextlib
import json
import os
import subprocess
import time

import pytest

from tests.e2e_heat.cloud import Cloud
from tests.functional.conftest import docker_api  # noqa: F401 (fixture)
from tests.functional.test_agents_container import agents_image  # noqa: F401
from tests.functional.test_agents_container import unit_command

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
TEMPLATES = os.path.join(REPO, 'etc', 'heat')
_TIMINGS = []


def pytest_terminal_summary(terminalreporter):
    if not _TIMINGS:
        return
    terminalreporter.section('e2e-heat phase timings')
    for test, phase, seconds in _TIMINGS:
        terminalreporter.write_line(f'{seconds:7.1f} s  {test}: {phase}')


@pytest.fixture
def phases(request):
    """``with phases('update'):`` times a phase for the summary."""
    @contextlib.contextmanager
    def phase(name):
        t0 = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - t0
            _TIMINGS.append((request.node.name, name, seconds))
            print(f'phase {name}: {seconds:.1f} s', flush=True)
    return phase


@pytest.fixture(scope='session')
def cloud():
    state = os.environ.get('TDH_HEAT_STATE')
    started = False
    t0 = time.monotonic()
    if not state:
        proc = subprocess.run(
            ['bash', os.path.join(REPO, 'tools', 'heat-services.sh'),
             'start'], capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, proc.stderr[-4000:]
        state = proc.stdout.strip().splitlines()[-1]
        started = True
        print(proc.stderr, flush=True)
    _TIMINGS.append(('session', 'Keystone + Heat set-up'
                     + ('' if started else ' (reused)'),
                     time.monotonic() - t0))
    yield Cloud(state)
    if started:
        subprocess.run(['bash', os.path.join(REPO, 'tools',
                                             'heat-services.sh'),
                        'stop', state], timeout=120)


@pytest.fixture(scope='session')
def node_image(agents_image):  # noqa: F811 (fixture)
    return agents_image


def write_hook_conf(root):
    path = f'{root}/etc/tripleo-docker-hook/tripleo-docker-hook.conf'
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(
            '[DEFAULT]\n'
            f'state_dir = {root}/var/lib/tripleo-docker-hook\n'
            f'config_data_dir = {root}/var/lib/config-data\n'
            f'kolla_config_dir = {root}/var/lib/kolla/config_files\n'
            'start_timeout = 60\n'
            '[puppet]\n'
            f'modules_dir = {root}/etc/puppet/modules\n'
            f'hieradata_dir = {root}/etc/puppet/hieradata\n'
            f'hiera_config = {root}/etc/puppet/hiera.yaml\n')
    return path


class Node:
    """One overcloud node: its own host directories and agents container."""

    def __init__(self, root, name, image):
        self.root = root
        self.name = name
        self.image = image
        self.occ_conf = f'{root}/etc/os-collect-config.conf'
        self.hook_conf = write_hook_conf(root)
        self.env = {
            'TRIPLEO_DOCKER_HOOK_CONFIG': self.hook_conf,
            'HEAT_CONFIG_DEPLOYED': f'{root}/var/lib/heat-config/deployed',
        }
        self.logs = []

    def configure(self, creds):
        """Write os-collect-config's config from the server's metadata."""
        os.makedirs(os.path.dirname(self.occ_conf), exist_ok=True)
        fd = os.open(self.occ_conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(
                '[DEFAULT]\n'
                'command = os-refresh-config\n'
                'collectors = heat\n'
                f'cachedir = {self.root}/var/lib/os-collect-config\n'
                # A maximum reached by doubling from min_polling_interval.
                'polling_interval = 2\n'
                'min_polling_interval = 1\n'
                '[heat]\n'
                f'auth_url = {creds["auth_url"]}\n'
                f'user_id = {creds["user_id"]}\n'
                f'password = {creds["password"]}\n'
                f'project_id = {creds["project_id"]}\n'
                f'stack_id = {creds["stack_id"]}\n'
                f'resource_name = {creds["resource_name"]}\n'
                f'region_name = {creds.get("region_name") or "RegionOne"}\n')

    def _command(self, args):
        command, paths = unit_command(self.root, self.name, self.image,
                                      self.env, args)
        for path in paths:   # the unit's ExecStartPre
            if path != self.occ_conf:
                os.makedirs(path, exist_ok=True)
        return command

    def start(self):
        """The unit's ExecStart, detached (systemd would supervise it)."""
        command = self._command(['--config-file', self.occ_conf])
        command[2:2] = ['-d']
        subprocess.run(command, check=True, capture_output=True,
                       timeout=120)

    def run_once(self):
        """One forced collection in a fresh container (``--one-time``)."""
        command = self._command(['--config-file', self.occ_conf,
                                 '--one-time', '--force'])
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
        self.logs.append(proc.stderr)
        return proc.stderr

    def log(self):
        proc = subprocess.run(['docker', 'logs', self.name],
                              capture_output=True, text=True, timeout=60)
        return proc.stdout + proc.stderr

    def stop(self):
        """Kill the container (os-collect-config as PID 1 ignores TERM)."""
        self.logs.append(self.log())
        subprocess.run(['docker', 'rm', '-f', self.name],
                       capture_output=True, timeout=120)

    def deployed_markers(self):
        path = f'{self.root}/var/lib/heat-config/deployed'
        return sorted(os.listdir(path)) if os.path.isdir(path) else []


@pytest.fixture
def make_node(tmp_path, node_image):
    nodes = []

    def make(label):
        name = f'tdh-e2e-{os.getpid()}-{label}-agents'
        node = Node(str(tmp_path / label), name, node_image)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.stop()


@pytest.fixture
def stacks(cloud, make_node):
    """Stacks a test created: deleted (and waited for) at teardown.

    Depends on ``make_node`` so the nodes still run during the deletes
    (a deployment with a DELETE action waits for its node's signal).
    """
    made = []
    yield made
    for ident in made:
        try:
            if cloud.stack(ident)['stack_status'] != 'DELETE_COMPLETE':
                cloud.cli('stack', 'delete', '--yes', ident, check=False)
                cloud.wait_stack(ident, 'DELETE', 180)
        except Exception as exc:   # already gone, or Heat is down
            print(f'teardown of {ident}: {exc}')


def failure_details(cloud, ident, node=None):
    """Everything useful when a stack action did not do what was asked."""
    out = [json.dumps(cloud.stack(ident), indent=1)[-3000:]]
    out.append(cloud.cli('stack', 'event', 'list', ident, check=False)[-3000:])
    if node is not None:
        out.append(node.log()[-6000:])
    return '\n'.join(out)
