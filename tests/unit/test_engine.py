"""engine: docker-py accepts docker_spec's arguments; list parsing."""

import pytest

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import engine
from tripleo_docker_hook import model


def _clean(data):
    return {k: v for k, v in data.items()
            if v not in (None, False, [], {}, '')}


def _docker_py(kwargs, host):
    import docker
    client = docker.APIClient(version='1.41')
    hc = client.create_host_config(**host)
    args = {k: v for k, v in kwargs.items() if k != 'name'}
    args.setdefault('command', None)
    config = dict(client.create_container_config(host_config=hc, **args))
    config['HostConfig'] = _clean(dict(config['HostConfig']))
    if config.get('Healthcheck'):
        config['Healthcheck'] = dict(config['Healthcheck'])
    return _clean(config)


FULL = model.Container(
    name='full', image='tdh/busybox:latest', entrypoint=('sh', '-c'),
    command=('sleep 1',), environment=(('A', '1'), ('B', 'x=y')),
    working_dir='/tmp', user='root', privileged=True, pid_mode='host',
    ipc_mode='host', uts_mode='host', cap_add=('NET_ADMIN',),
    cap_drop=('MKNOD',), security_opt=('label=disable',), read_only=True,
    group_add=('wheel',), restart_policy='on-failure',
    restart_max_retries=3, stop_timeout=7, stop_signal='SIGINT',
    healthcheck=model.HealthCheck(test=('CMD-SHELL', 'true'), interval=2,
                                  timeout=1, retries=3, start_period=1.5),
    resources=model.Resources(cpu_shares=512, cpu_quota=50000,
                              cpu_period=100000, cpuset_cpus='0',
                              mem_limit=1 << 28, memswap_limit=1 << 29,
                              mem_reservation=1 << 27, shm_size=1 << 26,
                              oom_score_adj=-100),
    ulimits=(model.Ulimit('nofile', 1024, 2048),), tty=True,
    stdin_open=True, extra_hosts=('h:127.0.0.1',), log_tag='t',
    mounts=(model.Mount('/data', '/srv', read_only=True,
                        propagation='rslave', selinux_relabel='z'),
            model.Mount('/run/x', type='tmpfs')))


@pytest.mark.parametrize('container', [
    model.Container(name='min', image='tdh/busybox:latest'), FULL])
def test_docker_py_accepts_every_argument(container):
    """docker_spec's arguments are valid docker-py input, and arrive."""
    kwargs, host = docker_spec.create_args(container, container.name,
                                           {'managed_by': 'x'})
    config = _docker_py(kwargs, host)
    assert config['Image'] == 'tdh/busybox:latest'
    assert config['HostConfig']['NetworkMode'] == 'host'
    assert config['Labels'] == {'managed_by': 'x'}
    if container is FULL:
        hc = config['HostConfig']
        assert hc['Binds'] == ['/srv:/data:ro,rslave,z']
        assert hc['Tmpfs'] == {'/run/x': ''}
        assert hc['RestartPolicy'] == {'Name': 'on-failure',
                                       'MaximumRetryCount': 3}
        assert hc['Ulimits'] == [{'Name': 'nofile', 'Soft': 1024,
                                  'Hard': 2048}]
        assert hc['Memory'] == 1 << 28 and hc['CpuShares'] == 512
        assert config['Healthcheck'] == {
            'Test': ['CMD-SHELL', 'true'], 'Interval': 2_000_000_000,
            'Timeout': 1_000_000_000, 'Retries': 3,
            'StartPeriod': 1_500_000_000}
        assert config['Entrypoint'] == ['sh', '-c']
        assert config['Cmd'] == ['sleep 1']
        assert config['Env'] == ['A=1', 'B=x=y']
        assert config['StopTimeout'] == 7


@pytest.mark.parametrize('status, state, code, health', [
    ('Up 3 seconds', 'running', None, ''),
    ('Up 3 seconds (healthy)', 'running', None, 'healthy'),
    ('Up 1 second (health: starting)', 'running', None, 'starting'),
    ('Exited (137) 2 minutes ago', 'exited', 137, ''),
    ('Created', 'created', None, ''),
])
def test_observed_from_list(status, state, code, health):
    observed = engine.observed_from_list({
        'Id': 'abc', 'Names': ['/web'], 'ImageID': 'sha256:1',
        'State': state, 'Status': status,
        'Labels': {'managed_by': 'tripleo-docker-hook'}, 'Created': 5})
    assert (observed.name, observed.state, observed.exit_code,
            observed.health) == ('web', state, code, health)
    assert observed.managed
