"""Model → docker-py keyword arguments (pure)."""

import dataclasses

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import model


def _args(**kw):
    c = model.Container(name='c', image='img', **kw)
    return docker_spec.create_args(c, 'docker-c', {'l': 'v'})


def test_minimal_uses_host_network_and_labels():
    kwargs, host = _args()
    assert kwargs == {'image': 'img', 'name': 'docker-c',
                      'labels': {'l': 'v'}, 'detach': True}
    assert host == {'network_mode': 'host'}


def test_every_field():
    c = model.Container(
        name='c', image='img', entrypoint=('ep',), command=(),
        environment=(('A', '1'), ('B', '')), working_dir='/w', user='1:2',
        mounts=(model.Mount('/t', '/s', read_only=True,
                            propagation='rslave', selinux_relabel='z'),
                model.Mount('/v', 'vol', type='volume'),
                model.Mount('/m', type='tmpfs', tmpfs_size=1024,
                            read_only=True)),
        privileged=True, pid_mode='host', ipc_mode='host', uts_mode='host',
        cap_add=('NET_ADMIN',), cap_drop=('ALL',),
        security_opt=('no-new-privileges',), read_only=True,
        group_add=('10',), restart_policy='on-failure',
        restart_max_retries=3, stop_timeout=7, stop_signal='SIGINT',
        healthcheck=model.HealthCheck(('CMD', 'true'), 1.5, 2, 3, 0.5),
        resources=model.Resources(cpu_shares=102, cpu_quota=50000,
                                  cpu_period=100000, cpuset_cpus='0-1',
                                  mem_limit=1 << 27, memswap_limit=1 << 27,
                                  mem_swappiness=10),
        ulimits=(model.Ulimit('nofile', 1, 2),), tty=True, stdin_open=True,
        extra_hosts=('h:1.2.3.4',), log_tag='t', hostname='hn',
        volumes_from=('other',), auto_remove=True)
    kwargs, host = docker_spec.create_args(c, 'n', {})
    assert kwargs['entrypoint'] == ['ep']
    assert kwargs['command'] == []   # image CMD must not be appended
    assert kwargs['environment'] == ['A=1', 'B=']
    assert kwargs['working_dir'] == '/w'
    assert kwargs['user'] == '1:2'
    assert kwargs['hostname'] == 'hn'
    assert kwargs['healthcheck'] == {
        'test': ['CMD', 'true'], 'interval': 1_500_000_000,
        'timeout': 2_000_000_000, 'retries': 3,
        'start_period': 500_000_000}
    assert kwargs['stop_timeout'] == 7
    assert kwargs['stop_signal'] == 'SIGINT'
    assert kwargs['tty'] and kwargs['stdin_open']
    assert host['binds'] == ['/s:/t:ro,rslave,z', 'vol:/v:rw']
    assert host['tmpfs'] == {'/m': 'ro,size=1024'}
    assert host['privileged'] is True
    assert (host['pid_mode'], host['ipc_mode'], host['uts_mode']) == (
        'host', 'host', 'host')
    assert host['cap_add'] == ['NET_ADMIN'] and host['cap_drop'] == ['ALL']
    assert host['security_opt'] == ['no-new-privileges']
    assert host['read_only'] is True
    assert host['group_add'] == ['10']
    assert host['restart_policy'] == {'Name': 'on-failure',
                                      'MaximumRetryCount': 3}
    assert host['cpu_shares'] == 102 and host['cpu_quota'] == 50000
    assert host['cpu_period'] == 100000 and host['cpuset_cpus'] == '0-1'
    assert host['mem_limit'] == host['memswap_limit'] == 1 << 27
    assert host['mem_swappiness'] == 10
    assert host['ulimits'] == [{'Name': 'nofile', 'Soft': 1, 'Hard': 2}]
    assert host['extra_hosts'] == ['h:1.2.3.4']
    # Only the tag: the daemon's default driver applies (issue 9, kind 4).
    assert host['log_config'] == {'Type': '', 'Config': {'tag': 't'}}
    assert host['volumes_from'] == ['other']
    assert 'auto_remove' not in host   # the hook removes, not Docker


def test_disabled_healthcheck_and_one_shot_restart():
    kwargs, host = _args(healthcheck=model.HealthCheck(('NONE',)),
                         kind=model.Kind.TASK, restart_policy='always')
    assert kwargs['healthcheck'] == {'test': ['NONE']}
    assert 'restart_policy' not in host


