"""Docker semantics the converger models (issue 9), on the real engine:
namespace dependents, auto-remove, missing bind sources, the log driver,
and stop timeouts longer than the client timeout."""

import json
import os
import socket
import threading
import time

import pytest

from tests import helpers
from tripleo_docker_hook import engine_compat

#: The engine under test's socket (podman's in tox -e functional-podman):
#: the proxy forwards there, never to a fixed Docker socket.
ENGINE_SOCK = os.environ.get('DOCKER_HOST', 'unix:///var/run/docker.sock'
                             ).replace('unix://', '', 1)


def spec(image=helpers.BUSYBOX, **extra):
    data = {'image': image, 'net': 'host', 'command': helpers.SLEEP_FOREVER}
    data.update(extra)
    return data


def config(containers, step=1):
    return {'docker_config': {f'step_{step}': containers}}


def apply(deployment, cfg, env, action='CREATE'):
    answer, rc, _ = helpers.run_hook(
        helpers.make_doc(deployment, cfg, action=action), env=env)
    return answer, rc


def timed_delete(deployment, cfg, env, proxy):
    """DELETE through the recording ``proxy``: ``(answer, rc, seconds)``."""
    env = dict(env, DOCKER_HOST=f'unix://{proxy.path}')
    started = time.monotonic()
    answer, rc = apply(deployment, cfg, env, action='DELETE')
    return answer, rc, time.monotonic() - started


def add_conf(env, **options):
    with open(env['TRIPLEO_DOCKER_HOOK_CONFIG'], 'a') as f:
        f.write(''.join(f'{k} = {v}\n' for k, v in options.items()))


def containers(api, deployment):
    """name → inspect of every container labelled with the deployment."""
    found = api.containers(all=True,
                           filters={'label': f'deployment={deployment}'})
    return {c['Names'][0].lstrip('/'): api.inspect_container(c['Id'])
            for c in found}


# -- a recording proxy in front of the Docker socket -------------------------

class SocketProxy:
    """A loopback unix socket that forwards to the engine's socket and keeps
    every byte the client sent, to read the requests back."""

    def __init__(self, path):
        self.path = path
        #: requests whose first line contains this are swallowed (never
        #: answered): an engine that hangs on that call.
        self.stall = b''
        self.sent = []          # one bytearray per connection
        self.lock = threading.Lock()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(64)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE_SOCK)
            record = bytearray()
            with self.lock:
                self.sent.append(record)
            threading.Thread(target=self._pump, args=(client, upstream,
                                                      record),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client,
                                                      None),
                             daemon=True).start()

    def _pump(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record is not None:
                    record.extend(data)
                    first = data.split(b'\r\n', 1)[0]
                    if self.stall and self.stall in first:
                        continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def requests(self):
        """``(method, path, body bytes)`` of every request, in order per
        connection."""
        out = []
        with self.lock:
            streams = [bytes(r) for r in self.sent]
        for data in streams:
            while data:
                head, sep, rest = data.partition(b'\r\n\r\n')
                if not sep:
                    break
                lines = head.decode('latin-1').split('\r\n')
                method, path = lines[0].split(' ')[:2]
                length = 0
                for line in lines[1:]:
                    key, _, value = line.partition(':')
                    if key.strip().lower() == 'content-length':
                        length = int(value.strip())
                out.append((method, path, rest[:length]))
                data = rest[length:]
        return out

    def close(self):
        self.server.close()


@pytest.fixture
def proxy(tmp_path_factory, docker_api):
    # unix socket paths are limited to 108 bytes: a short directory
    path = os.path.join(str(tmp_path_factory.mktemp('px')), 'd.sock')
    if len(path) > 100:
        import tempfile
        path = os.path.join(tempfile.mkdtemp(prefix='tdhpx'), 'd.sock')
    p = SocketProxy(path)
    yield p
    p.close()


def create_bodies(proxy, name):
    found = []
    for method, path, body in proxy.requests():
        if method == 'POST' and '/containers/create' in path and \
                f'name={name}' in path:
            found.append(json.loads(body))
    return found


# -- kind 4: log_tag does not choose the log driver ---------------------------

def _daemon_log_driver(docker_api):
    if docker_api.kind == engine_compat.PODMAN:
        info = docker_api._get(docker_api.base_url +
                               engine_compat.LIBPOD_PREFIX + '/info').json()
        return info['host']['logDriver']
    return docker_api.info()['LoggingDriver']


@pytest.mark.parametrize('form', ['docker_config', 'pod'])
def test_log_tag_keeps_the_daemons_default_driver(docker_api, deployment,
                                                  hook_env, proxy, form):
    """Only the tag is sent: ``LogConfig.Type`` is empty in the create
    request, so the daemon's default driver (journald on TripleO nodes)
    applies.  The old request named json-file."""
    driver = _daemon_log_driver(docker_api)
    if docker_api.kind == engine_compat.PODMAN and driver == 'k8s-file':
        pytest.skip("podman's default log driver here is k8s-file, which "
                    "has no tag: conmon refuses to start the container "
                    "(\"k8s-file doesn't support --log-tag\"); podman "
                    "on a systemd node logs to journald (podman.rst, "
                    "limits)")
    name = f'{deployment}-logged'
    if form == 'docker_config':
        cfg = config({name: spec(log_tag='x')})
    else:
        cfg = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
            'name': deployment, 'annotations': {
                'tripleo.org/docker-options': json.dumps(
                    {'log_tag': '{{.Name}}'})}},
            'spec': {'hostNetwork': True, 'containers': [{
                'name': 'logged', 'image': helpers.BUSYBOX,
                'imagePullPolicy': 'IfNotPresent',
                'command': helpers.SLEEP_FOREVER}]}}
    env = dict(hook_env, DOCKER_HOST=f'unix://{proxy.path}')
    answer, rc = apply(deployment, cfg, env)
    assert rc == 0, answer
    (body,) = create_bodies(proxy, name)
    tag = 'x' if form == 'docker_config' else '{{.Name}}'
    assert body['HostConfig']['LogConfig'] == {'Type': '',
                                               'Config': {'tag': tag}}
    info = docker_api.inspect_container(name)
    assert info['HostConfig']['LogConfig'] == {
        'Type': driver, 'Config': {'tag': tag}}


