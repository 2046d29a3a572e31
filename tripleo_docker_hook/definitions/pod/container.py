"""Container assembly: one Pod container → a :class:`model.Container`,
from the seams (security, resources and probe, environment, mounts) and
the Pod-wide :class:`PodContext`."""

import dataclasses
from typing import Any, Dict, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions.pod import env
from tripleo_docker_hook.definitions.pod import metadata
from tripleo_docker_hook.definitions.pod import resources
from tripleo_docker_hook.definitions.pod import security
from tripleo_docker_hook.definitions.pod import volumes

CONTAINER_KEYS = ('name', 'image', 'imagePullPolicy', 'command', 'args',
                  'workingDir', 'env', 'envFrom', 'ports', 'volumeMounts',
                  'securityContext', 'resources', 'livenessProbe',
                  'lifecycle', 'stdin', 'tty', 'terminationMessagePath',
                  'terminationMessagePolicy')
CONTAINER_REJECTED = {
    'readinessProbe': 'not supported: Docker has one health check; use '
                      'livenessProbe',
    'startupProbe': 'not supported: Docker has one health check; use '
                    'livenessProbe',
    'volumeDevices': 'block volumes are not supported',
    'resizePolicy': 'not supported',
    'restartPolicy': 'restartPolicy is a Pod field (sidecar init containers '
                     'are not supported)',
    'stdinOnce': 'not supported',
}
RESTART = {'Always': 'always', 'OnFailure': 'on-failure', 'Never': 'no'}


@dataclasses.dataclass
class PodContext:
    """What the containers of one Pod share, read once from its metadata
    and spec.  ``volumes`` count their users as mounts are read;
    ``ports_seen`` spans the whole input (host networking: one port, one
    owner)."""

    info: metadata.PodInfo
    #: ``spec.restartPolicy`` (a :data:`RESTART` key).
    restart: str
    #: ``terminationGracePeriodSeconds`` (the stop timeout), seconds.
    grace: Optional[int]
    #: ``activeDeadlineSeconds`` (a task's run timeout), seconds.
    deadline: Optional[int]
    #: ``spec.securityContext``.
    security: security.PodSecurity
    host_pid: bool
    host_ipc: bool
    volumes: Dict[str, volumes.Volume]
    ports_seen: Dict[Tuple[int, str], str]
    #: The ``tripleo.org/docker-options`` annotation
    #: (:func:`metadata.docker_options`).
    extra: Dict[str, Any]
    #: ``tripleo.org/docker-name`` (a one-container Pod only).
    docker_name: Optional[str]


