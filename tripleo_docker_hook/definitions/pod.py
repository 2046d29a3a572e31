"""Kubernetes v1 Pods (and the heat-agents kubelet ``v1beta2`` shape).

Strict like the API server's static-pod pipeline (decode, default,
``ValidatePod``): unknown fields and fields that cannot be honoured on one
host with host networking are errors, never silently dropped.
"""

import dataclasses
import socket
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import docker_config
from tripleo_docker_hook.definitions import host_services
from tripleo_docker_hook.definitions import quantity

ANN_STEP = 'tripleo.org/step'
ANN_START_ORDER = 'tripleo.org/start-order'
ANN_DOCKER_NAME = 'tripleo.org/docker-name'
ANN_KIND = 'tripleo.org/kind'
ANN_EXEC_TARGET = 'tripleo.org/exec-target'
ANN_DOCKER_OPTIONS = 'tripleo.org/docker-options'
OUR_ANNOTATIONS = (ANN_STEP, ANN_START_ORDER, ANN_DOCKER_NAME, ANN_KIND,
                   ANN_EXEC_TARGET, ANN_DOCKER_OPTIONS)

LABEL_NAMESPACE = 'io.kubernetes.pod.namespace'
LABEL_CONTAINER = 'io.kubernetes.container.name'

POD_KEYS = ('apiVersion', 'kind', 'metadata', 'spec', 'status')
METADATA_KEYS = ('name', 'namespace', 'labels', 'annotations', 'uid',
                 'creationTimestamp')
#: Pod spec fields we honour.
SPEC_KEYS = ('containers', 'initContainers', 'volumes', 'hostNetwork',
             'hostPID', 'hostIPC', 'restartPolicy',
             'terminationGracePeriodSeconds', 'activeDeadlineSeconds',
             'securityContext', 'dnsPolicy', 'automountServiceAccountToken',
             'enableServiceLinks')
#: Pod spec fields that cannot be honoured on one host: rejected.
SPEC_REJECTED = {
    'nodeSelector': 'scheduling does not apply: the hook runs on this host',
    'nodeName': 'scheduling does not apply: the hook runs on this host',
    'affinity': 'scheduling does not apply: the hook runs on this host',
    'tolerations': 'scheduling does not apply: the hook runs on this host',
    'topologySpreadConstraints': 'scheduling does not apply',
    'schedulerName': 'scheduling does not apply',
    'priority': 'scheduling does not apply',
    'priorityClassName': 'scheduling does not apply',
    'preemptionPolicy': 'scheduling does not apply',
    'schedulingGates': 'scheduling does not apply',
    'runtimeClassName': 'Docker runs every container with its default '
                        'runtime',
    'overhead': 'not supported',
    'readinessGates': 'not supported',
    'ephemeralContainers': 'not supported',
    'resourceClaims': 'not supported',
    'os': 'not supported',
    'hostUsers': 'user namespaces are not supported',
    'shareProcessNamespace': 'not supported: use hostPID',
    'hostname': 'containers use the host network and its hostname',
    'subdomain': 'containers use the host network and its hostname',
    'setHostnameAsFQDN': 'containers use the host network and its hostname',
    'hostAliases': 'containers use the host network and its /etc/hosts',
    'dnsConfig': 'containers use the host network and its resolv.conf',
    'serviceAccountName': 'there is no API server: no service accounts',
    'serviceAccount': 'there is no API server: no service accounts',
    'imagePullSecrets': 'registry credentials are configured in the hook',
}
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
HOST_PATH_TYPES = ('', 'DirectoryOrCreate', 'Directory', 'FileOrCreate',
                   'File', 'Socket', 'CharDevice', 'BlockDevice')
PROPAGATION = {'None': '', 'HostToContainer': 'rslave',
               'Bidirectional': 'rshared'}
_LABEL_VALUE = common.QUALIFIED_NAME


@dataclasses.dataclass
class _Volume:
    name: str
    kind: str                 # 'hostPath' | 'emptyDir' | 'memory'
    path: str = ''
    type: str = ''
    size: Optional[int] = None
    users: int = 0


@dataclasses.dataclass
class _PodInfo:
    name: str
    namespace: str
    uid: str
    labels: Dict[str, str]
    annotations: Dict[str, str]
    step: int
    start_order: int
    kind: str
    canon: Any
    spec_keys: Tuple[str, ...] = ()
    #: ConfigMap/Secret documents of the same input: (kind, namespace,
    #: name) → data.
    objects: Mapping[Tuple[str, str, str], Mapping[str, str]] = \
        dataclasses.field(default_factory=dict)
    #: per container: the objects it read (folded into its hash).
    used: Dict[str, Any] = dataclasses.field(default_factory=dict)


def is_pod(data: Any) -> bool:
    return isinstance(data, Mapping) and (
        data.get('kind') == 'Pod' or data.get('version') == 'v1beta2' or
        (isinstance(data.get('apiVersion'), str) and
         isinstance(data.get('spec'), Mapping)))


def from_v1beta2(data: Mapping, errs: errors.ErrorList) -> Dict[str, Any]:
    """The kubelet ``v1beta2`` container manifest as a v1 Pod."""
    f = common.Fields(data, '', errs, ('version', 'id', 'uuid', 'volumes',
                                       'containers', 'restartPolicy'))
    f.finish()
    spec: Dict[str, Any] = {'containers': data.get('containers')}
    volumes = []
    for i, vol in enumerate(f.list('volumes') or []):
        if not isinstance(vol, Mapping):
            common.wrong_type(errs, f'volumes[{i}]', vol, 'a mapping')
            continue
        vf = common.Fields(vol, f'volumes[{i}]', errs, ('name', 'source'))
        vf.finish()
        source = vf.mapping('source') or {}
        out = {'name': vol.get('name')}
        if 'hostDir' in source and isinstance(source['hostDir'], Mapping):
            out['hostPath'] = {'path': source['hostDir'].get('path')}
        elif source and 'emptyDir' not in source:
            errs.unsupported(f'volumes[{i}].source', sorted(source)[0],
                             ['hostDir', 'emptyDir'])
            continue
        else:
            out['emptyDir'] = {}   # v1beta2: no source means an empty dir
        volumes.append(out)
    if volumes:
        spec['volumes'] = volumes
    policy = f.raw('restartPolicy')
    if isinstance(policy, Mapping) and len(policy) == 1:
        key = next(iter(policy))
        names = {'always': 'Always', 'onFailure': 'OnFailure',
                 'never': 'Never'}
        if key in names:
            spec['restartPolicy'] = names[key]
        else:
            errs.unsupported('restartPolicy', key, list(names))
    elif policy is not None:
        common.wrong_type(errs, 'restartPolicy', policy, 'a mapping')
    pod: Dict[str, Any] = {'apiVersion': 'v1', 'kind': 'Pod', 'spec': spec,
                           'metadata': {}}
    if isinstance(data.get('id'), str):
        pod['metadata']['name'] = data['id']
    return pod


