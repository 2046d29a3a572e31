"""Model → Quadlet units: ``.container`` / ``.pod`` files for podman's
systemd generator (podman-systemd.unit(5)), the format TripleO's successor
edpm-ansible moved its services to (peers-live.md §3).

Pure.  Every container gets host networking (``Network=host``, or on its
``.pod``).  Steps and start orders become ``After=``/``Requires=`` on the
units of the ``start_order`` group before; one-shot tasks become
``Type=oneshot`` units with ``RemainAfterExit=yes`` and their accepted exit
codes.  Settings with a documented ``[Container]`` key use it; the others
go through ``PodmanArgs=`` (the documented escape hatch).  What has no Quadlet
equivalent at all is left out and listed in :attr:`Result.notes`:

- ``action: exec`` commands (they run inside another container),
- config rendering (``puppet_config``, ``kolla_config``): the units mount
  what the hook rendered, they cannot render it,
- ``unless-stopped`` (systemd restarts or not: written as ``always``) and
  ``on-failure`` retry counts.
"""

import dataclasses
import json
import re
from typing import Dict, List, Tuple

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import model

#: Wanted by the boot target, like the hook's own agents unit.
WANTED_BY = 'multi-user.target'

_SAFE = re.compile(r'^[A-Za-z0-9_@%+=:,./-]+$')


@dataclasses.dataclass
class Result:
    #: file name → content
    files: Dict[str, str]
    notes: List[str]


def _escape(text: str) -> str:
    """systemd expands ``%`` specifiers in every value."""
    return text.replace('%', '%%')


def _word(text: str) -> str:
    """One word of a systemd command line (``Exec=``, ``PodmanArgs=``):
    quoted when needed; ``$`` doubled (systemd expands variables)."""
    text = _escape(text).replace('$', '$$')
    if text and _SAFE.match(text):
        return text
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _words(words) -> str:
    return ' '.join(_word(w) for w in words)


def _env(key: str, value: str) -> str:
    text = _escape(f'{key}={value}')
    if _SAFE.match(text):
        return text
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _duration(seconds: float) -> str:
    return docker_spec._duration(seconds)


def _groups(deployment: model.Deployment) -> List[Tuple[model.Container,
                                                         ...]]:
    return [group for step in deployment.steps for group in step.groups()]


def _security(c: model.Container, keys: List[Tuple[str, str]],
              args: List[str]) -> None:
    for opt in c.security_opt:
        if opt == 'label=disable':
            keys.append(('SecurityLabelDisable', 'true'))
        elif opt.startswith('label=type:'):
            keys.append(('SecurityLabelType', opt[len('label=type:'):]))
        elif opt.startswith('label=level:'):
            keys.append(('SecurityLabelLevel', opt[len('label=level:'):]))
        elif opt.startswith('label=filetype:'):
            keys.append(('SecurityLabelFileType',
                         opt[len('label=filetype:'):]))
        elif opt == 'no-new-privileges' or opt == 'no-new-privileges:true':
            keys.append(('NoNewPrivileges', 'true'))
        elif opt.startswith('seccomp='):
            keys.append(('SeccompProfile', opt[len('seccomp='):]))
        else:
            args.append(f'--security-opt={opt}')


def _container_keys(c: model.Container, pod: str,
                    notes: List[str]) -> List[Tuple[str, str]]:
    keys: List[Tuple[str, str]] = [('ContainerName', c.name),
                                   ('Image', c.image)]
    args: List[str] = []
    if pod:
        keys.append(('Pod', f'{pod}.pod'))
    else:
        keys.append(('Network', 'host'))
    keys.append(('Pull', {'Always': 'always', 'Never': 'never'}.get(
        c.pull_policy, 'missing')))
    if c.hostname:
        keys.append(('HostName', c.hostname))
    if c.entrypoint is not None:
        keys.append(('Entrypoint', _escape(
            c.entrypoint[0] if len(c.entrypoint) == 1 else
            json.dumps(list(c.entrypoint)))))
    if c.command:
        keys.append(('Exec', _words(c.command)))
    for k, v in c.environment:
        keys.append(('Environment', _env(k, v)))
    if c.working_dir:
        keys.append(('WorkingDir', _escape(c.working_dir)))
    if c.user:
        keys.append(('User', _escape(c.user)))
    for m in c.mounts:
        if m.type == 'tmpfs':
            opts = docker_spec.tmpfs_options(m)
            keys.append(('Tmpfs', f'{m.target}:{opts}' if opts else
                         m.target))
        else:
            keys.append(('Volume', _escape(docker_spec.bind_string(m))))
    if c.privileged:
        args.append('--privileged')
    for attr in ('pid_mode', 'ipc_mode', 'uts_mode'):
        value = getattr(c, attr)
        if value:
            args.append(f'--{attr[:3]}={value}')
    keys += [('AddCapability', cap) for cap in c.cap_add]
    keys += [('DropCapability', cap) for cap in c.cap_drop]
    _security(c, keys, args)
    if c.read_only:
        keys.append(('ReadOnly', 'true'))
    keys += [('GroupAdd', g) for g in c.group_add]
    keys += [('AddHost', h) for h in c.extra_hosts]
    args += [f'--volumes-from={v}' for v in c.volumes_from]
    res = c.resources
    if res.mem_limit is not None:
        keys.append(('Memory', str(res.mem_limit)))
    if res.shm_size is not None:
        keys.append(('ShmSize', str(res.shm_size)))
    for attr, flag in (('cpu_shares', '--cpu-shares'),
                       ('cpu_quota', '--cpu-quota'),
                       ('cpu_period', '--cpu-period'),
                       ('cpuset_cpus', '--cpuset-cpus'),
                       ('memswap_limit', '--memory-swap'),
                       ('mem_reservation', '--memory-reservation'),
                       ('oom_score_adj', '--oom-score-adj'),
                       ('mem_swappiness', '--memory-swappiness')):
        value = getattr(res, attr)
        if value not in (None, ''):
            args.append(f'{flag}={value}')
    keys += [('Ulimit', f'{u.name}={u.soft}:{u.hard}') for u in c.ulimits]
    check = c.healthcheck
    if check is not None:
        if check.test[:1] == ('NONE',):
            keys.append(('HealthCmd', 'none'))
        elif check.test[:1] == ('CMD',):
            keys.append(('HealthCmd', _escape(json.dumps(
                list(check.test[1:])))))
        else:
            keys.append(('HealthCmd', _escape(' '.join(check.test[1:]))))
        for value, key in ((check.interval, 'HealthInterval'),
                           (check.timeout, 'HealthTimeout'),
                           (check.start_period, 'HealthStartPeriod')):
            if value:
                keys.append((key, _duration(value)))
        if check.retries:
            keys.append(('HealthRetries', str(check.retries)))
    if c.stop_timeout is not None:
        keys.append(('StopTimeout', str(c.stop_timeout)))
    if c.stop_signal:
        keys.append(('StopSignal', c.stop_signal))
    for k, v in c.labels:
        keys.append(('Label', _env(k, v)))
    if c.log_tag:
        keys.append(('LogOpt', _escape(f'tag={c.log_tag}')))
    if c.tty:
        args.append('--tty')
    if c.stdin_open:
        args.append('--interactive')
    if args:
        keys.append(('PodmanArgs', _words(args)))
    return keys