# -- kind 5: stop timeouts longer than the client timeout ---------------------

def _inspects(proxy, container_id):
    """The container inspects the hook sent through ``proxy``."""
    return [p for m, p, _ in proxy.requests()
            if m == 'GET' and f'/containers/{container_id}/json' in p]


def test_grace_period_longer_than_the_client_timeout(docker_api, deployment,
                                                     hook_env, proxy):
    """``stop_grace_period`` beyond ``docker_timeout`` + docker-py's
    assumed 10 s: the replace and the DELETE wait the whole grace period
    (the container ignores SIGTERM) instead of failing with a read
    timeout and leaving ``<name>.tdh-new`` behind.  The issue's 140 s
    against a 120 s client timeout, scaled down: 16 s against 3 s.

    Issue 14: the grace period is read from the hook's stop-timeout label,
    written at create, so the DELETE inspects nothing."""
    add_conf(hook_env, docker_timeout=3)
    name = f'{deployment}-stubborn'
    # PID 1 without a handler ignores SIGTERM: only SIGKILL stops it.
    stubborn = spec(command=['sleep', '3600'], stop_grace_period=16)
    answer, rc = apply(deployment, config({name: stubborn}), hook_env)
    assert rc == 0, answer
    old = docker_api.inspect_container(name)
    assert old['Config']['StopTimeout'] == 16
    assert old['Config']['Labels']['tripleo-docker-hook.stop-timeout'] \
        == '16'

    stubborn['environment'] = ['CHANGED=1']
    started = time.monotonic()
    answer, rc = apply(deployment, config({name: stubborn}), hook_env)
    took = time.monotonic() - started
    assert rc == 0, answer
    assert f'replaced {name}' in answer['deploy_stdout']
    now = containers(docker_api, deployment)
    assert set(now) == {name}
    assert now[name]['Id'] != old['Id']
    assert now[name]['State']['Running']
    assert took >= 15, 'the old container was not given its grace period'

    answer, rc, took = timed_delete(deployment, config({name: stubborn}),
                                    hook_env, proxy)
    assert rc == 0, answer
    assert containers(docker_api, deployment) == {}
    assert took >= 15, 'the DELETE did not wait the grace period'
    assert _inspects(proxy, now[name]['Id']) == []
    stops = [p for m, p, _ in proxy.requests()
             if m == 'POST' and p.split('?')[0].endswith(
                 f'/containers/{now[name]["Id"]}/stop')]
    assert len(stops) == 1 and 't=16' in stops[0], stops