def parse(data: Mapping, path: str, errs: errors.ErrorList,
          ports_seen: Dict[Tuple[int, str], str],
          v1beta2: bool = False,
          objects: Optional[Mapping[Tuple[str, str, str],
                                    Mapping[str, str]]] = None
          ) -> List[model.Container]:
    """One Pod document → its containers (init containers first)."""
    if v1beta2:
        data = from_v1beta2(data, errs)
        spec_path, meta_path = path, path
    else:
        spec_path = f'{path}.spec' if path else 'spec'
        meta_path = f'{path}.metadata' if path else 'metadata'
        top = common.Fields(data, path, errs, POD_KEYS)
        top.finish()
        api = data.get('apiVersion')
        if api != 'v1':
            errs.unsupported(top.p('apiVersion'), api, ['v1'])
        if data.get('kind') != 'Pod':
            errs.unsupported(top.p('kind'), data.get('kind'), ['Pod'])
    spec = data.get('spec')
    if not isinstance(spec, Mapping):
        if spec is None:
            errs.required(spec_path)
        else:
            common.wrong_type(errs, spec_path, spec, 'a mapping')
        return []
    info = _metadata(data.get('metadata'), meta_path, errs, v1beta2)
    info.spec_keys = tuple(k for k in spec if isinstance(k, str))
    info.objects = objects or {}
    sf = common.Fields(spec, spec_path, errs,
                       SPEC_KEYS + tuple(SPEC_REJECTED))
    for key, why in SPEC_REJECTED.items():
        if sf.has(key):
            errs.forbidden(sf.p(key), why)
    host_network = sf.bool('hostNetwork', True)
    if not host_network:
        errs.unsupported(sf.p('hostNetwork'), False, [True])
    for key in ('automountServiceAccountToken', 'enableServiceLinks'):
        if sf.bool(key, False):
            errs.forbidden(sf.p(key), 'there is no API server: only false '
                           'is supported')
    dns = sf.str('dnsPolicy', 'ClusterFirst',
                 choices=('ClusterFirst', 'ClusterFirstWithHostNet',
                          'Default', 'None'))
    if dns == 'None':
        errs.unsupported(sf.p('dnsPolicy'), dns,
                         ['ClusterFirst', 'ClusterFirstWithHostNet',
                          'Default'])
    restart = sf.str('restartPolicy', 'Always', choices=tuple(RESTART))
    grace = sf.int('terminationGracePeriodSeconds', 30, minimum=0,
                   maximum=common.MAX_GRACE)
    deadline = sf.int('activeDeadlineSeconds', None, minimum=1,
                      maximum=common.MAX_TIMEOUT)
    pod_sc = _pod_security(sf, errs)
    pod_sc['_hostPID'] = sf.bool('hostPID')
    pod_sc['_hostIPC'] = sf.bool('hostIPC')
    volumes = _volumes(sf, errs, info)
    sf.finish()

    containers_raw = sf.list('containers')
    init_raw = sf.list('initContainers') or []
    if not containers_raw:
        if containers_raw is None:
            errs.required(sf.p('containers'))
        else:
            errs.required(sf.p('containers'), 'must have at least one '
                          'container')
        containers_raw = []
    total = len(containers_raw) + len(init_raw)
    docker_name = info.annotations.get(ANN_DOCKER_NAME)
    if docker_name is not None and total != 1:
        errs.forbidden(f'{meta_path}.annotations[{ANN_DOCKER_NAME}]',
                       'only for a Pod with exactly one container')
        docker_name = None
    if info.kind == 'task' and 'restartPolicy' in spec and \
            restart == 'Always':
        errs.forbidden(sf.p('restartPolicy'), f'a {ANN_KIND}: task Pod runs '
                       'to completion: restartPolicy must be Never or '
                       'OnFailure')
    if info.kind == 'exec' and (init_raw or len(containers_raw) != 1):
        errs.forbidden(f'{meta_path}.annotations[{ANN_KIND}]',
                       'an exec Pod has exactly one container')
    extra = _docker_options(info, meta_path, errs)
    pod_canon = info.canon
    pod_canon['spec'] = common.canonical(
        {k: v for k, v in spec.items()
         if k not in ('containers', 'initContainers')})
    names: Dict[str, str] = {}
    out: List[model.Container] = []
    entries = ([('initContainers', i, c, True) for i, c in
                enumerate(init_raw)] +
               [('containers', i, c, False) for i, c in
                enumerate(containers_raw)])
    for field, i, raw, init in entries:
        cpath = f'{sf.p(field)}[{i}]'
        if not isinstance(raw, Mapping):
            common.wrong_type(errs, cpath, raw, 'a mapping')
            continue
        name = raw.get('name')
        if isinstance(name, str) and name in names:
            errs.duplicate(f'{cpath}.name', name)
        elif isinstance(name, str):
            names[name] = cpath
        order = info.start_order + (i if init else len(init_raw))
        c = _container(raw, cpath, errs, info, init=init, order=order,
                       restart=restart, grace=grace, deadline=deadline,
                       pod_sc=pod_sc, volumes=volumes, ports_seen=ports_seen,
                       extra=extra, docker_name=docker_name)
        if c is None:
            continue
        canon = common.canonical(
            [pod_canon, field, i if init else 0, _container_canon(raw),
             info.used.pop(cpath, None)])
        from tripleo_docker_hook import definitions
        out.append(dataclasses.replace(
            c, source_hash=definitions.canonical_hash(['pod', canon])))
    out = host_services.from_pod(info.annotations, meta_path, out, errs)
    for vol in volumes.values():
        if vol.kind == 'memory' and vol.users > 1:
            errs.forbidden(f'{spec_path}.volumes[{vol.name}]',
                           'a Memory emptyDir is a tmpfs per container here; '
                           'it cannot be shared by several containers')
    return out


