"""Model → Kubernetes v1 Pods: the path to Kubernetes the blueprint asks for.

Pods parsed from Pod input are written back one per Pod.  A docker_config
container becomes a Pod of its own (``tripleo.org/docker-name`` keeps its
exact Docker name; step, start order, one-shot/exec kind in annotations),
since docker_config has no grouping.  Docker options a Pod cannot express
(ulimits, cpu shares, ``label=disable``, …) go into the
``tripleo.org/docker-options`` annotation, which the Pod parser reads back,
so parsing the export gives the same model.
"""

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from tripleo_docker_hook.definitions.host_services import \
    ANN_HOST_SERVICES
from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import docker_config as dc_mod
from tripleo_docker_hook.definitions import pod as pod_mod

_RESTART = {'always': 'Always', 'on-failure': 'OnFailure', 'no': 'Never'}
_PROPAGATION = {'rslave': 'HostToContainer', 'rshared': 'Bidirectional'}
#: Docker's stop timeout when none is given (Pods default to 30).
DOCKER_STOP_TIMEOUT = 10


def dns_name(name: str) -> str:
    """A DNS-1123 label for a Docker name (``a_b`` → ``a-b``)."""
    text = re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')
    return (text or 'c')[:63].rstrip('-') or 'c'


def _escape(text: str) -> str:
    return text.replace('$', '$$')


def _quantity_cpu(milli: int) -> str:
    return f'{milli}m'