def test_delete_of_an_unlabelled_container_reads_its_grace(
        docker_api, deployment, hook_env, proxy):
    """A container created before the stop-timeout label existed (the
    hook's other labels, no stop-timeout one): the DELETE inspects it for
    its StopTimeout (13 s here, above Docker's default 10 s) and waits
    that long, not the default."""
    from tripleo_docker_hook import definitions
    from tripleo_docker_hook import model
    from tripleo_docker_hook import plan as planning
    add_conf(hook_env, docker_timeout=3)
    name = f'{deployment}-old'
    data = spec(command=['sleep', '3600'], stop_grace_period=13)
    (c,) = definitions.parse(config({name: data})).containers
    labels = planning.labels_for(deployment, 'cfg', c)
    del labels[model.LABEL_STOP_TIMEOUT]
    host = docker_api.create_host_config(network_mode='host')
    created = docker_api.create_container(
        c.image, list(c.command), name=name, labels=labels,
        host_config=host, stop_timeout=13)
    docker_api.start(created['Id'])
    answer, rc, took = timed_delete(deployment, config({name: data}),
                                    hook_env, proxy)
    assert rc == 0, answer
    assert f'removed {name}' in answer['deploy_stdout']
    assert containers(docker_api, deployment) == {}
    assert len(_inspects(proxy, created['Id'])) == 1
    assert took >= 12, 'the DELETE did not wait the container\'s own grace'


def test_stop_timeout_rolls_the_replace_back(docker_api, deployment,
                                             hook_env, proxy):
    """An engine that never answers the stop of the old container: the
    client gives up after the container's stop timeout + docker_timeout
    with a typed timeout, and the replace is rolled back (it used to leave
    ``<name>.tdh-new`` behind, with no rollback)."""
    add_conf(hook_env, docker_timeout=3)
    name = f'{deployment}-svc'
    svc = spec(stop_grace_period=1)
    env = dict(hook_env, DOCKER_HOST=f'unix://{proxy.path}')
    assert apply(deployment, config({name: svc}), env)[1] == 0
    old = docker_api.inspect_container(name)
    svc['environment'] = ['V=2']
    proxy.stall = f'/containers/{old["Id"]}/stop'.encode()
    answer, rc = apply(deployment, config({name: svc}), env)
    assert rc != 0, answer
    err = answer['deploy_stderr']
    assert 'no answer from the Docker engine within the client timeout' \
        in err, err
    assert 'rolled back, the previous container is running again' in err
    now = containers(docker_api, deployment)
    assert set(now) == {name}
    assert now[name]['Id'] == old['Id'] and now[name]['State']['Running']


def run_in(api, name, command):
    exec_id = api.exec_create(name, command)
    out = api.exec_start(exec_id).decode('utf-8', 'replace')
    return api.exec_inspect(exec_id)['ExitCode'], out


def pid_ns(api, name):
    code, out = run_in(api, name, ['readlink', '/proc/1/ns/pid'])
    assert code == 0, out
    return out.strip()


# -- kind 1: a container that joins another's namespaces is a dependent ------

