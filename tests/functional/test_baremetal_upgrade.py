"""Upgrading a baremetal node: a container takes over a packaged service.

A "node" is ``tdh/node:latest`` (tools/build-node-image.sh): systemd as
PID 1 in a privileged container (``--cgroupns=private``, no
``/sys/fs/cgroup`` bind: the only variant that leaves the host's cgroup
mounts alone), with the host's network so the port really is shared, and
a packaged-style ``openstack-nova-compute.service`` (busybox httpd on a
loopback port of our choosing, appending to ``/var/lib/nova/events.log``,
enabled).  ``/var/lib/nova`` is a host directory of the test, bound into
the node; the hook's ``nova_compute`` container mounts the same directory,
as on a real node where both see the host's ``/var/lib/nova``.

The hook runs on the test host with the node's ``/run/dbus`` (a bind of a
test directory) as its ``host_dbus_address``, as the agents container
mounts the host's ``/run/dbus``.  Every claim about the unit is checked
by asking the node's own systemd (``systemctl show`` run inside the
node), never the hook's view or the files.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests import helpers
from tripleo_docker_hook import host_units

NODE_IMAGE = os.environ.get('TDH_NODE_IMAGE', 'tdh/node:latest')
NOVA = 'openstack-nova-compute.service'
REPO = os.path.join(os.path.dirname(__file__), '..', '..')


def docker(*args, check=True, timeout=120):
    proc = subprocess.run(['docker'] + list(args), capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (args, proc.stderr)
    return proc


def wait_for(what, func, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = func()
        if value:
            return value
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Node:
    """One booted node container and its shared directories."""

    def __init__(self, root, port):
        self.name = helpers.unique('tdh-node')
        self.port = port
        self.dbus = root / 'run-dbus'
        self.nova = root / 'var-lib-nova'
        for path in (self.dbus, self.nova):
            path.mkdir(parents=True)
        self.port_file = root / 'port'
        self.port_file.write_text(f'{port}\n')

    @property
    def address(self):
        return f'unix:path={self.dbus}/system_bus_socket'

    def start(self):
        docker('run', '-d', '--name', self.name, '--privileged',
               '--cgroupns=private', '--net', 'host',
               '--stop-signal', 'RTMIN+3', '--tmpfs', '/run',
               '--tmpfs', '/run/lock', '-v', f'{self.dbus}:/run/dbus',
               '-v', f'{self.nova}:/var/lib/nova',
               '-v', f'{self.port_file}:/etc/nova-dummy.port:ro',
               '--label', 'tripleo-docker-hook.test=node', NODE_IMAGE)
        self.wait_booted()

    def wait_booted(self):
        def booted():
            out = docker('exec', self.name, 'systemctl',
                         'is-system-running', check=False).stdout.strip()
            return out in ('running', 'degraded') and out
        assert wait_for('the node to boot', booted) == 'running', \
            docker('exec', self.name, 'systemctl', '--failed',
                   check=False).stdout

    def reboot(self):
        docker('restart', '-t', '10', self.name)
        self.wait_booted()

    def unit(self):
        """The node's own systemd's view of the unit (systemctl inside)."""
        out = docker('exec', self.name, 'systemctl', 'show', '-p',
                     'ActiveState,UnitFileState,SubState', NOVA).stdout
        return dict(line.split('=', 1) for line in out.split())

    def events(self):
        return (self.nova / 'events.log').read_text().splitlines()

    def get(self, path='/events.log'):
        url = f'http://127.0.0.1:{self.port}{path}'
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    def remove(self):
        docker('rm', '-f', self.name, check=False)


#: Why these tests run on Docker only: what they prove (host units over
#: D-Bus) does not depend on the engine, and the node is a privileged
#: systemd container set up for dockerd (tools/build-node-image.sh).
PODMAN_SKIP = ('engine-independent (host units are managed over D-Bus); '
               'the systemd node and the agents image are set up for the '
               'Docker engine')


def is_podman(docker_api):
    return any('podman' in str(c.get('Name', '')).lower()
               for c in docker_api.version().get('Components') or ())


@pytest.fixture
def node(docker_api, tmp_path):
    if is_podman(docker_api):
        pytest.skip(PODMAN_SKIP)
    try:
        docker_api.inspect_image(NODE_IMAGE)
    except Exception:
        pytest.fail(f'test image {NODE_IMAGE} missing: run '
                    'tools/build-images.sh')
    n = Node(tmp_path / 'node', free_port())
    try:
        n.start()
        wait_for('the baremetal service to serve',
                 lambda: 'baremetal start' in (n.get() or ''))
        yield n
    finally:
        n.remove()


@pytest.fixture
def env(hook_env, node):
    return dict(hook_env, OS_DEFAULT__HOST_DBUS_ADDRESS=node.address)


def nova_config(node, command=None, **extra):
    command = command or (
        f'echo "container start $(date +%s)" >> /var/lib/nova/events.log; '
        f'exec httpd -f -p 127.0.0.1:{node.port} -h /var/lib/nova')
    spec = {
        'image': helpers.BUSYBOX, 'net': 'host', 'restart': 'always',
        'host_services': [NOVA],
        'volumes': [f'{node.nova}:/var/lib/nova'],
        'command': ['sh', '-c', command],
        'stop_grace_period': 2,
        # Healthy only once it serves: proves the port was freed.
        'healthcheck': {'test': f'wget -qO- http://127.0.0.1:{node.port}/'
                                'events.log', 'interval': '0.3s',
                        'retries': 30}}
    spec.update(extra)
    return {'docker_config': {'step_3': {'nova_compute': spec}}}


def container(docker_api, name='nova_compute'):
    return docker_api.inspect_container(name)


@pytest.fixture
def cleanup_nova(docker_api):
    yield
    try:
        docker_api.remove_container('nova_compute', force=True)
    except Exception:
        pass


def test_takeover_keeps_data_and_port_survives_reapply_and_reboot(
        docker_api, deployment, env, node, cleanup_nova):
    assert node.unit() == {'ActiveState': 'active', 'SubState': 'running',
                           'UnitFileState': 'enabled'}
    doc = helpers.make_doc(deployment, nova_config(node))
    answer, rc, stderr = helpers.run_hook(doc, env=env)
    assert rc == 0, (answer, stderr[-3000:])
    assert ('stopped and disabled host unit openstack-nova-compute.service '
            '(replaced by nova_compute)') in answer['deploy_stdout']
    # The node's systemd: stopped and disabled.
    assert node.unit() == {'ActiveState': 'inactive', 'SubState': 'dead',
                           'UnitFileState': 'disabled'}
    info = container(docker_api)
    assert info['State']['Running'] and \
        info['State']['Health']['Status'] == 'healthy'
    # The port is the container's now, and it serves the data the
    # baremetal service wrote (kept), to which it added its own line.
    served = node.get()
    assert served is not None
    events = node.events()
    assert [e.split()[:2] for e in events] == [
        ['baremetal', 'start'], ['baremetal', 'stop'],
        ['container', 'start']]
    assert served.splitlines() == events

    # Re-apply: nothing changes, nothing is reported as changed.
    answer, rc, _ = helpers.run_hook(doc, env=env)
    assert rc == 0, answer
    assert 'stopped and disabled host unit' not in answer['deploy_stdout']
    assert 'host unit openstack-nova-compute.service is already stopped ' \
        'and disabled (replaced by nova_compute)' in answer['deploy_stdout']
    assert container(docker_api)['Id'] == info['Id']
    assert node.events() == events
    assert node.unit()['UnitFileState'] == 'disabled'

    # Reboot the node: the unit stays down (disabled) ...
    node.reboot()
    assert node.unit() == {'ActiveState': 'inactive', 'SubState': 'dead',
                           'UnitFileState': 'disabled'}
    assert node.events() == events
    # ... and the container's process, gone with the "reboot", comes back
    # by its restart policy, on the same port and data.
    os.kill(container(docker_api)['State']['Pid'], signal.SIGKILL)
    wait_for('the restart policy', lambda: container(
        docker_api)['RestartCount'] >= 1 and container(
        docker_api)['State']['Running'])
    wait_for('the container to serve again',
             lambda: node.get() and [e.split()[0] for e in node.events()
                                     ].count('container') == 2)
    assert node.get().splitlines() == node.events()
    assert node.unit()['ActiveState'] == 'inactive'


def test_failing_container_gives_the_unit_back(docker_api, deployment, env,
                                               node, cleanup_nova):
    doc = helpers.make_doc(deployment, nova_config(
        node, command='echo "broken start" >> /var/lib/nova/events.log; '
                      'exit 3'))
    env = dict(env, OS_DEFAULT__START_TIMEOUT='20')
    answer, rc, stderr = helpers.run_hook(doc, env=env)
    assert rc != 0, answer
    out = answer['deploy_stdout']
    assert 'stopped and disabled host unit openstack-nova-compute.service ' \
        '(replaced by nova_compute)' in out
    assert 'restored host unit openstack-nova-compute.service (enabled and ' \
        'active again) because nova_compute failed' in out, out
    assert 'nova_compute' in answer['deploy_stderr']
    # The node's systemd: enabled and running again, serving the port.
    assert node.unit() == {'ActiveState': 'active', 'SubState': 'running',
                           'UnitFileState': 'enabled'}
    assert not container(docker_api)['State']['Running']
    wait_for('the baremetal service to serve again', node.get)
    kinds = [' '.join(e.split()[:2]) for e in node.events()]
    assert kinds[0] == 'baremetal start' and kinds[-1] == 'baremetal start'
    assert 'broken start' in kinds
    assert kinds.count('baremetal start') == 2
    # No record left: a later DELETE or rollback has nothing to give back.
    assert host_units.replaced_units(env['TDH_STATE_DIR']) == []


def ctl(env, *args):
    script = os.path.join(os.path.dirname(helpers.hook_command()[0]),
                          'tripleo-docker-hook-ctl')
    command = [script] if os.path.exists(script) else [
        sys.executable, '-m', 'tripleo_docker_hook.cli']
    return subprocess.run(command + list(args), env=env, capture_output=True,
                          text=True, timeout=300)


def test_ctl_plan_shows_the_unit_decisions_and_changes_nothing(
        docker_api, deployment, env, node, hook_env, tmp_path,
        cleanup_nova):
    """``ctl plan`` asks the node's systemd (read only) what an apply
    would do to each claimed unit."""
    doc = helpers.make_doc(deployment, nova_config(node))
    path = tmp_path / 'doc.json'
    path.write_text(json.dumps(doc))
    proc = ctl(env, 'plan', str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ('step 3 start_order 0: stop and disable host unit '
            'openstack-nova-compute.service (replaced by nova_compute; now '
            'enabled, active)') in proc.stdout, proc.stdout
    proc = ctl(env, 'plan', str(path), '-f', 'json')
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in json.loads(proc.stdout) if r['action'] == 'host unit']
    assert len(rows) == 1 and 'stop and disable host unit' in \
        rows[0]['reason'], rows
    # a dry run: the node is as it was
    assert node.unit() == {'ActiveState': 'active', 'SubState': 'running',
                           'UnitFileState': 'enabled'}
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
    # unreachable systemd: said, not an error of the dry run
    bad = dict(hook_env, OS_DEFAULT__HOST_DBUS_ADDRESS=(
        f'unix:path={node.dbus}/nope'))
    proc = ctl(bad, 'plan', str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'host units: cannot reach the host\'s systemd over D-Bus' in \
        proc.stdout
    # once taken over, the plan says so
    answer, rc, _ = helpers.run_hook(doc, env=env)
    assert rc == 0, answer
    proc = ctl(env, 'plan', str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ('host unit openstack-nova-compute.service is already stopped '
            'and disabled (replaced by nova_compute)') in proc.stdout


def test_rollback_gives_the_unit_back_delete_does_not(
        docker_api, deployment, env, node, cleanup_nova):
    doc = helpers.make_doc(deployment, nova_config(node))
    answer, rc, _ = helpers.run_hook(doc, env=env)
    assert rc == 0, answer
    assert node.unit()['ActiveState'] == 'inactive'

    # The deployment's first definition replaced the unit: rolling back
    # removes its container and runs the unit again.
    proc = ctl(env, 'rollback', deployment)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'gave host unit openstack-nova-compute.service back (enabled, ' \
        'active again; no longer replaced by nova_compute)' in proc.stdout
    assert node.unit() == {'ActiveState': 'active', 'SubState': 'running',
                           'UnitFileState': 'enabled'}
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
    wait_for('the baremetal service to serve again', node.get)
    assert host_units.replaced_units(env['TDH_STATE_DIR']) == []

    # Deployed again, then DELETE: the container goes, the unit stays
    # stopped and disabled.
    answer, rc, _ = helpers.run_hook(doc, env=env)
    assert rc == 0, answer
    assert 'stopped and disabled host unit' in answer['deploy_stdout']
    delete = helpers.make_doc(deployment, nova_config(node),
                              action='DELETE')
    answer, rc, _ = helpers.run_hook(delete, env=env)
    assert rc == 0, answer
    assert 'host unit openstack-nova-compute.service stays stopped and ' \
        'disabled' in answer['deploy_stdout']
    assert node.unit() == {'ActiveState': 'inactive', 'SubState': 'dead',
                           'UnitFileState': 'disabled'}
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
    assert node.get() is None
    [rec] = host_units.replaced_units(env['TDH_STATE_DIR'])
    assert rec['released'] and rec['previous']['file_state'] == 'enabled'


def test_absent_unit_is_fine_and_unreachable_dbus_changes_nothing(
        docker_api, deployment, env, node, hook_env, cleanup_nova):
    config = nova_config(node)
    config['docker_config']['step_3']['nova_compute']['host_services'] = [
        'openstack-nova-gone.service']
    # No D-Bus: the deployment fails before anything changes.
    bad = dict(hook_env, OS_DEFAULT__HOST_DBUS_ADDRESS=(
        f'unix:path={node.dbus}/nope'))
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, config),
                                     env=bad)
    assert rc != 0
    assert 'cannot reach the host\'s systemd over D-Bus' in \
        answer['deploy_stderr']
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
    # A unit the node does not have: nothing to stop.
    config['docker_config']['step_3']['nova_compute']['command'] = \
        helpers.SLEEP_FOREVER
    config['docker_config']['step_3']['nova_compute'].pop('healthcheck')
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, config),
                                     env=env)
    assert rc == 0, answer
    assert 'host unit openstack-nova-gone.service is not present on this ' \
        'host' in answer['deploy_stdout']
    assert node.unit()['ActiveState'] == 'active'


def test_units_the_node_needs_are_never_taken_over(
        docker_api, deployment, env, node, cleanup_nova):
    """A container may not replace the engine, the bus, the agents unit or
    systemd's own units: stopping one takes the hook down mid-apply.
    By name at validation, and by systemd's canonical name for an alias
    (``dbus-org.freedesktop.login1.service`` is systemd-logind here)."""
    def logind():
        out = docker('exec', node.name, 'systemctl', 'show', '-p',
                     'ActiveState,UnitFileState',
                     'systemd-logind.service').stdout
        return dict(line.split('=', 1) for line in out.split())

    before = logind()
    assert before['ActiveState'] == 'active', before
    config = nova_config(node)
    spec = config['docker_config']['step_3']['nova_compute']
    spec.pop('healthcheck')
    spec['command'] = helpers.SLEEP_FOREVER
    for units, field in (
            (['dbus.service', NOVA], 'host_services[0]'),
            ([NOVA, 'dbus-org.freedesktop.login1.service'],
             'host_services')):
        spec['host_services'] = units
        answer, rc, _ = helpers.run_hook(
            helpers.make_doc(deployment, config), env=env)
        assert rc == 2, answer
        assert (f'step_3.nova_compute.{field}: Forbidden: '
                in answer['deploy_stderr']), answer
        assert docker_api.containers(
            all=True, filters={'label': f'deployment={deployment}'}) == []
        assert node.unit()['ActiveState'] == 'active'
        assert logind() == before
    assert 'systemd-logind.service' in answer['deploy_stderr']
    assert host_units.replaced_units(env['TDH_STATE_DIR']) == []


@pytest.fixture(scope='module')
def agents_image(docker_api):
    """tdh/agents:latest, built or refreshed (a no-op when current)."""
    if is_podman(docker_api):
        pytest.skip(PODMAN_SKIP)
    image = os.environ.get('TDH_AGENTS_IMAGE', 'tdh/agents:latest')
    proc = subprocess.run(
        ['bash', os.path.join(REPO, 'tools', 'build-agents-image.sh')],
        env=dict(os.environ, TDH_AGENTS_IMAGE=image), capture_output=True,
        text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return image


def test_hook_in_the_agents_image_reaches_systemd_through_run_dbus(
        docker_api, deployment, node, tmp_path, agents_image, cleanup_nova):
    """The product route: the hook in the agents image, the node's bus
    directory mounted at /run/dbus as the unit mounts the host's, and the
    default host_dbus_address."""
    dirs = {k: tmp_path / k for k in ('state_dir', 'config_data_dir',
                                      'kolla_config_dir')}
    command = ['docker', 'run', '--rm', '-i', '--net', 'host',
               '-v', '/var/run/docker.sock:/var/run/docker.sock',
               '-v', f'{node.dbus}:/run/dbus',
               # as the unit: bind sources are checked through the host's /
               '-v', '/:/host', '-e', 'OS_DEFAULT__HOST_ROOT=/host']
    for key, path in dirs.items():
        path.mkdir()
        command += ['-v', f'{path}:{path}',
                    '-e', f'OS_DEFAULT__{key.upper()}={path}']
    doc = helpers.make_doc(deployment, nova_config(node))
    proc = subprocess.run(command + [agents_image, 'tripleo-docker-hook'],
                          input=helpers.json.dumps(doc), capture_output=True,
                          text=True, timeout=300)
    answer = helpers.json.loads(proc.stdout)
    assert proc.returncode == 0, (answer, proc.stderr[-3000:])
    assert ('stopped and disabled host unit openstack-nova-compute.service '
            '(replaced by nova_compute)') in answer['deploy_stdout']
    assert node.unit() == {'ActiveState': 'inactive', 'SubState': 'dead',
                           'UnitFileState': 'disabled'}
    assert 'container start' in node.get()


LATE = 'openstack-nova-late.service'


@pytest.fixture
def second_deployment(docker_api):
    """Another deployment name; its containers are removed afterwards."""
    from tests.functional.conftest import remove_deployment
    name = helpers.unique()
    yield name
    remove_deployment(docker_api, name)


def late_config(node, container='nova_compute'):
    """A container claiming LATE, a unit the node does not have (yet)."""
    config = nova_config(node, host_services=[LATE])
    spec = config['docker_config']['step_3'].pop('nova_compute')
    spec.pop('healthcheck')
    spec['command'] = helpers.SLEEP_FOREVER
    config['docker_config']['step_3'][container] = spec
    return config


def late_unit(node):
    out = docker('exec', node.name, 'systemctl', 'show', '-p',
                 'ActiveState,UnitFileState,LoadState', LATE).stdout
    return dict(line.split('=', 1) for line in out.split())


def test_a_claim_on_an_absent_unit_is_exclusive_until_delete(
        docker_api, deployment, second_deployment, env, node):
    """Deployment A claims a unit the node does not have: B is refused
    (status 2, the field named, nothing changed) until A is deleted; then
    B gets it, and once the package turns up (installed, enabled,
    running) B's re-apply takes it over and ``ctl rollback`` gives it
    back.  States from the node's own systemd."""
    state_dir = env['TDH_STATE_DIR']
    assert late_unit(node)['LoadState'] == 'not-found'
    a = helpers.make_doc(deployment, late_config(node))
    answer, rc, _ = helpers.run_hook(a, env=env)
    assert rc == 0, answer
    assert f'host unit {LATE} is not present on this host' in \
        answer['deploy_stdout']
    [rec] = host_units.replaced_units(state_dir)
    assert (rec['unit'], rec['deployment'], rec['container']) == (
        LATE, deployment, 'nova_compute')
    assert rec['previous'] is None and rec['taken_over'] is False
    assert rec['found'] == 'not present'
    # ctl show says so
    proc = ctl(env, 'show', deployment, '-f', 'json')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [shown] = json.loads(proc.stdout)['host_units']
    assert (shown['unit'], shown['taken_over'], shown['previous'],
            shown['found']) == (LATE, False, None, 'not present')
    # ctl rollback: no previous definition, and no "baremetal" one either
    proc = ctl(env, 'rollback', deployment)
    assert proc.returncode != 0, proc.stdout
    assert 'were claimed but never taken over: nothing to give back' in \
        proc.stdout + proc.stderr
    assert container(docker_api)['State']['Running']

    # B claims the same unit: refused before anything changes.
    records = host_units.Records(state_dir).load()
    b = helpers.make_doc(second_deployment, late_config(node, 'nova_b'))
    answer, rc, _ = helpers.run_hook(b, env=env)
    assert rc == 2, answer
    assert answer['deploy_status_code'] == 2
    assert (f'step_3.nova_b.host_services: Duplicate value: "{LATE}": '
            f'claimed (not taken over: not present) by container '
            f'nova_compute of deployment "{deployment}"') in \
        answer['deploy_stderr'], answer
    assert docker_api.containers(all=True, filters={
        'label': f'deployment={second_deployment}'}) == []
    assert host_units.Records(state_dir).load() == records
    assert late_unit(node)['LoadState'] == 'not-found'

    # DELETE A: released, said so, no unit command suggested.
    answer, rc, _ = helpers.run_hook(helpers.make_doc(
        deployment, late_config(node), action='DELETE'), env=env)
    assert rc == 0, answer
    assert (f'host unit {LATE} is no longer claimed (its container was '
            'removed; it was never taken over: nothing to give back)') in \
        answer['deploy_stdout']
    assert 'systemctl enable' not in answer['deploy_stdout']
    [rec] = host_units.replaced_units(state_dir)
    assert rec['released'] and rec['deployment'] == deployment

    # Now B may claim it.
    answer, rc, _ = helpers.run_hook(b, env=env)
    assert rc == 0, answer
    [rec] = host_units.replaced_units(state_dir)
    assert (rec['deployment'], rec['container'], rec['taken_over']) == (
        second_deployment, 'nova_b', False)
    assert 'released' not in rec
    b_id = container(docker_api, 'nova_b')['Id']

    # The package turns up: B's re-apply takes it over ...
    docker('exec', node.name, 'sh', '-c',
           f'printf "[Service]\\nExecStart=/bin/sleep infinity\\n'
           f'[Install]\\nWantedBy=multi-user.target\\n" '
           f'> /etc/systemd/system/{LATE} && systemctl daemon-reload && '
           f'systemctl enable --now {LATE}')
    assert late_unit(node) == {'ActiveState': 'active',
                               'UnitFileState': 'enabled',
                               'LoadState': 'loaded'}
    answer, rc, _ = helpers.run_hook(b, env=env)
    assert rc == 0, answer
    assert (f'stopped and disabled host unit {LATE} (replaced by nova_b)'
            in answer['deploy_stdout']), answer
    assert late_unit(node) == {'ActiveState': 'inactive',
                               'UnitFileState': 'disabled',
                               'LoadState': 'loaded'}
    assert container(docker_api, 'nova_b')['Id'] == b_id
    [rec] = host_units.replaced_units(state_dir)
    assert rec['taken_over'] is True and 'found' not in rec
    assert (rec['previous']['file_state'],
            rec['previous']['active_state']) == ('enabled', 'active')
    # ... and gives it back on rollback (B's first definition: baremetal).
    proc = ctl(env, 'rollback', second_deployment)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f'gave host unit {LATE} back (enabled, active again' in \
        proc.stdout
    assert late_unit(node) == {'ActiveState': 'active',
                               'UnitFileState': 'enabled',
                               'LoadState': 'loaded'}
    assert host_units.replaced_units(state_dir) == []