def _container_canon(raw: Mapping) -> Any:
    """The container as written, quantities normalised (1000m == 1)."""
    canon = common.canonical(raw)
    res = canon.get('resources') if isinstance(canon, dict) else None
    if isinstance(res, dict):
        for group in ('limits', 'requests'):
            values = res.get(group)
            if isinstance(values, dict):
                for key, value in values.items():
                    parsed = quantity.try_parse(value)
                    if parsed is not None:
                        values[key] = quantity.canonical(parsed)
    return canon


def _metadata(meta: Any, path: str, errs: errors.ErrorList,
              v1beta2: bool) -> _PodInfo:
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        common.wrong_type(errs, path, meta, 'a mapping')
        meta = {}
    f = common.Fields(meta, path, errs, METADATA_KEYS)
    name = f.str('name', required=not v1beta2)
    if name:
        common.check_subdomain(errs, f.p('name'), name)
    namespace = f.str('namespace', 'default')
    if namespace:
        common.check_label(errs, f.p('namespace'), namespace)
    uid = f.str('uid')
    if f.has('creationTimestamp'):
        f.str('creationTimestamp')
    labels = _string_map(f, 'labels', errs, label_values=True)
    annotations = _string_map(f, 'annotations', errs)
    f.finish()
    step = 1
    if ANN_STEP in annotations:
        text = annotations[ANN_STEP]
        if text.strip() in ('1', '2', '3', '4', '5'):
            step = int(text)
        else:
            errs.unsupported(f'{path}.annotations[{ANN_STEP}]', text,
                             ['1', '2', '3', '4', '5'])
    start = 0
    if ANN_START_ORDER in annotations:
        text = annotations[ANN_START_ORDER].strip()
        try:
            start = int(text) if len(text) <= 20 else None
        except ValueError:
            start = None
        if start is None or abs(start) > common.INT64_MAX:
            errs.invalid(f'{path}.annotations[{ANN_START_ORDER}]', text,
                         'must be an integer of at most 64 bits')
            start = 0
    kind = annotations.get(ANN_KIND, 'service')
    if kind not in ('service', 'task', 'exec'):
        errs.unsupported(f'{path}.annotations[{ANN_KIND}]', kind,
                         ['service', 'task', 'exec'])
        kind = 'service'
    if (kind == 'exec') != (ANN_EXEC_TARGET in annotations):
        errs.required(f'{path}.annotations[{ANN_EXEC_TARGET}]' if
                      kind == 'exec' else f'{path}.annotations[{ANN_KIND}]',
                      f'{ANN_KIND}: exec and {ANN_EXEC_TARGET} go together')
    if ANN_DOCKER_NAME in annotations and not common.DOCKER_NAME.match(
            annotations[ANN_DOCKER_NAME]):
        errs.invalid(f'{path}.annotations[{ANN_DOCKER_NAME}]',
                     annotations[ANN_DOCKER_NAME],
                     'not a valid Docker container name')
    canon = common.canonical({
        'name': name, 'namespace': meta.get('namespace'), 'uid': uid,
        'labels': labels,
        'annotations': {k: v for k, v in annotations.items()
                        if k in OUR_ANNOTATIONS}})
    return _PodInfo(name, namespace or 'default', uid, labels, annotations,
                    step, start, kind, canon)


def _string_map(f: common.Fields, key: str, errs: errors.ErrorList,
                label_values: bool = False) -> Dict[str, str]:
    raw = f.mapping(key)
    out: Dict[str, str] = {}
    for k, v in (raw or {}).items():
        path = f'{f.p(key)}[{k}]'
        if not isinstance(k, str):
            errs.invalid(f.p(key), str(k), 'keys must be strings')
            continue
        if not common.check_qualified_key(errs, path, k):
            continue
        if not isinstance(v, str):
            common.wrong_type(errs, path, v, 'a string')
            continue
        if label_values:
            if len(v) > 63 or (v and not _LABEL_VALUE.match(v)):
                errs.invalid(path, v, "a valid label must be an empty "
                             "string or consist of alphanumeric characters, "
                             "'-', '_' or '.', and must start and end with "
                             "an alphanumeric character (at most 63)")
                continue
            if docker_config.is_reserved_label(k) or k in (
                    LABEL_NAMESPACE, LABEL_CONTAINER):
                errs.forbidden(path, 'reserved for the hook\'s own labels')
                continue
        out[k] = v
    return out


def _docker_options(info: _PodInfo, meta_path: str, errs: errors.ErrorList
                    ) -> Dict[str, Any]:
    text = info.annotations.get(ANN_DOCKER_OPTIONS)
    if text is None:
        return {'resources': {}}
    path = f'{meta_path}.annotations[{ANN_DOCKER_OPTIONS}]'
    from tripleo_docker_hook import loading
    try:
        data = loading.json_loads(text, path)
    except errors.ValidationError as exc:
        errs.errors.extend(exc.errors)
        return {'resources': {}}
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path, data, 'a JSON object')
        return {'resources': {}}
    f = common.Fields(data, path, errs,
                      docker_config.POD_EXTRA_KEYS + ('volumes',))
    kw = docker_config.extra_options(f, errs, docker_config.POD_EXTRA_KEYS)
    # Exact Docker mounts (SELinux z/Z, propagation modes Kubernetes has
    # no name for, named volumes) replacing the volumeMount of the same
    # mountPath: the export writes both, a close Kubernetes mount and this.
    kw['volumes'] = {m.target.rstrip('/') or '/': (m, i) for i, m in
                     enumerate(docker_config.parse_volumes(f, errs))}
    kw['volumes_path'] = f.p('volumes')
    f.finish()
    return kw


def _pod_security(sf: common.Fields, errs: errors.ErrorList
                  ) -> Dict[str, Any]:
    raw = sf.mapping('securityContext')
    if not raw:
        return {}
    f = common.Fields(raw, sf.p('securityContext'), errs, (
        'runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroups',
        'seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'fsGroup',
        'sysctls', 'fsGroupChangePolicy', 'windowsOptions',
        'supplementalGroupsPolicy', 'seLinuxChangePolicy'))
    for key in ('fsGroup', 'fsGroupChangePolicy', 'windowsOptions',
                'supplementalGroupsPolicy', 'seLinuxChangePolicy'):
        if f.has(key):
            errs.forbidden(f.p(key), 'not supported: host paths are not '
                           'chowned or relabelled')
    if f.has('sysctls'):
        errs.forbidden(f.p('sysctls'), 'not supported: with host networking '
                       'namespaced sysctls would change the host')
    out: Dict[str, Any] = {}
    for key in ('runAsUser', 'runAsGroup'):
        value = f.int(key, None, 0, 2147483647)
        if value is not None:
            out[key] = value
    if f.has('runAsNonRoot'):
        out['runAsNonRoot'] = f.bool('runAsNonRoot')
    groups = f.list('supplementalGroups') or []
    gids = []
    for i, g in enumerate(groups):
        if isinstance(g, bool) or not isinstance(g, int) or not \
                0 <= g <= 2147483647:
            errs.invalid(f'{f.p("supplementalGroups")}[{i}]', g,
                         'must be a group ID (0-2147483647)')
        else:
            gids.append(str(g))
    out['group_add'] = tuple(gids)
    for key in ('seLinuxOptions', 'seccompProfile', 'appArmorProfile'):
        if f.has(key):
            out[key] = (f.raw(key), f.p(key))
    f.finish()
    return out