def test_replacing_a_parent_recreates_its_namespace_dependents(
        docker_api, deployment, hook_env):
    """The issue's input: ``child`` joins ``parent``'s PID and IPC
    namespaces.  Changing only the parent used to replace it alone; the
    child died with the old parent and could not restart.  podman refuses
    to remove a parent others still join (issue 17): the old parent is set
    aside and removed after the old child, in the same run."""
    parent, child = f'{deployment}-parent', f'{deployment}-child'
    cfg = config({
        parent: spec(ipc='shareable', start_order=0, restart='always'),
        child: spec(start_order=1, pid=f'container:{parent}',
                    ipc=f'container:{parent}', restart='always')})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    before = containers(docker_api, deployment)
    assert pid_ns(docker_api, child) == pid_ns(docker_api, parent)
    # re-sent unchanged: everything kept
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    assert f'keep {child}' in answer['deploy_stdout']
    assert {n: i['Id'] for n, i in containers(docker_api,
                                              deployment).items()} == \
        {n: i['Id'] for n, i in before.items()}

    cfg['docker_config']['step_1'][parent]['environment'] = ['CHANGED=1']
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    out = answer['deploy_stdout']
    assert f'start_order 0: replace {parent} (definition changed)' in out
    assert f'start_order 1: replace {child}' in out
    # the plan says why the dependent goes (its own fields are equal)
    assert f'    pid: {parent} is recreated' in out
    assert f'    ipc: {parent} is recreated' in out
    old_parent = f'{parent}.tdh-old.{before[parent]["Id"][:12]}'
    assert (f'replaced {parent} (definition changed); the previous one '
            f'waits as {old_parent}') in out
    assert (f'removed {old_parent} (replaced; removed after {child})'
            in out)
    after = containers(docker_api, deployment)
    assert set(after) == {parent, child}
    assert after[child]['Id'] != before[child]['Id']
    for name in (parent, child):
        assert after[name]['State']['Running'], after[name]['State']
        assert after[name]['RestartCount'] == 0
    assert pid_ns(docker_api, child) == pid_ns(docker_api, parent)


def test_a_parent_and_its_dependents_are_removed_together(
        docker_api, deployment, hook_env):
    """A definition that drops a parent and the containers joining it
    (``pid``/``ipc: container:X``, ``volumes_from``), then DELETE of the
    same family: all go in one run.  podman refuses to remove a parent
    others still join ("has dependent containers"); the removals go in
    waves, dependents first.  Docker takes any order."""
    parent, child, user = (f'{deployment}-{n}' for n in
                           ('parent', 'child', 'user'))
    family = {
        parent: spec(ipc='shareable', start_order=0),
        child: spec(start_order=1, pid=f'container:{parent}',
                    ipc=f'container:{parent}'),
        user: spec(start_order=1, volumes_from=[parent])}
    keep = f'{deployment}-keep'
    answer, rc = apply(deployment, config(dict(family)), hook_env)
    assert rc == 0, answer
    answer, rc = apply(deployment, config({keep: spec()}), hook_env)
    assert rc == 0, answer
    for name in (parent, child, user):
        assert f'removed {name} (no longer defined)' in \
            answer['deploy_stdout']
    assert set(containers(docker_api, deployment)) == {keep}

    answer, rc = apply(deployment, config({keep: spec(), **family}),
                       hook_env)
    assert rc == 0, answer
    assert set(containers(docker_api, deployment)) == {keep, parent, child,
                                                       user}
    answer, rc = apply(deployment, config({}), hook_env, action='DELETE')
    assert rc == 0, answer
    assert containers(docker_api, deployment) == {}


def test_volumes_from_dependent_and_undefined_reference(
        docker_api, deployment, hook_env, tmp_path):
    """Variant: ``volumes_from`` only (the child is not killed, but runs
    with the old parent's volumes); and a name defined nowhere is an
    error naming the field, with nothing created."""
    parent, child = f'{deployment}-data', f'{deployment}-user'
    cfg = config({
        parent: spec(),
        child: spec(start_order=1, volumes_from=[f'{parent}:ro'])})
    assert apply(deployment, cfg, hook_env)[1] == 0
    before = containers(docker_api, deployment)
    cfg['docker_config']['step_1'][parent]['image'] = helpers.BUSYBOX_OTHER
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    after = containers(docker_api, deployment)
    assert after[child]['Id'] != before[child]['Id']
    assert after[child]['HostConfig']['VolumesFrom'] == [f'{parent}:ro']

    lost = f'{deployment}-lost'
    bad = config({lost: spec(pid=f'container:{deployment}-nowhere')})
    answer, rc = apply(deployment, bad, hook_env)
    assert rc == 2, answer
    assert (f'step_1.{lost}.pid: Not found: "{deployment}-nowhere"'
            in answer['deploy_stderr'])
    assert lost not in containers(docker_api, deployment)


