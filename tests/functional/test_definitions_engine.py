"""Definitions → real containers: the engine's inspect, field by field."""

import os

import pytest

from tests import helpers
from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import definitions
from tripleo_docker_hook import engine as engine_mod
from tripleo_docker_hook import hostpath
from tripleo_docker_hook import plan as planning

SLEEP = helpers.SLEEP_FOREVER


@pytest.fixture
def engine(docker_api):
    return engine_mod.Engine()


def run_in(docker_api, name, command):
    """``(exit code, output)`` of a command run in a container."""
    exec_id = docker_api.exec_create(name, command)
    out = docker_api.exec_start(exec_id).decode('utf-8', 'replace')
    return docker_api.exec_inspect(exec_id)['ExitCode'], out


def create(engine, deployment, container, start=True):
    labels = planning.labels_for(deployment, 'cfg', container)
    assert labels['managed_by'] == MANAGED_BY
    hostpath.prepare(container)
    engine.create(container, container.name, labels)
    if start:
        engine.start(container.name)
    return engine.inspect(container.name)


def test_compute_node_privileged_host_pid_mounts(engine, deployment,
                                                 tmp_path, docker_api):
    dirs = {n: tmp_path / n for n in ('lib', 'run', 'etc')}
    for d in dirs.values():
        d.mkdir()
    (dirs['etc'] / 'nova.conf').write_text('[DEFAULT]\n')
    name = f'{deployment}-nova_libvirt'
    config = {'docker_config': {'step_3': {name: {
        'image': helpers.BUSYBOX, 'net': 'host', 'pid': 'host',
        'privileged': True, 'user': 'root', 'restart': 'always',
        'command': SLEEP, 'stop_grace_period': '5s',
        'environment': {'KOLLA_CONFIG_STRATEGY': 'COPY_ALWAYS'},
        'ulimit': ['nofile=1024:2048'], 'cap_add': ['SYS_NICE'],
        'volumes': [f'{dirs["lib"]}:/var/lib/nova:rw',
                    f'{dirs["run"]}:/run/libvirt', '',
                    f'{dirs["etc"]}:/etc/nova:ro']}}}}
    (c,) = definitions.parse(config).containers
    info = create(engine, deployment, c)
    hc, cfg = info['HostConfig'], info['Config']
    assert hc['NetworkMode'] == 'host'
    assert hc['Privileged'] is True
    assert hc['PidMode'] == 'host'
    assert hc['RestartPolicy'] == {'Name': 'always', 'MaximumRetryCount': 0}
    assert sorted(hc['Binds']) == sorted([  # podman reorders them
        f'{dirs["lib"]}:/var/lib/nova:rw', f'{dirs["run"]}:/run/libvirt:rw',
        f'{dirs["etc"]}:/etc/nova:ro'])
    # (podman adds the nproc limit it runs with when only nofile is asked)
    assert [u for u in hc['Ulimits'] if u['Name'] != 'nproc' or
            helpers.ENGINE == 'docker'] == [
        {'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]
    if helpers.ENGINE == 'docker':  # podman: privileged has them all
        assert hc['CapAdd'] == ['SYS_NICE']
    assert cfg['User'] == 'root'
    assert cfg['Cmd'] == SLEEP
    assert cfg['StopTimeout'] == 5
    assert 'KOLLA_CONFIG_STRATEGY=COPY_ALWAYS' in cfg['Env']
    assert cfg.get('Healthcheck') is None      # the image's own (none)
    mounts = {m['Destination']: m for m in info['Mounts']}
    assert mounts['/etc/nova']['RW'] is False
    assert mounts['/var/lib/nova']['RW'] is True
    code, out = run_in(docker_api, c.name, ['sh', '-c',
                                            'cat /etc/nova/nova.conf; '
                                            'touch /etc/nova/x'])
    assert '[DEFAULT]' in out and 'Read-only' in out and code != 0


def test_service_health_check_in_nanoseconds(engine, deployment):
    name = f'{deployment}-keystone_cron'
    (c,) = definitions.parse({name: {
        'image': helpers.BUSYBOX, 'command': SLEEP, 'restart': 'always',
        'healthcheck': {'test': 'true', 'interval': '2s', 'timeout': '1s',
                        'retries': 2, 'start_period': '500ms'}}}).containers
    info = create(engine, deployment, c)
    assert info['Config']['Healthcheck'] == {
        'Test': ['CMD-SHELL', 'true'], 'Interval': 2_000_000_000,
        'Timeout': 1_000_000_000, 'Retries': 2,
        'StartPeriod': 500_000_000}


def test_one_shot_bootstrap_task(engine, deployment, tmp_path):
    name = f'{deployment}-db_sync'
    out = tmp_path / 'out'
    out.mkdir()
    (c,) = definitions.parse({name: {
        'image': helpers.BUSYBOX, 'detach': False, 'user': 'root',
        'environment': ['KOLLA_BOOTSTRAP=True'], 'exit_codes': [0, 3],
        'command': 'sh -c "echo $KOLLA_BOOTSTRAP > /out/done; exit 3"',
        'volumes': [f'{out}:/out']}}).containers
    info = create(engine, deployment, c)
    assert info['HostConfig']['RestartPolicy']['Name'] in ('', 'no')
    assert info['Config']['Cmd'] == [
        'sh', '-c', 'echo $KOLLA_BOOTSTRAP > /out/done; exit 3']
    code = engine.wait(c.name, timeout=30)
    assert code == 3 and code in c.exit_codes
    assert (out / 'done').read_text() == 'True\n'


def test_pod_security_resources_and_volumes(engine, deployment, tmp_path,
                                            docker_api):
    pod_name = deployment
    data = tmp_path / 'data'      # DirectoryOrCreate: created by prepare
    config = {'apiVersion': 'v1', 'kind': 'Pod',
              'metadata': {'name': pod_name},
              'spec': {
                  'terminationGracePeriodSeconds': 5,
                  'restartPolicy': 'OnFailure',
                  'securityContext': {'runAsUser': 1000,
                                      'runAsGroup': 1000},
                  'volumes': [
                      {'name': 'data', 'hostPath': {
                          'path': str(data), 'type': 'DirectoryOrCreate'}},
                      {'name': 'mem', 'emptyDir': {'medium': 'Memory',
                                                   'sizeLimit': '8Mi'}}],
                  'containers': [{
                      'name': 'app', 'image': helpers.BUSYBOX,
                      'command': SLEEP[:2] + ['$(CMD)'],
                      'workingDir': '/tmp',
                      'env': [{'name': 'CMD', 'value': SLEEP[2]},
                              {'name': 'ME', 'valueFrom': {'fieldRef': {
                                  'fieldPath': 'metadata.name'}}}],
                      'volumeMounts': [
                          {'name': 'data', 'mountPath': '/data',
                           'subPath': 'sub'},
                          {'name': 'mem', 'mountPath': '/mem'}],
                      'securityContext': {
                          'capabilities': {'add': ['NET_ADMIN'],
                                           'drop': ['ALL']},
                          'readOnlyRootFilesystem': True,
                          'allowPrivilegeEscalation': False},
                      'resources': {'limits': {'cpu': '500m',
                                               'memory': '64Mi'},
                                    'requests': {'cpu': '250m'}}}]}}
    (c,) = definitions.parse(config).containers
    assert c.name == f'{pod_name}-app'
    info = create(engine, deployment, c)
    hc, cfg = info['HostConfig'], info['Config']
    assert hc['NetworkMode'] == 'host'
    assert cfg['Entrypoint'] == SLEEP
    assert not cfg['Cmd']       # the image's CMD ["sh"] is not appended
    assert cfg['User'] == '1000:1000'
    assert cfg['WorkingDir'] == '/tmp'
    assert f'ME={pod_name}' in cfg['Env']
    assert cfg['StopTimeout'] == 5
    assert cfg['Healthcheck'] == {'Test': ['NONE']}
    assert hc['RestartPolicy'] == {'Name': 'on-failure',
                                   'MaximumRetryCount': 0}
    assert hc['CapAdd'] == ['NET_ADMIN']
    if helpers.ENGINE == 'docker':  # podman lists every dropped one
        assert hc['CapDrop'] == ['ALL']
    assert hc['ReadonlyRootfs'] is True
    assert hc['SecurityOpt'] == ['no-new-privileges', 'seccomp=unconfined']
    assert hc['Memory'] == hc['MemorySwap'] == 64 << 20
    assert hc['CpuShares'] == 256
    assert (hc['CpuQuota'], hc['CpuPeriod']) == (50000, 100000)
    assert hc['Binds'] == [f'{data}/sub:/data:rw']
    # podman spells out its default tmpfs options and, for a read-only
    # root, adds tmpfs on /run, /tmp and /var/tmp (read_only_tmpfs).
    assert hc['Tmpfs']['/mem'].split(',')[0] == f'size={8 << 20}'
    if helpers.ENGINE == 'docker':
        assert hc['Tmpfs'] == {'/mem': f'size={8 << 20}'}
    assert (data / 'sub').is_dir()
    assert cfg['Labels']['io.kubernetes.pod.name'] == pod_name
    code, out = run_in(docker_api, c.name,
                       ['sh', '-c', 'echo "<$(id -u):$(id -g)>"'])
    assert code == 0 and '<1000:1000>' in out, out
    code, _ = run_in(docker_api, c.name, ['touch', '/rootfs-write'])
    assert code != 0
    # capabilities: all dropped but NET_ADMIN (bit 12), on both engines
    code, out = run_in(docker_api, c.name,
                       ['grep', 'CapBnd', '/proc/self/status'])
    assert code == 0 and out.split()[-1] == f'{1 << 12:016x}', out


def test_hook_rejects_wrong_host_path_type_before_any_change(
        docker_api, deployment, hook_env, tmp_path):
    target = tmp_path / 'file'
    target.write_text('x')
    config = {'apiVersion': 'v1', 'kind': 'Pod',
              'metadata': {'name': deployment},
              'spec': {'volumes': [{'name': 'v', 'hostPath': {
                  'path': str(target), 'type': 'Directory'}}],
                  'containers': [{'name': 'app', 'image': helpers.BUSYBOX,
                                  'command': SLEEP,
                                  'volumeMounts': [{'name': 'v',
                                                    'mountPath': '/v'}]}]}}
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, config),
                                     env=hook_env)
    assert rc != 0
    assert (f'hostPath type check failed: {target} is not a directory, '
            "it's a File") in answer['deploy_stderr']
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
    assert os.path.isfile(target)