def container(raw: Mapping, path: str, errs: errors.ErrorList,
              ctx: PodContext, init: bool, order: int
              ) -> Optional[model.Container]:
    """One container (``init``: an init container) at ``start_order``
    ``order``; None when it cannot be built (the errors say why)."""
    info, extra = ctx.info, ctx.extra
    f = common.Fields(raw, path, errs,
                      CONTAINER_KEYS + tuple(CONTAINER_REJECTED))
    for key, why in CONTAINER_REJECTED.items():
        if f.has(key):
            errs.forbidden(f.p(key), why)
    name = f.str('name', required=True)
    if name:
        common.check_label(errs, f.p('name'), name)
    is_exec = info.kind == 'exec'
    image = f.str('image', required=not is_exec)
    if image and is_exec:
        errs.forbidden(f.p('image'), 'an exec runs in its target container')
    if image:
        common.check_image(errs, f.p('image'), image)
    pull = f.str('imagePullPolicy', '', choices=('Always', 'IfNotPresent',
                                                 'Never'))
    if not pull:
        ref = image.split('@')[0]
        tagged = ':' in ref.rsplit('/', 1)[-1]
        pull = ('Always' if (not tagged or ref.endswith(':latest')) and
                '@' not in image else 'IfNotPresent')
    f.str('terminationMessagePath')
    f.str('terminationMessagePolicy', choices=('File',
                                               'FallbackToLogsOnError'))
    limits, values = resources.resources(f.raw('resources'),
                                         f.p('resources'), errs)
    environment = env.environment(f, errs, info, name, values, path)
    env_map = dict(environment)
    command = f.str_list('command')
    args = f.str_list('args')
    command = [env.expand(c, env_map) for c in command] if command else None
    args = [env.expand(a, env_map) for a in args] if args else None
    working_dir = f.str('workingDir')
    if working_dir:
        common.check_abs_path(errs, f.p('workingDir'), working_dir)
    sec = security.security(f.raw('securityContext'),
                            f.p('securityContext'), errs, ctx.security)
    mounts = volumes.mounts(f, errs, ctx.volumes, sec.privileged, info)
    exact = extra.get('volumes') or {}
    if exact:
        by_target = {m.target.rstrip('/') or '/': m for m in mounts}
        for target, (mount, i) in exact.items():
            if target not in by_target:
                errs.not_found(f'{extra["volumes_path"]}[{i}]', mount.target)
        mounts = tuple(exact[m.target.rstrip('/') or '/'][0]
                       if (m.target.rstrip('/') or '/') in exact else m
                       for m in mounts)
    ports(f, errs, ctx.ports_seen)
    health: Optional[model.HealthCheck] = model.HealthCheck(test=('NONE',))
    if f.has('livenessProbe'):
        if init:
            errs.forbidden(f.p('livenessProbe'), 'may not be set for init '
                           'containers without restartPolicy=Always')
        else:
            health = resources.probe(f.raw('livenessProbe'),
                                     f.p('livenessProbe'), errs) or health
    stop_signal = ''
    life = f.mapping('lifecycle')
    if life is not None:
        lf = common.Fields(life, f.p('lifecycle'), errs,
                           ('postStart', 'preStop', 'stopSignal'))
        for key in ('postStart', 'preStop'):
            if lf.has(key):
                errs.forbidden(lf.p(key), 'lifecycle hooks are not '
                               'supported')
        stop_signal = lf.str('stopSignal')
        if init and stop_signal:
            errs.forbidden(f.p('lifecycle'), 'may not be set for init '
                           'containers')
        lf.finish()
    tty = f.bool('tty')
    stdin = f.bool('stdin')
    f.finish()

    kind = model.Kind.SERVICE
    if init or info.kind == 'task':
        kind = model.Kind.TASK
    elif is_exec:
        kind = model.Kind.EXEC
    policy = 'no' if kind is not model.Kind.SERVICE else RESTART[ctx.restart]
    res = dict(extra.get('resources', {}))
    res.update(limits)
    kw = {k: v for k, v in extra.items()
          if k not in ('resources', 'volumes', 'volumes_path')}
    sec_opt = tuple(sec.security_opt) + tuple(kw.pop('security_opt', ()))
    group_add = tuple(ctx.security.group_add) + tuple(
        kw.pop('group_add', ()))
    if 'restart_policy' in kw:
        if kind is model.Kind.SERVICE:
            policy = kw['restart_policy']
        kw.pop('restart_policy')
    labels = dict(info.labels)
    if info.name:
        labels[model.LABEL_POD] = info.name
        labels[metadata.LABEL_NAMESPACE] = info.namespace
    labels[metadata.LABEL_CONTAINER] = name
    dname = ctx.docker_name or (f'{info.name}-{name}' if info.name
                                else name)
    if name and not ctx.docker_name:
        common.check_container_name(errs, f.p('name'), dname)
    user = kw.pop('user', None) or sec.user
    if 'healthcheck' in kw:
        health = kw.pop('healthcheck')
    if is_exec:
        full = (command or []) + (args or [])
        if not full:
            errs.required(f.p('command'), 'the command to exec')
        return model.Container(
            name=dname, image='', kind=kind, step=info.step,
            start_order=order, command=tuple(full),
            environment=tuple(environment), user=user,
            privileged=sec.privileged,
            exec_target=info.annotations.get(metadata.ANN_EXEC_TARGET, ''),
            pod=info.name, pod_container=name,
            labels=tuple(sorted(labels.items())),
            **{k: v for k, v in kw.items() if k in ('exit_codes',
                                                     'timeout')})
    if kind is model.Kind.TASK and ctx.deadline and 'timeout' not in kw:
        kw['timeout'] = ctx.deadline
    # Kubernetes semantics: command → Entrypoint, args → Cmd; with a
    # command and no args the image's CMD must not be appended, so Cmd is
    # an explicit empty list.
    entrypoint = tuple(command) if command else None
    cmd = tuple(args) if args else (() if command else None)
    return model.Container(
        name=dname, image=image, kind=kind, step=info.step,
        start_order=order, entrypoint=entrypoint, command=cmd,
        environment=tuple(environment), working_dir=working_dir,
        user=user, mounts=mounts, privileged=sec.privileged,
        pid_mode=kw.pop('pid_mode', '') or (
            'host' if ctx.host_pid else ''),
        ipc_mode=kw.pop('ipc_mode', '') or (
            'host' if ctx.host_ipc else ''),
        uts_mode=kw.pop('uts_mode', ''),
        cap_add=sec.cap_add, cap_drop=sec.cap_drop,
        security_opt=sec_opt, read_only=sec.read_only,
        group_add=group_add, restart_policy=policy,
        restart_max_retries=kw.pop('restart_max_retries', 0),
        stop_timeout=ctx.grace, stop_signal=kw.pop('stop_signal', '') or
        stop_signal, healthcheck=health,
        resources=model.Resources(**res), labels=tuple(sorted(
            labels.items())), tty=tty, stdin_open=stdin, pull_policy=pull,
        pod=info.name, pod_container=name, init=init, **kw)


def ports(f: common.Fields, errs: errors.ErrorList,
          ports_seen: Dict[Tuple[int, str], str]) -> None:
    """Validate ``ports``: with host networking each (port, protocol) has
    one owner in the whole input; nothing is published."""
    names = set()
    for p, raw in f.mappings('ports'):
        pf = common.Fields(raw, p, errs, ('name', 'containerPort',
                                          'hostPort', 'protocol', 'hostIP'))
        name = pf.str('name')
        if name:
            if len(name) > 15 or not common.PORT_NAME.match(name) or \
                    '--' in name or not any(c.isalpha() for c in name):
                errs.invalid(pf.p('name'), name, 'must be an IANA_SVC_NAME '
                             '(at most 15 characters, matching '
                             "'[a-z0-9]([a-z0-9-]*[a-z0-9])*', with at "
                             'least one letter and no "--")')
            elif name in names:
                errs.duplicate(pf.p('name'), name)
            names.add(name)
        port = pf.int('containerPort', None, 1, 65535)
        if not pf.has('containerPort'):
            errs.required(pf.p('containerPort'))
        host = pf.int('hostPort', None, 0, 65535)
        proto = pf.str('protocol', 'TCP', choices=('TCP', 'UDP', 'SCTP'))
        if pf.has('hostIP'):
            errs.forbidden(pf.p('hostIP'), 'host networking: the service '
                           'binds its own addresses')
        pf.finish()
        if port is None:
            continue
        if host not in (None, 0, port):
            errs.invalid(pf.p('hostPort'), host, 'must match `containerPort` '
                         'when `hostNetwork` is true')
            continue
        key = (port, proto)
        if key in ports_seen:
            errs.duplicate(pf.p('hostPort' if host else 'containerPort'),
                           f'{proto}//{port}')
        else:
            ports_seen[key] = p
