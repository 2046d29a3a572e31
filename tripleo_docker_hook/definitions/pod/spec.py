"""The Pod document and its spec: ``apiVersion``/``kind``, the kubelet
``v1beta2`` manifest, Pod-wide fields, and the containers in start order
with their container hashes' source."""

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import host_services
from tripleo_docker_hook.definitions import quantity
from tripleo_docker_hook.definitions.pod import container
from tripleo_docker_hook.definitions.pod import metadata
from tripleo_docker_hook.definitions.pod import security
from tripleo_docker_hook.definitions.pod import volumes

POD_KEYS = ('apiVersion', 'kind', 'metadata', 'spec', 'status')
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
    for p, vol in f.mappings('volumes'):
        vf = common.Fields(vol, p, errs, ('name', 'source'))
        vf.finish()
        source = vf.mapping('source') or {}
        out = {'name': vol.get('name')}
        if 'hostDir' in source and isinstance(source['hostDir'], Mapping):
            out['hostPath'] = {'path': source['hostDir'].get('path')}
        elif source and 'emptyDir' not in source:
            errs.unsupported(f'{p}.source', sorted(source)[0],
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
    info = metadata.metadata(data.get('metadata'), meta_path, errs, v1beta2)
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
    restart = sf.str('restartPolicy', 'Always',
                     choices=tuple(container.RESTART))
    grace = sf.int('terminationGracePeriodSeconds', 30, minimum=0,
                   maximum=common.MAX_GRACE)
    deadline = sf.int('activeDeadlineSeconds', None, minimum=1,
                      maximum=common.MAX_TIMEOUT)
    pod_sc = security.pod_security(sf, errs)
    host_pid = sf.bool('hostPID')
    host_ipc = sf.bool('hostIPC')
    pod_volumes = volumes.volumes(sf, errs)
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
    docker_name = info.annotations.get(metadata.ANN_DOCKER_NAME)
    if docker_name is not None and total != 1:
        errs.forbidden(f'{meta_path}.annotations'
                       f'[{metadata.ANN_DOCKER_NAME}]',
                       'only for a Pod with exactly one container')
        docker_name = None
    if info.kind == 'task' and 'restartPolicy' in spec and \
            restart == 'Always':
        errs.forbidden(sf.p('restartPolicy'), f'a {metadata.ANN_KIND}: task '
                       'Pod runs '
                       'to completion: restartPolicy must be Never or '
                       'OnFailure')
    if info.kind == 'exec' and (init_raw or len(containers_raw) != 1):
        errs.forbidden(f'{meta_path}.annotations[{metadata.ANN_KIND}]',
                       'an exec Pod has exactly one container')
    extra = metadata.docker_options(info, meta_path, errs)
    ctx = container.PodContext(
        info=info, restart=restart, grace=grace, deadline=deadline,
        security=pod_sc, host_pid=host_pid, host_ipc=host_ipc,
        volumes=pod_volumes, ports_seen=ports_seen, extra=extra,
        docker_name=docker_name)
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
        c = container.container(raw, cpath, errs, ctx, init=init,
                                order=order)
        if c is None:
            continue
        canon = common.canonical(
            [pod_canon, field, i if init else 0, _container_canon(raw),
             info.used.pop(cpath, None)])
        from tripleo_docker_hook import definitions
        out.append(dataclasses.replace(
            c, source_hash=definitions.canonical_hash(['pod', canon])))
    out = host_services.from_pod(info.annotations, meta_path, out, errs)
    for vol in pod_volumes.values():
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