def test_pod_dependent_of_another_deployments_container(
        docker_api, deployment, hook_env):
    """A Pod (docker-options annotation) joining the PID namespace of a
    container of another deployment (TripleO: one deployment per step):
    when that one is replaced, the next apply of the Pod's deployment
    recreates it.  podman refuses to remove the old parent while the Pod
    joins it (issue 17): it is set aside and removed by the parent's
    deployment's next run; Docker removes it at once."""
    from tests.functional.conftest import remove_deployment
    parent = f'{deployment}-parent'
    pods = f'{deployment}-pods'
    parent_cfg = config({parent: spec(restart='always')})
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': pods, 'annotations': {
            'tripleo.org/docker-options': json.dumps(
                {'pid': f'container:{parent}'})}},
        'spec': {'hostNetwork': True, 'containers': [{
            'name': 'side', 'image': helpers.BUSYBOX,
            'imagePullPolicy': 'IfNotPresent',
            'command': helpers.SLEEP_FOREVER}]}}
    side = f'{pods}-side'
    try:
        assert apply(deployment, parent_cfg, hook_env)[1] == 0
        answer, rc = apply(pods, pod, hook_env)
        assert rc == 0, answer
        first = docker_api.inspect_container(side)['Id']
        answer, rc = apply(pods, pod, hook_env)
        assert rc == 0 and f'keep {side}' in answer['deploy_stdout'], answer
        parent_cfg['docker_config']['step_1'][parent]['environment'] = [
            'CHANGED=1']
        assert apply(deployment, parent_cfg, hook_env)[1] == 0
        answer, rc = apply(pods, pod, hook_env)
        assert rc == 0, answer
        assert f'replace {side}' in answer['deploy_stdout']
        assert docker_api.inspect_container(side)['Id'] != first
        assert pid_ns(docker_api, side) == pid_ns(docker_api, parent)
        # nothing of the parent's deployment is left set aside after its
        # next run, and the Pod's container was never removed by it
        answer, rc = apply(deployment, parent_cfg, hook_env)
        assert rc == 0, answer
        assert set(containers(docker_api, deployment)) == {parent}
        assert pid_ns(docker_api, side) == pid_ns(docker_api, parent)
    finally:
        remove_deployment(docker_api, pods)


# -- kind 2: remove: true -----------------------------------------------------

def test_removed_task_output_is_reported_and_it_is_not_rerun(
        docker_api, deployment, hook_env):
    task = f'{deployment}-once'
    cfg = config({task: {'image': helpers.BUSYBOX, 'net': 'host',
                         'detach': False, 'remove': True,
                         'command': ['sh', '-c', 'echo hello-from-task']}})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    assert 'hello-from-task' in answer['deploy_stdout']
    assert f'ran {task} (new): exit code 0' in answer['deploy_stdout']
    assert containers(docker_api, deployment) == {}
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    assert (f'keep {task} (done, code 0 (container removed))'
            in answer['deploy_stdout'])
    assert 'hello-from-task' not in answer['deploy_stdout']


def test_removed_task_failure_is_reported_and_rerun(docker_api, deployment,
                                                    hook_env):
    task = f'{deployment}-fails'
    cfg = config({task: {'image': helpers.BUSYBOX, 'net': 'host',
                         'detach': False, 'remove': True,
                         'command': ['sh', '-c', 'echo about-to-fail; '
                                     'exit 3']}})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    assert 'about-to-fail' in answer['deploy_stdout']
    assert 'exited with code 3' in answer['deploy_stderr']
    assert containers(docker_api, deployment) == {}
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    assert f'run {task} (failed before with code 3)' in \
        answer['deploy_stdout']


@pytest.mark.parametrize('broken', ['unhealthy', 'exits'])
def test_service_with_remove_is_replaced_and_rolled_back(
        docker_api, deployment, hook_env, broken):
    """``remove: true`` on a service is never Docker's AutoRemove: the
    stopped old container survives for the rollback."""
    add_conf(hook_env, start_timeout=8, start_settle=1)
    name = f'{deployment}-svc'
    svc = spec(remove=True)
    assert apply(deployment, config({name: svc}), hook_env)[1] == 0
    svc['environment'] = ['V=2']
    answer, rc = apply(deployment, config({name: svc}), hook_env)
    assert rc == 0, answer
    good = docker_api.inspect_container(name)
    assert good['HostConfig']['AutoRemove'] is False
    bad = dict(svc, environment=['V=3'])
    if broken == 'unhealthy':
        bad['healthcheck'] = {'test': 'false', 'interval': '1s',
                              'retries': 1}
    else:
        bad['command'] = ['sh', '-c', 'echo giving-up; exit 1']
    answer, rc = apply(deployment, config({name: bad}), hook_env)
    assert rc != 0, answer
    assert 'rolled back' in answer['deploy_stderr'], answer
    now = containers(docker_api, deployment)
    assert set(now) == {name}
    assert now[name]['Id'] == good['Id']
    assert now[name]['State']['Running']