def _service_keys(c: model.Container, notes: List[str]
                  ) -> List[Tuple[str, str]]:
    keys: List[Tuple[str, str]] = []
    if c.kind is model.Kind.TASK:
        keys += [('Type', 'oneshot'), ('RemainAfterExit', 'yes')]
        others = [str(code) for code in c.exit_codes if code != 0]
        if others:
            keys.append(('SuccessExitStatus', ' '.join(others)))
        if c.timeout:
            keys.append(('TimeoutStartSec', str(c.timeout)))
        return keys
    policy = c.restart_policy
    if policy == 'unless-stopped':
        notes.append(f'{c.name}: restart unless-stopped is written as '
                     f'Restart=always (systemd does not restart a unit '
                     f'stopped by hand either)')
        policy = 'always'
    if policy == 'on-failure' and c.restart_max_retries:
        notes.append(f'{c.name}: restart on-failure:'
                     f'{c.restart_max_retries}: the retry count is left '
                     f'to systemd\'s StartLimitBurst')
    keys.append(('Restart', policy))
    if c.stop_timeout is not None:
        keys.append(('TimeoutStopSec', str(c.stop_timeout + 10)))
    return keys


def _render(sections: List[Tuple[str, List[Tuple[str, str]]]],
            head: List[str]) -> str:
    lines = [f'# {line}' for line in head]
    for title, keys in sections:
        if not keys:
            continue
        lines += ['', f'[{title}]'] + [f'{k}={v}' for k, v in keys]
    return '\n'.join(lines).lstrip('\n') + '\n'


def units(deployment: model.Deployment) -> Result:
    """The unit files of a deployment and what they cannot express."""
    files: Dict[str, str] = {}
    notes: List[str] = []
    if deployment.puppet_config:
        notes.append('puppet_config: config volumes ' + ', '.join(
            p.config_volume for p in deployment.puppet_config) +
            ' are rendered by the hook; the units mount the rendered '
            'directories and expect them in place')
    if deployment.kolla_config:
        notes.append('kolla_config: the Kolla config.json files are '
                     'written by the hook; the units expect them in place')
    previous: List[str] = []
    for group in _groups(deployment):
        current = []
        for c in group:
            if c.kind is model.Kind.EXEC:
                notes.append(f'{c.name}: action exec (a command run in '
                             f'{c.exec_target}) has no Quadlet unit; run '
                             f'it with "podman exec" from an '
                             f'ExecStartPost= of that unit')
                continue
            pod = c.pod if deployment.source_format == 'pod' else ''
            if pod and f'{pod}.pod' not in files:
                files[f'{pod}.pod'] = _render(
                    [('Pod', [('PodName', pod), ('Network', 'host')]),
                     ('Install', [('WantedBy', WANTED_BY)])],
                    [f'Pod {pod}, exported by tripleo-docker-hook'])
            unit_keys = [('Description', f'{c.name} (step {c.step}, '
                          f'start_order {c.start_order}, {c.kind.value})')]
            for dep in previous:
                unit_keys += [('Requires', dep), ('After', dep)]
            files[f'{c.name}.container'] = _render(
                [('Unit', unit_keys),
                 ('Container', _container_keys(c, pod, notes)),
                 ('Service', _service_keys(c, notes)),
                 ('Install', [('WantedBy', WANTED_BY)])],
                [f'{c.name}, exported by tripleo-docker-hook'])
            current.append(f'{c.name}.container')
        if current:
            previous = current
    return Result(files, notes)


def dumps(files: Dict[str, str]) -> str:
    """All units in one text: the ``.quadlets`` layout ``podman quadlet
    install`` reads (podman 6): sections separated by ``---``, each led by
    a ``# FileName=`` line."""
    return '---\n'.join(f'# FileName={name}\n{text}'
                        for name, text in sorted(files.items()))