def test_hook_runs_a_pod_with_init_container(docker_api, deployment,
                                             hook_env, tmp_path):
    data = tmp_path / 'shared'
    config = {'apiVersion': 'v1', 'kind': 'Pod',
              'metadata': {'name': deployment,
                           'annotations': {'tripleo.org/step': '2'}},
              'spec': {
                  'volumes': [{'name': 'shared', 'hostPath': {
                      'path': str(data), 'type': 'DirectoryOrCreate'}}],
                  'initContainers': [{
                      'name': 'init', 'image': helpers.BUSYBOX,
                      'imagePullPolicy': 'IfNotPresent',   # no registry
                      'command': ['sh', '-c', 'echo ready > /s/flag'],
                      'volumeMounts': [{'name': 'shared',
                                        'mountPath': '/s'}]}],
                  'containers': [{
                      'name': 'app', 'image': helpers.BUSYBOX,
                      'imagePullPolicy': 'IfNotPresent',
                      'command': SLEEP,
                      'volumeMounts': [{'name': 'shared', 'mountPath': '/s',
                                        'readOnly': True}]}]}}
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, config),
                                     env=hook_env)
    assert rc == 0, answer
    assert (data / 'flag').read_text() == 'ready\n'
    info = docker_api.inspect_container(f'{deployment}-app')
    labels = info['Config']['Labels']
    assert labels['container_name'] == f'{deployment}-app'
    assert labels['io.kubernetes.pod.name'] == deployment
    assert labels['tripleo-docker-hook.step'] == '2'
    assert info['State']['Running'] is True
    assert info['Config']['Healthcheck'] == {'Test': ['NONE']}
    init = docker_api.inspect_container(f'{deployment}-init')
    assert init['State']['ExitCode'] == 0
    assert labels['tripleo-docker-hook.kind'] == 'service'
    assert init['Config']['Labels']['tripleo-docker-hook.kind'] == 'task'