# -- kind 3: a missing bind source is an error, not a new directory ----------

def test_missing_bind_source_is_refused(docker_api, deployment, hook_env,
                                        tmp_path):
    name = f'{deployment}-app'
    (tmp_path / 'etc').mkdir()
    missing = tmp_path / 'etc' / 'app' / 'missing.conf'
    cfg = config({name: spec(volumes=[f'{missing}:/etc/app.conf:ro'])})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 2, answer
    assert (f'step_1.{name}.volumes[0]: Not found: "{missing}"'
            in answer['deploy_stderr'])
    assert not (tmp_path / 'etc' / 'app').exists()
    assert containers(docker_api, deployment) == {}

    # the file exists: the container sees a file
    missing.parent.mkdir()
    missing.write_text('key=value\n')
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    code, out = run_in(docker_api, name, ['cat', '/etc/app.conf'])
    assert (code, out) == (0, 'key=value\n')


def test_missing_config_bind_source_is_refused_before_any_change(
        docker_api, deployment, hook_env):
    """Variant: the source is below the hook's own config directories
    (a config volume or Kolla file no puppet_config renders, e.g. a typo):
    rendering is over before the first step, so it is refused then, by
    field, with nothing created, not when its step is reached."""
    first, second = f'{deployment}-first', f'{deployment}-second'
    data = hook_env['TDH_CONFIG_DATA_DIR']
    kolla = hook_env['TDH_KOLLA_CONFIG_DIR']
    cfg = {'docker_config': {
        'step_1': {first: spec()},
        'step_2': {second: spec(volumes=[
            '/etc/hostname:/etc/x-hostname:ro',
            f'{data}/puppet-generated/nope:/etc/nope:ro',
            f'{kolla}/nope.json:/var/lib/kolla/config_files/config.json'
            ':ro'])}}}
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 2, answer
    err = answer['deploy_stderr']
    assert (f'step_2.{second}.volumes[1]: Not found: '
            f'"{data}/puppet-generated/nope"') in err, err
    assert (f'step_2.{second}.volumes[2]: Not found: '
            f'"{kolla}/nope.json"') in err, err
    assert 'volumes[0]' not in err
    assert containers(docker_api, deployment) == {}
    assert not os.path.exists(f'{data}/puppet-generated/nope')


def test_bind_sources_are_checked_through_host_root(
        docker_api, deployment, hook_env, tmp_path):
    """In the agents container the host's / is at host_root: a source
    present in the hook's own file system but not under host_root is
    missing on the host."""
    root = tmp_path / 'hostroot'
    root.mkdir()
    add_conf(hook_env, host_root=str(root))
    present = tmp_path / 'here.conf'
    present.write_text('x\n')
    name = f'{deployment}-app'
    answer, rc = apply(deployment, config(
        {name: spec(volumes=[f'{present}:/etc/here.conf:ro'])}), hook_env)
    assert rc == 2, answer
    assert f'step_1.{name}.volumes[0]: Not found' in answer['deploy_stderr']
    assert containers(docker_api, deployment) == {}


def test_pod_host_path_without_type_is_left_to_the_engine(
        docker_api, deployment, hook_env, tmp_path):
    """Kubernetes rules for Pods: hostPath type "" does not check."""
    made = tmp_path / 'made-by-docker'
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': deployment},
           'spec': {'hostNetwork': True,
                    'volumes': [{'name': 'v', 'hostPath': {
                        'path': str(made)}}],
                    'containers': [{
                        'name': 'c', 'image': helpers.BUSYBOX,
                        'imagePullPolicy': 'IfNotPresent',
                        'command': helpers.SLEEP_FOREVER,
                        'volumeMounts': [{'name': 'v',
                                          'mountPath': '/v'}]}]}}
    answer, rc = apply(deployment, pod, hook_env)
    assert rc == 0, answer
    assert made.is_dir()