def _volumes(sf: common.Fields, errs: errors.ErrorList, info: _PodInfo
             ) -> Dict[str, _Volume]:
    out: Dict[str, _Volume] = {}
    for i, raw in enumerate(sf.list('volumes') or []):
        path = f'{sf.p("volumes")}[{i}]'
        if not isinstance(raw, Mapping):
            common.wrong_type(errs, path, raw, 'a mapping')
            continue
        sources = [k for k in raw if k != 'name']
        name = raw.get('name')
        if not isinstance(name, str) or not name:
            errs.required(f'{path}.name')
            continue
        if not common.check_label(errs, f'{path}.name', name):
            continue
        if name in out:
            errs.duplicate(f'{path}.name', name)
            continue
        if not sources:
            errs.required(path, 'must specify a volume type')
            continue
        if len(sources) > 1:
            errs.forbidden(path, 'may not specify more than 1 volume type')
            continue
        kind = sources[0]
        body = raw[kind]
        vpath = f'{path}.{kind}'
        if kind == 'hostPath':
            if not isinstance(body, Mapping):
                common.wrong_type(errs, vpath, body, 'a mapping')
                continue
            f = common.Fields(body, vpath, errs, ('path', 'type'))
            host = f.str('path', required=True)
            htype = f.str('type', '', choices=HOST_PATH_TYPES)
            f.finish()
            if host and common.has_dotdot(host):
                errs.invalid(f.p('path'), host, "must not contain '..'")
                continue
            if host and not common.check_abs_path(errs, f.p('path'), host):
                continue
            if host:
                # /srv/x/ and /srv/x are the same directory to Docker.
                out[name] = _Volume(name, 'hostPath',
                                    host.rstrip('/') or '/', htype)
        elif kind == 'emptyDir':
            body = body or {}
            if not isinstance(body, Mapping):
                common.wrong_type(errs, vpath, body, 'a mapping')
                continue
            f = common.Fields(body, vpath, errs, ('medium', 'sizeLimit'))
            medium = f.str('medium', '', choices=('', 'Memory'))
            size = None
            if f.has('sizeLimit'):
                q = quantity.try_parse(f.raw('sizeLimit'))
                if q is None or q <= 0:
                    errs.invalid(f.p('sizeLimit'), f.raw('sizeLimit'),
                                 'must be a positive quantity')
                else:
                    size = quantity.whole(q)
            f.finish()
            if size is not None and medium != 'Memory':
                errs.forbidden(f.p('sizeLimit'), 'only enforced for medium: '
                               'Memory here')
            out[name] = _Volume(name, 'memory' if medium else 'emptyDir',
                                size=size)
        elif kind in ('configMap', 'secret', 'projected', 'downwardAPI'):
            errs.forbidden(vpath, f'{kind} volumes are not supported (they '
                           'would be files written on the host): use a '
                           'hostPath written by puppet_config/kolla_config; '
                           'ConfigMap/Secret documents in the input can '
                           'feed env and envFrom')
        else:
            errs.unsupported(vpath, kind, ['hostPath', 'emptyDir'])
    return out


def _security(raw: Any, path: str, errs: errors.ErrorList,
              pod_sc: Dict[str, Any]) -> Dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        raw = {}
    f = common.Fields(raw, path, errs, (
        'privileged', 'runAsUser', 'runAsGroup', 'runAsNonRoot',
        'capabilities', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation',
        'seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'procMount',
        'windowsOptions'))
    if f.has('windowsOptions'):
        errs.forbidden(f.p('windowsOptions'), 'Linux host')
    f.str('procMount', choices=('Default',))
    privileged = f.bool('privileged')
    user = f.int('runAsUser', pod_sc.get('runAsUser'), 0, 2147483647)
    group = f.int('runAsGroup', pod_sc.get('runAsGroup'), 0, 2147483647)
    non_root = f.bool('runAsNonRoot', pod_sc.get('runAsNonRoot', False))
    user_text = ''
    if user is not None:
        user_text = str(user) + (f':{group}' if group is not None else '')
    elif group is not None:
        errs.forbidden(f.p('runAsGroup'), 'runAsGroup needs runAsUser '
                       '(Docker user uid:gid)')
    if non_root:
        if user is None:
            errs.forbidden(f.p('runAsNonRoot'), 'needs a numeric runAsUser '
                           'here: the image user is not checked')
        elif user == 0:
            errs.forbidden(f.p('runAsNonRoot'), 'runAsUser is 0 (root)')
    caps = f.mapping('capabilities') or {}
    cf = common.Fields(caps, f.p('capabilities'), errs, ('add', 'drop'))
    cap_add = docker_config.parse_caps(cf, 'add', errs)
    cap_drop = docker_config.parse_caps(cf, 'drop', errs)
    cf.finish()
    security_opt: List[str] = []
    ape = f.raw('allowPrivilegeEscalation')
    if ape is not None:
        f.bool('allowPrivilegeEscalation')
        if ape is False:
            if privileged:
                errs.invalid(f.p('allowPrivilegeEscalation'), False,
                             'cannot set allowPrivilegeEscalation to false '
                             'and privileged to true')
            if 'SYS_ADMIN' in cap_add:
                errs.invalid(f.p('allowPrivilegeEscalation'), False,
                             'cannot set allowPrivilegeEscalation to false '
                             'and capabilities.Add CAP_SYS_ADMIN')
            security_opt.append('no-new-privileges')
    se = f.raw('seLinuxOptions')
    se_path = f.p('seLinuxOptions')
    if se is None and 'seLinuxOptions' in pod_sc:
        se, se_path = pod_sc['seLinuxOptions']
    if se is not None:
        if not isinstance(se, Mapping):
            common.wrong_type(errs, se_path, se, 'a mapping')
        else:
            sf = common.Fields(se, se_path, errs,
                               ('user', 'role', 'type', 'level'))
            for key in ('user', 'role', 'type', 'level'):
                value = sf.str(key)
                if value:
                    security_opt.append(f'label={key}:{value}')
            sf.finish()
    seccomp = f.raw('seccompProfile')
    sc_path = f.p('seccompProfile')
    if seccomp is None and 'seccompProfile' in pod_sc:
        seccomp, sc_path = pod_sc['seccompProfile']
    security_opt.extend(_profile(seccomp, sc_path, errs, 'seccomp'))
    apparmor = f.raw('appArmorProfile')
    aa_path = f.p('appArmorProfile')
    if apparmor is None and 'appArmorProfile' in pod_sc:
        apparmor, aa_path = pod_sc['appArmorProfile']
    if apparmor is not None:
        security_opt.extend(_profile(apparmor, aa_path, errs, 'apparmor'))
    read_only = f.bool('readOnlyRootFilesystem')
    f.finish()
    return {'privileged': privileged, 'user': user_text, 'cap_add': cap_add,
            'cap_drop': cap_drop, 'security_opt': tuple(security_opt),
            'read_only': read_only}