def _container(c: model.Container, volumes: Dict[str, Dict[str, Any]],
               extra: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {'name': c.pod_container or dns_name(c.name)}
    if c.image:
        out['image'] = c.image
        out['imagePullPolicy'] = c.pull_policy
    if c.kind is model.Kind.EXEC:
        out['command'] = [_escape(a) for a in c.command or ()]
    else:
        if c.entrypoint is not None:
            out['command'] = [_escape(a) for a in c.entrypoint]
        if c.command:
            out['args'] = [_escape(a) for a in c.command]
    if c.environment:
        out['env'] = [{'name': k, 'value': _escape(v)}
                      for k, v in c.environment]
    if c.working_dir:
        out['workingDir'] = c.working_dir
    mounts = []
    for i, m in enumerate(c.mounts):
        name = m.pod_volume or f'vol-{i}'
        mount: Dict[str, Any] = {'name': name, 'mountPath': m.target}
        if m.read_only:
            mount['readOnly'] = True
        if m.type == 'tmpfs':
            body: Dict[str, Any] = {'medium': 'Memory'}
            if m.tmpfs_size:
                body['sizeLimit'] = str(m.tmpfs_size)
            volumes.setdefault(name, {'name': name, 'emptyDir': body})
        elif m.type == 'volume' and m.pod_volume:
            volumes.setdefault(name, {'name': name, 'emptyDir': {}})
        else:
            path = m.volume_root if m.type == 'bind' else \
                f'/var/lib/docker/volumes/{m.source}/_data'
            host: Dict[str, Any] = {'path': path}
            if m.host_path_type:
                host['type'] = m.host_path_type
            volumes.setdefault(name, {'name': name, 'hostPath': host})
            if m.sub_path:
                mount['subPath'] = m.sub_path
            if m.propagation in _PROPAGATION:
                mount['mountPropagation'] = _PROPAGATION[m.propagation]
        mounts.append(mount)
        if not m.pod_volume and m.type in ('bind', 'volume') and (
                m.selinux_relabel or m.type == 'volume' or
                (m.propagation and m.propagation not in _PROPAGATION)):
            # No Kubernetes equivalent: the exact Docker mount too.
            extra.setdefault('volumes', []).append(
                docker_spec.bind_string(m))
    if mounts:
        out['volumeMounts'] = mounts
    sec: Dict[str, Any] = {}
    if c.privileged:
        sec['privileged'] = True
    if c.kind is model.Kind.EXEC:
        if c.user:
            extra['user'] = c.user
        if sec:
            out['securityContext'] = sec
        return out
    match = re.match(r'^(\d+)(?::(\d+))?$', c.user)
    if match:
        sec['runAsUser'] = int(match.group(1))
        if match.group(2):
            sec['runAsGroup'] = int(match.group(2))
    elif c.user:
        extra['user'] = c.user
    caps = {}
    if c.cap_add:
        caps['add'] = list(c.cap_add)
    if c.cap_drop:
        caps['drop'] = list(c.cap_drop)
    if caps:
        sec['capabilities'] = caps
    if c.read_only:
        sec['readOnlyRootFilesystem'] = True
    opts = list(c.security_opt)
    if c.pod:
        # Written by the Pod parser: translate back what it produced.
        if 'no-new-privileges' in opts:
            sec['allowPrivilegeEscalation'] = False
            opts.remove('no-new-privileges')
        selinux = {}
        for opt in list(opts):
            m = re.match(r'^label=(user|role|type|level):(.*)$', opt)
            if m:
                selinux[m.group(1)] = m.group(2)
                opts.remove(opt)
        if selinux:
            sec['seLinuxOptions'] = selinux
        if 'seccomp=unconfined' in opts:
            opts.remove('seccomp=unconfined')   # the Pod default
        else:
            sec['seccompProfile'] = {'type': 'RuntimeDefault'}
        for opt in list(opts):
            if opt.startswith('apparmor='):
                value = opt.split('=', 1)[1]
                sec['appArmorProfile'] = (
                    {'type': 'Unconfined'} if value == 'unconfined' else
                    {'type': 'Localhost', 'localhostProfile': value})
                opts.remove(opt)
    else:
        sec['seccompProfile'] = {'type': 'RuntimeDefault'}
    if opts:
        extra['security_opt'] = opts
    if sec:
        out['securityContext'] = sec
    res = c.resources
    resources = _resources(res, extra) if c.pod else None
    if not c.pod:
        # docker_config: the cgroup options as written (the table's
        # resource options with no export form of their own).
        for option in dc_mod.DOCKER_OPTIONS:
            if option.resource and option.export is None:
                extra.update(option.values(c))
    if resources:
        out['resources'] = resources
    hc = c.healthcheck
    if hc is None:
        extra['healthcheck'] = 'image'
    elif hc.test == ('NONE',):
        pass   # the Pod default: no liveness probe, image check disabled
    elif c.pod and hc.test[0] == 'CMD' and _probe_exact(hc):
        out['livenessProbe'] = {
            'exec': {'command': list(hc.test[1:])},
            'periodSeconds': int(hc.interval),
            'timeoutSeconds': int(hc.timeout),
            'failureThreshold': hc.retries,
            **({'initialDelaySeconds': int(hc.start_period)}
               if hc.start_period else {})}
    else:
        check: Dict[str, Any] = {'test': list(hc.test)}
        for key in ('interval', 'timeout', 'start_period'):
            if getattr(hc, key):
                check[key] = f'{getattr(hc, key)}s'
        if hc.retries:
            check['retries'] = hc.retries
        extra['healthcheck'] = check
    if c.tty:
        out['tty'] = True
    if c.stdin_open:
        out['stdin'] = True
    if c.stop_signal:
        out['lifecycle'] = {'stopSignal': c.stop_signal}
    return out


def _probe_exact(hc: model.HealthCheck) -> bool:
    return all(float(v).is_integer() and v >= 1 for v in
               (hc.interval, hc.timeout)) and hc.retries >= 1 and \
        float(hc.start_period).is_integer()


def _resources(res: model.Resources, extra: Dict[str, Any]
               ) -> Optional[Dict[str, Any]]:
    limits: Dict[str, str] = {}
    requests: Dict[str, str] = {}
    if res.cpu_quota is not None and res.cpu_period == 100000:
        limits['cpu'] = _quantity_cpu(res.cpu_quota // 100)
    elif res.cpu_quota is not None or res.cpu_period is not None:
        extra['cpu_quota'] = res.cpu_quota
        extra['cpu_period'] = res.cpu_period
    if res.cpu_shares is not None:
        milli = -(-res.cpu_shares * 1000 // 1024)
        if max(2, milli * 1024 // 1000) == res.cpu_shares:
            if limits.get('cpu') != _quantity_cpu(milli):
                requests['cpu'] = _quantity_cpu(milli)
        else:
            extra['cpu_shares'] = res.cpu_shares
    if res.mem_limit is not None and res.memswap_limit == res.mem_limit:
        limits['memory'] = str(res.mem_limit)
    else:
        for key in ('mem_limit', 'memswap_limit'):
            if getattr(res, key) is not None:
                extra[key] = getattr(res, key)
    out = {}
    if limits:
        out['limits'] = limits
    if requests:
        out['requests'] = requests
    return out or None


def _pod_shell(name: str, c: model.Container) -> Dict[str, Any]:
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': name, 'annotations': {}},
            'spec': {'hostNetwork': True}}


def _finish(pod: Dict[str, Any], members: List[model.Container],
            docker_config: bool) -> Dict[str, Any]:
    meta = pod['metadata']
    spec = pod['spec']
    ann = meta['annotations']
    first = members[0]
    if first.step != 1:
        ann[pod_mod.ANN_STEP] = str(first.step)
    inits = [c for c in members if c.init]
    base = min(c.start_order for c in members) if members else 0
    if inits:
        base = inits[0].start_order
    if base:
        ann[pod_mod.ANN_START_ORDER] = str(base)
    labels = {k: v for k, v in first.labels
              if k not in (model.LABEL_POD, pod_mod.LABEL_NAMESPACE,
                           pod_mod.LABEL_CONTAINER)}
    if labels:
        meta['labels'] = labels
    ns = dict(first.labels).get(pod_mod.LABEL_NAMESPACE)
    if ns and ns != 'default':
        meta['namespace'] = ns
    apps = [c for c in members if not c.init]
    if any(c.pid_mode == 'host' for c in members):
        spec['hostPID'] = True
    if any(c.ipc_mode == 'host' for c in members):
        spec['hostIPC'] = True
    kinds = {c.kind for c in apps}
    if model.Kind.EXEC in kinds:
        ann[pod_mod.ANN_KIND] = 'exec'
        ann[pod_mod.ANN_EXEC_TARGET] = apps[0].exec_target
    elif model.Kind.TASK in kinds:
        ann[pod_mod.ANN_KIND] = 'task'
        spec['restartPolicy'] = 'Never'
    elif apps:
        policy = apps[0].restart_policy
        spec['restartPolicy'] = _RESTART.get(policy, 'Always')
    if model.Kind.EXEC not in kinds:
        stop = first.stop_timeout
        spec['terminationGracePeriodSeconds'] = (
            DOCKER_STOP_TIMEOUT if stop is None else stop)
        deadline = {c.timeout for c in members if c.kind is model.Kind.TASK
                    and c.timeout}
        if len(deadline) == 1 and not docker_config:
            spec['activeDeadlineSeconds'] = deadline.pop()
    groups = [g for c in members for g in c.group_add]
    if not docker_config and groups and all(g.isdigit() for g in groups):
        spec['securityContext'] = {'supplementalGroups': sorted(
            {int(g) for g in groups})}
    for i, c in enumerate(apps):
        if c.host_services:
            key = ANN_HOST_SERVICES if i == 0 else \
                f'{ANN_HOST_SERVICES}.{c.pod_container}'
            ann[key] = ','.join(c.host_services)
    if not ann:
        del meta['annotations']
    return pod


def _extras(c: model.Container, extra: Dict[str, Any],
            docker_config: bool) -> Dict[str, Any]:
    """The ``tripleo.org/docker-options`` entries of ``c``: what
    :data:`~tripleo_docker_hook.definitions.docker_config.DOCKER_OPTIONS`
    exports, plus what ``_container``
    could not say with a Pod field."""
    for option in dc_mod.DOCKER_OPTIONS:
        extra.update(option.exported(c))
    if c.timeout and (docker_config or c.kind is model.Kind.EXEC):
        extra['timeout'] = c.timeout
    if not docker_config and c.group_add and all(
            g.isdigit() for g in c.group_add):
        extra.pop('group_add', None)
    return extra


def to_pods(deployment: model.Deployment) -> List[Dict[str, Any]]:
    """Every container as v1 Pods (see the module docstring)."""
    pods: List[Dict[str, Any]] = []
    grouped: Dict[str, List[model.Container]] = {}
    order: List[Tuple[str, Any]] = []
    for c in deployment.containers:
        if c.pod_container and c.pod:
            if c.pod not in grouped:
                grouped[c.pod] = []
                order.append(('pod', c.pod))
            grouped[c.pod].append(c)
        else:
            order.append(('single', c))
    for kind, item in order:
        if kind == 'single':
            c = item
            pod = _pod_shell(dns_name(c.name), c)
            pod['metadata']['annotations'][pod_mod.ANN_DOCKER_NAME] = c.name
            volumes: Dict[str, Dict[str, Any]] = {}
            extra: Dict[str, Any] = {}
            pod['spec']['containers'] = [_container(c, volumes, extra)]
            _extras(c, extra, True)
            if volumes:
                pod['spec']['volumes'] = list(volumes.values())
            if extra:
                pod['metadata']['annotations'][pod_mod.ANN_DOCKER_OPTIONS] = \
                    json.dumps(extra, sort_keys=True)
            pods.append(_finish(pod, [c], True))
            continue
        members = sorted(grouped[item], key=lambda c: (c.start_order,
                                                       c.name))
        pod = _pod_shell(item, members[0])
        volumes = {}
        extra = {}
        inits = [c for c in members if c.init]
        apps = [c for c in members if not c.init]
        if inits:
            pod['spec']['initContainers'] = [_container(c, volumes, extra)
                                             for c in inits]
        pod['spec']['containers'] = [_container(c, volumes, extra)
                                     for c in apps]
        _extras(members[0], extra, False)
        dname = members[0].name
        if len(members) == 1 and dname != f'{item}-{members[0].pod_container}':
            pod['metadata']['annotations'][pod_mod.ANN_DOCKER_NAME] = dname
        if volumes:
            pod['spec']['volumes'] = list(volumes.values())
        if extra:
            pod['metadata']['annotations'][pod_mod.ANN_DOCKER_OPTIONS] = \
                json.dumps(extra, sort_keys=True)
        pods.append(_finish(pod, members, False))
    return pods


def dumps(deployment: model.Deployment) -> str:
    """Multi-document YAML of :func:`to_pods`."""
    import yaml
    return yaml.safe_dump_all(to_pods(deployment), sort_keys=False,
                              default_flow_style=False)
