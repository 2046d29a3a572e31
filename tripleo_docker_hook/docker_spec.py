"""Model → Docker Engine API arguments: a pure translation.

Like docker-py's split between ``docker.types`` (typed config) and
``APIClient`` (requests), this module only computes the keyword arguments of
``create_container``/``create_host_config`` for a :class:`model.Container`;
:mod:`engine` sends them.  Every container gets host networking.
"""

from typing import Any, Dict, List, Mapping, Tuple

from tripleo_docker_hook import model


def _nanoseconds(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))


def healthcheck_args(check: model.HealthCheck) -> Dict[str, Any]:
    args: Dict[str, Any] = {'test': list(check.test)}
    if check.interval:
        args['interval'] = _nanoseconds(check.interval)
    if check.timeout:
        args['timeout'] = _nanoseconds(check.timeout)
    if check.retries:
        args['retries'] = check.retries
    if check.start_period:
        args['start_period'] = _nanoseconds(check.start_period)
    return args


def tmpfs_options(mount: model.Mount) -> str:
    opts = []
    if mount.read_only:
        opts.append('ro')
    if mount.tmpfs_size:
        opts.append(f'size={mount.tmpfs_size}')
    return ','.join(opts)


def bind_string(mount: model.Mount) -> str:
    """``src:dst[:opts]`` for the legacy ``Binds`` list.

    Binds (not the Mount API) because they carry SELinux relabel options
    and behave like ``docker run -v``, which docker_config templates expect.
    """
    opts = ['ro' if mount.read_only else 'rw']
    if mount.propagation:
        opts.append(mount.propagation)
    if mount.selinux_relabel:
        opts.append(mount.selinux_relabel)
    return f'{mount.source}:{mount.target}:{",".join(opts)}'


def create_args(container: model.Container, name: str,
                labels: Mapping[str, str]) -> Tuple[Dict[str, Any],
                                                    Dict[str, Any]]:
    """Arguments of ``create_container`` and ``create_host_config``.

    Returns ``(container_kwargs, host_config_kwargs)``.  Pure: tested
    without an engine.  The docker options are sent as
    :data:`docker_config.DOCKER_OPTIONS` declares; the Pod concepts and
    the options whose Docker form differs are built here.
    """
    # Imported here: the engine imports this module, and commands that
    # only read containers need no parser.
    from tripleo_docker_hook.definitions import docker_config
    kwargs: Dict[str, Any] = {
        'image': container.image,
        'name': name,
        'labels': dict(labels),
        'detach': True,
    }
    binds = [bind_string(m) for m in container.mounts
             if m.type in ('bind', 'volume')]
    tmpfs = {m.target: tmpfs_options(m)
             for m in container.mounts if m.type == 'tmpfs'}
    host: Dict[str, Any] = {'network_mode': 'host'}
    if binds:
        host['binds'] = binds
    if tmpfs:
        host['tmpfs'] = tmpfs
    if container.privileged:
        host['privileged'] = True
    for option in docker_config.DOCKER_OPTIONS:
        if option.api == docker_config.HOST_CONFIG:
            host.update(option.values(container))
        elif option.api == docker_config.CREATE_CONTAINER:
            kwargs.update(option.values(container))
    for key in ('cap_add', 'cap_drop'):
        values = getattr(container, key)
        if values:
            host[key] = list(values)
    if container.read_only:
        host['read_only'] = True
    # ``remove: true`` is never AutoRemove: the engine would delete the
    # container before its logs are read, and a stopped old service before
    # a failed replace could be rolled back.  The hook removes instead.
    if container.kind is model.Kind.SERVICE and \
            container.restart_policy != 'no':
        policy: Dict[str, Any] = {'Name': container.restart_policy}
        if container.restart_policy == 'on-failure' and \
                container.restart_max_retries:
            policy['MaximumRetryCount'] = container.restart_max_retries
        host['restart_policy'] = policy
    if container.resources.oom_score_adj is not None:
        host['oom_score_adj'] = container.resources.oom_score_adj
    if container.ulimits:
        host['ulimits'] = [{'Name': u.name, 'Soft': u.soft, 'Hard': u.hard}
                           for u in container.ulimits]
    if container.log_tag:
        # Only the tag: an empty driver type keeps the daemon's default
        # driver (journald on TripleO nodes); naming one here would move
        # the logs out of the journal.
        host['log_config'] = {'Type': '',
                              'Config': {'tag': container.log_tag}}

    # Entrypoint replaces the image's ENTRYPOINT, and the engine then also
    # drops the image's CMD unless Cmd is given: an explicit empty Cmd is
    # the Kubernetes "command without args" case.
    if container.entrypoint is not None:
        kwargs['entrypoint'] = list(container.entrypoint)
    if container.command is not None:
        kwargs['command'] = list(container.command)
    if container.environment:
        kwargs['environment'] = [f'{k}={v}' for k, v in
                                 container.environment]
    if container.working_dir:
        kwargs['working_dir'] = container.working_dir
    if container.healthcheck is not None:
        kwargs['healthcheck'] = healthcheck_args(container.healthcheck)
    if container.stop_timeout is not None:
        kwargs['stop_timeout'] = container.stop_timeout
    if container.tty:
        kwargs['tty'] = True
    if container.stdin_open:
        kwargs['stdin_open'] = True
    return kwargs, host