def _profile(raw: Any, path: str, errs: errors.ErrorList,
             what: str) -> List[str]:
    """seccompProfile / appArmorProfile → security options."""
    if raw is None:
        # Kubernetes' default is Unconfined seccomp (dockershim did this).
        return ['seccomp=unconfined'] if what == 'seccomp' else []
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return []
    f = common.Fields(raw, path, errs, ('type', 'localhostProfile'))
    kind = f.str('type', required=True,
                 choices=('RuntimeDefault', 'Unconfined', 'Localhost'))
    local = f.str('localhostProfile')
    f.finish()
    if kind == 'Localhost':
        if not local:
            errs.required(f.p('localhostProfile'))
            return []
        if what == 'seccomp':
            errs.forbidden(f.p('localhostProfile'), 'Localhost seccomp '
                           'profiles are not supported')
            return []
        return [f'apparmor={local}']
    if local:
        errs.forbidden(f.p('localhostProfile'), 'only with type Localhost')
    if kind == 'Unconfined':
        return [f'{what}=unconfined']
    return []


def _resources(raw: Any, path: str, errs: errors.ErrorList
               ) -> Tuple[Dict[str, Any], Dict[str, Decimal]]:
    """cgroup settings and the parsed values (for resourceFieldRef)."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return {}, {}
    f = common.Fields(raw, path, errs, ('limits', 'requests', 'claims'))
    if f.has('claims'):
        errs.forbidden(f.p('claims'), 'not supported')
    values: Dict[str, Decimal] = {}
    for group in ('limits', 'requests'):
        items = f.mapping(group) or {}
        for key, value in items.items():
            p = f'{f.p(group)}[{key}]'
            if key not in ('cpu', 'memory'):
                errs.unsupported(p, key, ['cpu', 'memory'])
                continue
            try:
                q = quantity.parse(value)
            except quantity.QuantityError as exc:
                errs.invalid(p, value if isinstance(value, str) else
                             str(value), str(exc))
                continue
            if q < 0:
                errs.invalid(p, str(value), 'must be greater than or equal '
                             'to 0')
                continue
            values[f'{group}.{key}'] = q
    f.finish()
    for key in ('cpu', 'memory'):
        lim, req = values.get(f'limits.{key}'), values.get(f'requests.{key}')
        if lim is not None and req is not None and req > lim:
            errs.invalid(f'{path}.requests[{key}]', str(req),
                         f'must be less than or equal to {key} limit')
        if req is None and lim is not None:
            values[f'requests.{key}'] = lim   # Kubernetes defaulting
    res: Dict[str, Any] = {}
    cpu_req = values.get('requests.cpu')
    if cpu_req is not None:
        # The kubelet clamps shares to the kernel's range the same way.
        res['cpu_shares'] = min(common.MAX_CPU_SHARES, max(
            2, quantity.milli(cpu_req) * 1024 // 1000))
    cpu_lim = values.get('limits.cpu')
    if cpu_lim is not None:
        res['cpu_quota'] = max(1000, quantity.milli(cpu_lim) * 100)
        res['cpu_period'] = 100000
        if res['cpu_quota'] > common.MAX_CPU_QUOTA:
            errs.invalid(f'{path}.limits[cpu]', str(cpu_lim), f'must be at '
                         f'most {common.MAX_CPU_QUOTA // 100000} CPUs')
    mem_lim = values.get('limits.memory')
    if mem_lim is not None:
        mem = quantity.whole(mem_lim)
        if mem < docker_config.MIN_MEMORY:
            errs.invalid(f'{path}.limits[memory]', str(mem_lim),
                         'Docker needs a memory limit of at least 6Mi')
        res['mem_limit'] = mem
        res['memswap_limit'] = mem
    return res, values


def _probe(raw: Any, path: str, errs: errors.ErrorList
           ) -> Optional[model.HealthCheck]:
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return None
    f = common.Fields(raw, path, errs, (
        'exec', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds',
        'successThreshold', 'failureThreshold', 'httpGet', 'tcpSocket',
        'grpc', 'terminationGracePeriodSeconds'))
    for key in ('httpGet', 'tcpSocket', 'grpc'):
        if f.has(key):
            errs.forbidden(f.p(key), 'only exec probes map to a Docker '
                           'health check')
    if f.has('terminationGracePeriodSeconds'):
        errs.forbidden(f.p('terminationGracePeriodSeconds'), 'not supported')
    delay = f.int('initialDelaySeconds', 0, minimum=0,
                  maximum=common.MAX_PROBE)
    period = f.int('periodSeconds', 10, minimum=1, maximum=common.MAX_PROBE)
    timeout = f.int('timeoutSeconds', 1, minimum=1,
                    maximum=common.MAX_PROBE)
    f.int('successThreshold', 1, minimum=1, maximum=1)
    failure = f.int('failureThreshold', 3, minimum=1,
                    maximum=common.INT32_MAX)
    ex = f.mapping('exec')
    command: List[str] = []
    if ex is None:
        if not any(f.has(k) for k in ('httpGet', 'tcpSocket', 'grpc')):
            errs.required(path, 'must specify a handler type')
    else:
        ef = common.Fields(ex, f.p('exec'), errs, ('command',))
        command = ef.str_list('command') or []
        if not command:
            errs.required(ef.p('command'))
        ef.finish()
    f.finish()
    if not command:
        return None
    return model.HealthCheck(test=('CMD',) + tuple(command),
                             interval=float(period), timeout=float(timeout),
                             retries=failure or 3,
                             start_period=float(delay))


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion (forked golang ``expansion``).

    ``$$`` is an escaped ``$``; unknown or unterminated references stay as
    written.
    """
    out: List[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '$' and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == '$':
                out.append('$')
                i += 2
                continue
            if nxt == '(':
                end = text.find(')', i + 2)
                if end == -1:
                    out.append(text[i:])
                    break
                name = text[i + 2:end]
                if name in env:
                    out.append(env[name])
                else:
                    out.append(text[i:end + 1])
                i = end + 1
                continue
        out.append(ch)
        i += 1
    return ''.join(out)


def _object(info: _PodInfo, kind: str, ref: Any, path: str,
            errs: errors.ErrorList, cpath: str
            ) -> Tuple[Optional[Mapping[str, str]], bool]:
    """``(data, optional)`` of a ConfigMap/Secret reference."""
    if not isinstance(ref, Mapping):
        common.wrong_type(errs, path, ref, 'a mapping')
        return None, True
    f = common.Fields(ref, path, errs, ('name', 'key', 'optional'))
    name = f.str('name', required=True)
    optional = f.bool('optional')
    f.finish()
    data = info.objects.get((kind, info.namespace, name)) if name else None
    if name and data is None and not optional:
        errs.add(f.p('name'), 'Not found', name,
                 f'no {kind} of that name in namespace "{info.namespace}" '
                 'in the input (there is no API server)')
    if data is not None:
        used = info.used.setdefault(cpath, {})
        used[f'{kind}/{name}'] = dict(data)
    return data, optional


def _env(raw: Any, path: str, errs: errors.ErrorList, info: _PodInfo,
         cname: str, values: Dict[str, Decimal],
         env_from: Any = None, from_path: str = '',
         cpath: str = '') -> List[Tuple[str, str]]:
    env: Dict[str, str] = {}
    # envFrom first; env entries override (Kubernetes order).
    if env_from is not None and not isinstance(env_from, list):
        common.wrong_type(errs, from_path, env_from, 'a list')
        env_from = None
    for i, item in enumerate(env_from or []):
        p = f'{from_path}[{i}]'
        if not isinstance(item, Mapping):
            common.wrong_type(errs, p, item, 'a mapping')
            continue
        f = common.Fields(item, p, errs, ('configMapRef', 'secretRef',
                                          'prefix'))
        prefix = f.str('prefix')
        given = [k for k in ('configMapRef', 'secretRef') if f.has(k)]
        f.finish()
        if len(given) != 1:
            errs.invalid(p, '', 'must specify exactly one of configMapRef '
                         'and secretRef')
            continue
        kind = 'ConfigMap' if given[0] == 'configMapRef' else 'Secret'
        data, _ = _object(info, kind, item[given[0]], f.p(given[0]), errs,
                          cpath)
        for key in sorted(data or {}):
            name = prefix + key
            if common.ENV_NAME.match(name):
                env[name] = data[key]
    if raw is None:
        return list(env.items())
    if not isinstance(raw, list):
        common.wrong_type(errs, path, raw, 'a list')
        return list(env.items())
    for i, item in enumerate(raw):
        p = f'{path}[{i}]'
        if not isinstance(item, Mapping):
            common.wrong_type(errs, p, item, 'a mapping')
            continue
        f = common.Fields(item, p, errs, ('name', 'value', 'valueFrom'))
        name = f.str('name', required=True)
        if name and not common.check_env_name(errs, f.p('name'), name):
            name = ''
        if f.has('value') and f.has('valueFrom'):
            errs.invalid(f.p('valueFrom'), '', 'may not be specified when '
                         '`value` is not empty')
        value: Optional[str] = ''
        if f.has('valueFrom'):
            value = _value_from(f, errs, info, cname, values, cpath)
        elif f.has('value'):
            raw_value = f.raw('value')
            if not isinstance(raw_value, str):
                common.wrong_type(errs, f.p('value'), raw_value, 'a string')
            else:
                value = expand(raw_value, env)
        f.finish()
        if name and value is not None:
            env[name] = value
    return list(env.items())


def _value_from(f: common.Fields, errs: errors.ErrorList, info: _PodInfo,
                cname: str, values: Dict[str, Decimal],
                cpath: str = '') -> Optional[str]:
    """The value, or None for a missing optional ConfigMap/Secret key."""
    src = f.mapping('valueFrom') or {}
    p = f.p('valueFrom')
    keys = ('fieldRef', 'resourceFieldRef', 'configMapKeyRef',
            'secretKeyRef', 'fileKeyRef')
    given = [k for k in src if k in keys]
    sf = common.Fields(src, p, errs, keys)
    sf.finish()
    if len(given) != 1:
        errs.invalid(p, '', 'must have exactly one source')
        return ''
    kind = given[0]
    body = src[kind]
    bp = f'{p}.{kind}'
    if kind == 'fileKeyRef':
        errs.forbidden(bp, 'not supported')
        return ''
    if kind in ('configMapKeyRef', 'secretKeyRef'):
        okind = 'ConfigMap' if kind == 'configMapKeyRef' else 'Secret'
        data, optional = _object(info, okind, body, bp, errs, cpath)
        key = body.get('key') if isinstance(body, Mapping) else None
        if not isinstance(key, str) or not key:
            errs.required(f'{bp}.key')
            return ''
        if data is None:
            return None
        if key not in data:
            if optional:
                return None
            errs.add(f'{bp}.key', 'Not found', key,
                     f'no such key in {okind} "{body.get("name")}"')
            return ''
        return data[key]
    if not isinstance(body, Mapping):
        common.wrong_type(errs, bp, body, 'a mapping')
        return ''
    if kind == 'fieldRef':
        bf = common.Fields(body, bp, errs, ('fieldPath', 'apiVersion'))
        field = bf.str('fieldPath', required=True)
        bf.str('apiVersion', choices=('v1',))
        bf.finish()
        simple = {'metadata.name': info.name,
                  'metadata.namespace': info.namespace,
                  'metadata.uid': info.uid,
                  'spec.serviceAccountName': ''}
        if field in simple:
            return simple[field]
        if field == 'spec.nodeName':
            return socket.gethostname()
        for prefix, mapping in (('metadata.labels', info.labels),
                                ('metadata.annotations', info.annotations)):
            if field.startswith(prefix + "['") and field.endswith("']"):
                return mapping.get(field[len(prefix) + 2:-2], '')
        if field:
            errs.unsupported(bf.p('fieldPath'), field, [
                'metadata.name', 'metadata.namespace', 'metadata.uid',
                "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']",
                'spec.nodeName', 'spec.serviceAccountName'])
        return ''
    bf = common.Fields(body, bp, errs, ('containerName', 'resource',
                                        'divisor'))
    other = bf.str('containerName')
    resource = bf.str('resource', required=True, choices=(
        'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'))
    divisor = Decimal(1)
    if bf.has('divisor'):
        parsed = quantity.try_parse(bf.raw('divisor'))
        if parsed is None or parsed <= 0:
            errs.invalid(bf.p('divisor'), str(bf.raw('divisor')),
                         'must be a positive quantity')
        else:
            divisor = parsed
    bf.finish()
    if other and other != cname:
        errs.forbidden(bf.p('containerName'), 'only the container itself')
        return ''
    if not resource:
        return ''
    value = values.get(resource)
    if value is None:
        errs.required(bf.p('resource'), f'{resource} is not set for this '
                      'container (there is no node allocatable to fall back '
                      'to)')
        return ''
    import math
    return str(int(math.ceil(value / divisor)))


def _container(raw: Mapping, path: str, errs: errors.ErrorList,
               info: _PodInfo, init: bool, order: int, restart: str,
               grace: Optional[int], deadline: Optional[int],
               pod_sc: Dict[str, Any], volumes: Dict[str, _Volume],
               ports_seen: Dict[Tuple[int, str], str], extra: Dict[str, Any],
               docker_name: Optional[str]) -> Optional[model.Container]:
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
    resources, values = _resources(f.raw('resources'), f.p('resources'),
                                   errs)
    environment = _env(f.raw('env'), f.p('env'), errs, info, name, values,
                       f.raw('envFrom'), f.p('envFrom'), path)
    env_map = dict(environment)
    command = f.str_list('command')
    args = f.str_list('args')
    command = [expand(c, env_map) for c in command] if command else None
    args = [expand(a, env_map) for a in args] if args else None
    working_dir = f.str('workingDir')
    if working_dir:
        common.check_abs_path(errs, f.p('workingDir'), working_dir)
    sec = _security(f.raw('securityContext'), f.p('securityContext'), errs,
                    pod_sc)
    mounts = _mounts(f, errs, volumes, sec['privileged'], info)
    exact = extra.get('volumes') or {}
    if exact:
        by_target = {m.target.rstrip('/') or '/': m for m in mounts}
        for target, (mount, i) in exact.items():
            if target not in by_target:
                errs.not_found(f'{extra["volumes_path"]}[{i}]', mount.target)
        mounts = tuple(exact[m.target.rstrip('/') or '/'][0]
                       if (m.target.rstrip('/') or '/') in exact else m
                       for m in mounts)
    _ports(f, errs, ports_seen)
    health: Optional[model.HealthCheck] = model.HealthCheck(test=('NONE',))
    if f.has('livenessProbe'):
        if init:
            errs.forbidden(f.p('livenessProbe'), 'may not be set for init '
                           'containers without restartPolicy=Always')
        else:
            health = _probe(f.raw('livenessProbe'), f.p('livenessProbe'),
                            errs) or health
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
    policy = 'no' if kind is not model.Kind.SERVICE else RESTART[restart]
    res = dict(extra.get('resources', {}))
    res.update(resources)
    kw = {k: v for k, v in extra.items()
          if k not in ('resources', 'volumes', 'volumes_path')}
    sec_opt = tuple(sec['security_opt']) + tuple(kw.pop('security_opt', ()))
    group_add = tuple(pod_sc.get('group_add', ())) + tuple(
        kw.pop('group_add', ()))
    if 'restart_policy' in kw:
        if kind is model.Kind.SERVICE:
            policy = kw['restart_policy']
        kw.pop('restart_policy')
    labels = dict(info.labels)
    if info.name:
        labels[model.LABEL_POD] = info.name
        labels[LABEL_NAMESPACE] = info.namespace
    labels[LABEL_CONTAINER] = name
    dname = docker_name or (f'{info.name}-{name}' if info.name else name)
    if name and not docker_name and not common.DOCKER_NAME.match(dname):
        errs.invalid(f.p('name'), dname, 'not a valid Docker container name')
    user = kw.pop('user', None) or sec['user']
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
            privileged=sec['privileged'],
            exec_target=info.annotations.get(ANN_EXEC_TARGET, ''),
            pod=info.name, pod_container=name,
            labels=tuple(sorted(labels.items())),
            **{k: v for k, v in kw.items() if k in ('exit_codes',
                                                     'timeout')})
    if kind is model.Kind.TASK and deadline and 'timeout' not in kw:
        kw['timeout'] = deadline
    # Kubernetes semantics: command → Entrypoint, args → Cmd; with a
    # command and no args the image's CMD must not be appended, so Cmd is
    # an explicit empty list.
    entrypoint = tuple(command) if command else None
    cmd = tuple(args) if args else (() if command else None)
    return model.Container(
        name=dname, image=image, kind=kind, step=info.step,
        start_order=order, entrypoint=entrypoint, command=cmd,
        environment=tuple(environment), working_dir=working_dir,
        user=user, mounts=mounts, privileged=sec['privileged'],
        pid_mode=kw.pop('pid_mode', '') or (
            'host' if pod_sc.get('_hostPID') else ''),
        ipc_mode=kw.pop('ipc_mode', '') or (
            'host' if pod_sc.get('_hostIPC') else ''),
        uts_mode=kw.pop('uts_mode', ''),
        cap_add=sec['cap_add'], cap_drop=sec['cap_drop'],
        security_opt=sec_opt, read_only=sec['read_only'],
        group_add=group_add, restart_policy=policy,
        restart_max_retries=kw.pop('restart_max_retries', 0),
        stop_timeout=grace, stop_signal=kw.pop('stop_signal', '') or
        stop_signal, healthcheck=health,
        resources=model.Resources(**res), labels=tuple(sorted(
            labels.items())), tty=tty, stdin_open=stdin, pull_policy=pull,
        pod=info.name, pod_container=name, init=init, **kw)