def test_paunch_all_options_match_paunch_argv(tmp_path):
    """Every flag paunch 7.0.4 emits for paunch-all-options.json has its
    docker-py equivalent (semantically; units converted)."""
    import json
    import os
    examples = os.environ.get('TDH_EXAMPLES',
                              '/work/shared/reference/examples')
    src = os.path.join(examples, 'paunch-all-options.json')
    argv_file = os.path.join(examples,
                             'paunch-all-options.expected-argv.json')
    if not os.path.exists(src):
        import pytest
        pytest.skip('examples missing')
    from tripleo_docker_hook import definitions
    (tmp_path / 'foo.env').write_text('FOO=f\n')
    (tmp_path / 'bar.env').write_text('BAR=b\n')
    with open(src) as f:
        # The fixture's "two" takes volumes from itself, a cycle refused
        # at validation: parse without it, translate with it.
        dep = definitions.parse(f.read().replace('/srv/env', str(
            tmp_path)).replace('"volumes_from": ["two", "three"]',
                               '"volumes_from": ["three", "four"]'))
    with open(argv_file) as f:
        expected = json.load(f)
    gib = 1 << 30
    for name in ('one', 'two'):
        container = dep.container(name)
        if name == 'two':
            container = dataclasses.replace(container,
                                            volumes_from=('two', 'three'))
        kwargs, host = docker_spec.create_args(container, name, {})
        argv = expected[name]
        i = 0
        while i < len(argv):
            flag = argv[i]
            value = flag.split('=', 1)[1] if '=' in flag else None
            key = flag.split('=', 1)[0]
            if key == '--health-cmd':
                assert kwargs['healthcheck']['test'] == ['CMD-SHELL',
                                                         argv[i + 1]]
                i += 2
                continue
            checks = _flag_checks(kwargs, host, value, gib)
            if key == '--rm':
                assert container.auto_remove
            if key in checks:
                assert checks[key](), (name, flag)
                i += 1
                continue
            # image, then the command
            assert kwargs['image'] == flag, (name, flag)
            assert kwargs.get('command', []) == argv[i + 1:]
            break
        # two is a one-shot (no --detach): kind task, no restart policy
    assert dep.container('two').kind.value == 'task'
    assert 'cpuset_cpus' not in docker_spec.create_args(
        dep.container('one'), 'one', {})[1]   # "all" = no pinning


def _flag_checks(kwargs, host, value, gib):
    """paunch flag → check of the docker-py arguments."""
    return {
        '--detach': lambda: kwargs['detach'] is True,
        '--env-file': lambda: True,   # read at parse time
        '--net': lambda: host['network_mode'] == value,
        '--ipc': lambda: host['ipc_mode'] == value,
        '--pid': lambda: host['pid_mode'] == value,
        '--uts': lambda: host['uts_mode'] == value,
        '--health-interval': lambda: kwargs['healthcheck'][
            'interval'] == 30 * 10 ** 9,
        '--health-timeout': lambda: kwargs['healthcheck'][
            'timeout'] == 10 * 10 ** 9,
        '--health-retries': lambda: kwargs['healthcheck'][
            'retries'] == int(value),
        '--privileged': lambda: host['privileged'] is True,
        '--restart': lambda: host['restart_policy'] == {
            'Name': value},
        '--user': lambda: kwargs['user'] == value,
        '--log-opt': lambda: host['log_config']['Config'][
            'tag'] == value.split('=', 1)[1],
        '--cpu-shares': lambda: host['cpu_shares'] == int(value),
        '--memory': lambda: host['mem_limit'] == gib,
        '--memory-swap': lambda: host['memswap_limit'] == gib,
        '--memory-swappiness': lambda: host['mem_swappiness'] ==
        int(value),
        '--security-opt': lambda: host['security_opt'] == [
            value.replace(':', '=', 1)],
        '--hostname': lambda: kwargs['hostname'] == value,
        '--add-host': lambda: value in host['extra_hosts'],
        '--cap-add': lambda: value in host['cap_add'],
        '--cap-drop': lambda: value in host['cap_drop'],
        '--env': lambda: (value if '=' in value else value + '=')
        in kwargs['environment'],
        # the hook removes the task itself, after reading its output
        '--rm': lambda: 'auto_remove' not in host,
        '--interactive': lambda: kwargs['stdin_open'] is True,
        '--tty': lambda: kwargs['tty'] is True,
        '--ulimit': lambda: {'Name': value.split('=')[0],
                             'Soft': 1024, 'Hard': 1024} in
        host['ulimits'],
        '--group-add': lambda: value in host['group_add'],
        '--volume': lambda: value in host['binds'],
        '--volumes-from': lambda: value in host['volumes_from'],
        '--cpuset-cpus': lambda: host['cpuset_cpus'] == value,
    }
