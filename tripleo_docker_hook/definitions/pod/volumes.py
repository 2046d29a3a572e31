"""A Pod's volumes (hostPath, emptyDir) and its containers' volume
mounts, as Docker binds, named volumes and tmpfs mounts."""

import dataclasses
from typing import Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import quantity
from tripleo_docker_hook.definitions.pod import metadata

HOST_PATH_TYPES = ('', 'DirectoryOrCreate', 'Directory', 'FileOrCreate',
                   'File', 'Socket', 'CharDevice', 'BlockDevice')
PROPAGATION = {'None': '', 'HostToContainer': 'rslave',
               'Bidirectional': 'rshared'}


@dataclasses.dataclass
class Volume:
    """One ``spec.volumes`` entry; ``users`` counts the containers that
    mount it (a Memory emptyDir may have one)."""

    name: str
    kind: str                 # 'hostPath' | 'emptyDir' | 'memory'
    path: str = ''
    type: str = ''
    size: Optional[int] = None
    users: int = 0


def volumes(sf: common.Fields, errs: errors.ErrorList
            ) -> Dict[str, Volume]:
    """``spec.volumes`` by name."""
    out: Dict[str, Volume] = {}
    for path, raw in sf.mappings('volumes'):
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
                out[name] = Volume(name, 'hostPath',
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
            out[name] = Volume(name, 'memory' if medium else 'emptyDir',
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


def mounts(f: common.Fields, errs: errors.ErrorList,
           volumes: Dict[str, Volume], privileged: bool,
           info: metadata.PodInfo) -> Tuple[model.Mount, ...]:
    """A container's ``volumeMounts`` against the Pod's volumes."""
    out: List[model.Mount] = []
    targets: Dict[str, str] = {}
    used = set()
    for p, raw in f.mappings('volumeMounts'):
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
                host_path_type=vol.type, pod_volume=vol.name,
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
                                   read_only=read_only, pod_volume=vol.name,
                                   tmpfs_size=vol.size))
        else:
            prefix = info.name or 'pod'
            out.append(model.Mount(target=target, source=f'{prefix}-'
                                   f'{vol.name}', type='volume',
                                   read_only=read_only, pod_volume=vol.name))
    return tuple(out)