def _mounts(f: common.Fields, errs: errors.ErrorList,
            volumes: Dict[str, _Volume], privileged: bool,
            info: _PodInfo) -> Tuple[model.Mount, ...]:
    out: List[model.Mount] = []
    targets: Dict[str, str] = {}
    used = set()
    for i, raw in enumerate(f.list('volumeMounts') or []):
        p = f'{f.p("volumeMounts")}[{i}]'
        if not isinstance(raw, Mapping):
            common.wrong_type(errs, p, raw, 'a mapping')
            continue
        mf = common.Fields(raw, p, errs, (
            'name', 'mountPath', 'readOnly', 'subPath', 'subPathExpr',
            'mountPropagation', 'recursiveReadOnly'))
        name = mf.str('name', required=True)
        target = mf.str('mountPath', required=True)
        read_only = mf.bool('readOnly')
        sub = mf.str('subPath')
        prop = mf.str('mountPropagation', 'None', choices=tuple(PROPAGATION))
        for key in ('subPathExpr', 'recursiveReadOnly'):
            if mf.has(key):
                errs.forbidden(mf.p(key), 'not supported')
        mf.finish()
        vol = volumes.get(name) if name else None
        if name and vol is None:
            errs.not_found(mf.p('name'), name)
        if target:
            if not common.check_abs_path(errs, mf.p('mountPath'), target):
                target = ''
            elif target.rstrip('/') in targets:
                errs.duplicate(mf.p('mountPath'), target)
                target = ''
            else:
                targets[target.rstrip('/')] = p
        if sub and (sub.startswith('/') or common.has_dotdot(sub)):
            errs.invalid(mf.p('subPath'), sub, "must be a relative path "
                         "without '..'")
            sub = ''
        if prop == 'Bidirectional' and not privileged:
            errs.forbidden(mf.p('mountPropagation'), 'Bidirectional mount '
                           'propagation is available only to privileged '
                           'containers')
        if vol is None or not target:
            continue
        if vol.name not in used:
            vol.users += 1
            used.add(vol.name)
        propagation = PROPAGATION[prop]
        if vol.kind == 'hostPath':
            source = vol.path if not sub else \
                f'{vol.path.rstrip("/")}/{sub.strip("/")}'
            out.append(model.Mount(
                target=target, source=source, type='bind',
                read_only=read_only, propagation=propagation,
                host_path_type=vol.type, volume=vol.name,
                sub_path=sub.strip('/')))
            continue
        if sub:
            errs.forbidden(mf.p('subPath'), 'subPath is supported for '
                           'hostPath volumes only')
            continue
        if propagation:
            errs.forbidden(mf.p('mountPropagation'), 'for hostPath volumes '
                           'only')
            continue
        if vol.kind == 'memory':
            out.append(model.Mount(target=target, type='tmpfs',
                                   read_only=read_only, volume=vol.name,
                                   tmpfs_size=vol.size))
        else:
            prefix = info.name or 'pod'
            out.append(model.Mount(target=target, source=f'{prefix}-'
                                   f'{vol.name}', type='volume',
                                   read_only=read_only, volume=vol.name))
    return tuple(out)