def _duration(seconds: float) -> str:
    """A Go duration the docker CLI parses (``30s``, ``250ms``)."""
    if float(seconds).is_integer():
        return f'{int(seconds)}s'
    millis = seconds * 1000
    if abs(millis - round(millis)) < 1e-9:
        return f'{int(round(millis))}ms'
    return f'{_nanoseconds(seconds)}ns'


def run_argv(container: model.Container, name: str,
             labels: Mapping[str, str], mask_secrets: bool = True
             ) -> Tuple[List[str], List[str]]:
    """The ``docker run`` command line equivalent to :func:`create_args`.

    Returns ``(argv, notes)``; ``notes`` say where the docker CLI cannot
    say exactly the same (the container then behaves the same, but
    ``docker inspect`` shows it differently).  With ``mask_secrets``,
    values of secret-looking environment variables and command-line
    options are ``***`` (:mod:`masking`): copy-paste then needs them
    filled in.  ``paunch debug --action print-cmd`` gave operators this.
    """
    from tripleo_docker_hook import masking
    notes: List[str] = []
    if mask_secrets:
        container = masking.masked_container(container)
    kwargs, host = create_args(container, name, labels)
    argv = ['docker', 'run', '--detach', '--name', name, '--network', 'host']
    if host.get('auto_remove'):
        argv.append('--rm')
    for key, value in sorted(kwargs['labels'].items()):
        argv += ['--label', f'{key}={value}']
    if kwargs.get('hostname'):
        argv += ['--hostname', kwargs['hostname']]
    for bind in host.get('binds', ()):
        argv += ['--volume', bind]
    for target, opts in host.get('tmpfs', {}).items():
        argv += ['--tmpfs', f'{target}:{opts}' if opts else target]
    for key, flag in (('privileged', '--privileged'),
                      ('read_only', '--read-only')):
        if host.get(key):
            argv.append(flag)
    for key, flag in (('pid_mode', '--pid'), ('ipc_mode', '--ipc'),
                      ('uts_mode', '--uts'),
                      ('cpu_shares', '--cpu-shares'),
                      ('cpu_quota', '--cpu-quota'),
                      ('cpu_period', '--cpu-period'),
                      ('cpuset_cpus', '--cpuset-cpus'),
                      ('mem_limit', '--memory'),
                      ('memswap_limit', '--memory-swap'),
                      ('mem_reservation', '--memory-reservation'),
                      ('shm_size', '--shm-size'),
                      ('oom_score_adj', '--oom-score-adj'),
                      ('mem_swappiness', '--memory-swappiness')):
        if key in host:
            argv += [flag, str(host[key])]
    for key, flag in (('cap_add', '--cap-add'), ('cap_drop', '--cap-drop'),
                      ('security_opt', '--security-opt'),
                      ('group_add', '--group-add'),
                      ('extra_hosts', '--add-host'),
                      ('volumes_from', '--volumes-from')):
        for value in host.get(key, ()):
            argv += [flag, value]
    policy = host.get('restart_policy')
    if policy:
        text = policy['Name']
        if policy.get('MaximumRetryCount'):
            text += f':{policy["MaximumRetryCount"]}'
        argv += ['--restart', text]
    for u in host.get('ulimits', ()):
        argv += ['--ulimit', f'{u["Name"]}={u["Soft"]}:{u["Hard"]}']
    if 'log_config' in host:
        argv += ['--log-driver', host['log_config']['Type']]
        for key, value in sorted(host['log_config']['Config'].items()):
            argv += ['--log-opt', f'{key}={value}']
    for item in kwargs.get('environment', ()):
        argv += ['--env', item]
    for key, flag in (('working_dir', '--workdir'), ('user', '--user'),
                      ('stop_signal', '--stop-signal')):
        if kwargs.get(key):
            argv += [flag, kwargs[key]]
    if 'stop_timeout' in kwargs:
        argv += ['--stop-timeout', str(kwargs['stop_timeout'])]
    check = container.healthcheck
    if check is not None:
        if check.test[:1] == ('NONE',):
            argv.append('--no-healthcheck')
        else:
            if check.test[:1] == ('CMD',):
                notes.append('healthcheck: the docker CLI only takes a '
                             'shell command (CMD-SHELL); the exec form '
                             'is written as one')
                shell = _shell_join(check.test[1:])
            else:
                shell = ' '.join(check.test[1:])
            argv += ['--health-cmd', shell]
            for value, flag in ((check.interval, '--health-interval'),
                                (check.timeout, '--health-timeout'),
                                (check.start_period,
                                 '--health-start-period')):
                if value:
                    argv += [flag, _duration(value)]
            if check.retries:
                argv += ['--health-retries', str(check.retries)]
    if kwargs.get('tty'):
        argv.append('--tty')
    if kwargs.get('stdin_open'):
        argv.append('--interactive')
    args: List[str] = []
    if 'entrypoint' in kwargs:
        entrypoint = kwargs['entrypoint']
        argv += ['--entrypoint', entrypoint[0] if entrypoint else '']
        if len(entrypoint) > 1:
            notes.append('entrypoint: the docker CLI takes one word; the '
                         'others lead the command')
            args += entrypoint[1:]
    args += kwargs.get('command') or []
    argv.append(kwargs['image'])
    argv += args
    return argv, notes


def _shell_join(words) -> str:
    import shlex
    return ' '.join(shlex.quote(w) for w in words)