def _ports(f: common.Fields, errs: errors.ErrorList,
           ports_seen: Dict[Tuple[int, str], str]) -> None:
    names = set()
    for i, raw in enumerate(f.list('ports') or []):
        p = f'{f.p("ports")}[{i}]'
        if not isinstance(raw, Mapping):
            common.wrong_type(errs, p, raw, 'a mapping')
            continue
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


def is_object(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get('kind') in ('ConfigMap',
                                                              'Secret')


def parse_object(data: Mapping, path: str, errs: errors.ErrorList
                 ) -> Optional[Tuple[Tuple[str, str, str], Dict[str, str]]]:
    """A ConfigMap or Secret document: ``((kind, namespace, name), data)``.

    Only its ``data`` (Secret: base64, and ``stringData``) is used, by
    ``env[].valueFrom`` and ``envFrom`` of Pods in the same input.
    """
    import base64
    import binascii
    kind = data['kind']
    keys = ('apiVersion', 'kind', 'metadata', 'data', 'immutable') + (
        ('stringData', 'type') if kind == 'Secret' else ('binaryData',))
    f = common.Fields(data, path, errs, keys)
    if data.get('apiVersion') != 'v1':
        errs.unsupported(f.p('apiVersion'), data.get('apiVersion'), ['v1'])
    meta = f.mapping('metadata') or {}
    mf = common.Fields(meta, f.p('metadata'), errs, METADATA_KEYS)
    name = mf.str('name', required=True)
    if name:
        common.check_subdomain(errs, mf.p('name'), name)
    namespace = mf.str('namespace', 'default')
    if namespace:
        common.check_label(errs, mf.p('namespace'), namespace)
    _string_map(mf, 'labels', errs, label_values=True)
    _string_map(mf, 'annotations', errs)
    mf.str('uid')
    mf.finish()
    f.bool('immutable')
    f.str('type')
    if f.has('binaryData'):
        errs.forbidden(f.p('binaryData'), 'not supported: environment '
                       'values are text')
    out: Dict[str, str] = {}
    for group in ('data', 'stringData'):
        if group not in keys:
            continue
        for key, value in (f.mapping(group) or {}).items():
            p = f'{f.p(group)}[{key}]'
            if not isinstance(key, str) or not key or len(key) > 253 or \
                    not all(c.isalnum() or c in '-._' for c in key):
                errs.invalid(p, str(key), "a valid config key must consist "
                             "of alphanumeric characters, '-', '_' or '.'")
                continue
            if not isinstance(value, str):
                common.wrong_type(errs, p, value, 'a string')
                continue
            if kind == 'Secret' and group == 'data':
                try:
                    value = base64.b64decode(value, validate=True).decode(
                        'utf-8')
                except (binascii.Error, ValueError):
                    errs.invalid(p, '<secret>', 'not base64 of UTF-8 text')
                    continue
            out[key] = value
    f.finish()
    if not name:
        return None
    return (kind, namespace or 'default', name), out


def secret_values(data: Any) -> List[str]:
    """Values of a raw Secret document, decoded, for masking."""
    import base64
    out: List[str] = []
    if not (isinstance(data, Mapping) and data.get('kind') == 'Secret'):
        return out
    for group in ('data', 'stringData'):
        values = data.get(group)
        if not isinstance(values, Mapping):
            continue
        for value in values.values():
            if isinstance(value, (int, float)) and not isinstance(
                    value, bool):
                value = str(value)   # invalid, but masked in the error
            if not isinstance(value, str):
                continue
            out.append(value)
            if group == 'data':
                try:
                    out.append(base64.b64decode(value).decode('utf-8'))
                except Exception:  # noqa: BLE001 - best effort masking
                    pass
    return out
