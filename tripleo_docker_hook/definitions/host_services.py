"""Which host systemd units a container replaces (baremetal → containers).

docker_config: ``host_services: [openstack-nova-compute.service]`` on a
long-running container.  Pods: the annotation ``tripleo.org/host-services``
(comma-separated; the Pod's first app container) or
``tripleo.org/host-services.<container>`` (the named app container).

Names follow systemd.unit(5): at most 255 characters of ``[A-Za-z0-9:_.\\-]``,
an optional ``@instance`` (never a bare template, which cannot be stopped)
and a unit type that starts something: ``.service``, ``.socket``,
``.timer`` or ``.path``.  A unit may be claimed once per host: here within
one deployment, across deployments by :mod:`tripleo_docker_hook.unit_plan`.
"""

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common

ANN_HOST_SERVICES = 'tripleo.org/host-services'
UNIT_TYPES = ('service', 'socket', 'timer', 'path')
_UNIT = re.compile(r'^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.(' +
                   '|'.join(UNIT_TYPES) + r')$')
MAX_UNIT_NAME = 255


def check_unit(errs: errors.ErrorList, path: str, name: Any) -> bool:
    """One unit name; records an error naming ``path`` when it is bad."""
    if not isinstance(name, str):
        common.wrong_type(errs, path, name, 'a systemd unit name')
        return False
    if len(name) > MAX_UNIT_NAME or not _UNIT.match(name) or \
            name.startswith('-'):
        hint = f' (did you mean "{name}.service"?)' if name and \
            re.match(r'^[A-Za-z0-9:_.\\@-]+$', name) and \
            '.' not in name else ''
        errs.invalid(path, name, 'not a systemd unit name: '
                     '[A-Za-z0-9:_.\\-] with an optional @instance and one '
                     f'of the suffixes .{", .".join(UNIT_TYPES)}{hint}')
        return False
    from tripleo_docker_hook import unit_plan
    if unit_plan.protected(name):
        errs.forbidden(path, f'{name}: the node needs it to run containers '
                       'or this hook; no container can replace it')
        return False
    return True


def parse_names(items: Sequence[Any], path_of, errs: errors.ErrorList
                ) -> Tuple[str, ...]:
    out: List[str] = []
    for i, item in enumerate(items):
        path = path_of(i)
        if not check_unit(errs, path, item):
            continue
        if item in out:
            errs.duplicate(path, item)
            continue
        out.append(item)
    return tuple(out)


def from_docker_config(f: common.Fields, kind: model.Kind,
                       errs: errors.ErrorList) -> Tuple[str, ...]:
    """The ``host_services`` key of a docker_config entry.

    Deliberately not kept in the canonical copy (``f.keep``): the units a
    container replaces are no property of the container itself.
    """
    if not f.has('host_services'):
        return ()
    raw = f.raw('host_services')
    path = f.p('host_services')
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        common.wrong_type(errs, path, raw, 'a list of systemd unit names')
        return ()
    if kind is not model.Kind.SERVICE:
        errs.forbidden(path, 'only a long-running container (detach: true) '
                       'can replace a host service')
        return ()
    return parse_names(raw, lambda i: f'{path}[{i}]', errs)


def from_pod(annotations: Mapping[str, str], meta_path: str,
             containers: List[model.Container], errs: errors.ErrorList
             ) -> List[model.Container]:
    """Attach the Pod's host-services annotations to its app containers."""
    import dataclasses
    keys = [k for k in annotations if k == ANN_HOST_SERVICES or
            k.startswith(ANN_HOST_SERVICES + '.')]
    if not keys:
        return containers
    apps = [c for c in containers if not c.init]
    by_name = {c.pod_container: c for c in containers}
    claims: Dict[str, Tuple[str, ...]] = {}
    for key in sorted(keys):
        path = f'{meta_path}.annotations[{key}]'
        if key == ANN_HOST_SERVICES:
            target: Optional[model.Container] = apps[0] if apps else None
            if target is None:
                continue   # no app container: reported by the Pod parser
        else:
            target = by_name.get(key[len(ANN_HOST_SERVICES) + 1:])
            if target is None:
                errs.not_found(path, key[len(ANN_HOST_SERVICES) + 1:])
                continue
        if target.kind is not model.Kind.SERVICE:
            errs.forbidden(path, 'only a long-running app container can '
                           'replace a host service')
            continue
        items = [s.strip() for s in annotations[key].split(',')]
        items = [s for s in items if s]
        if not items:
            errs.required(path, 'a comma-separated list of systemd units')
            continue
        names = parse_names(items, lambda i, p=path: p, errs)
        if target.name in claims:
            errs.forbidden(path, f'container {target.pod_container} already '
                           'has its host services from another annotation')
            continue
        claims[target.name] = names
    return [dataclasses.replace(c, host_services=claims[c.name])
            if c.name in claims else c for c in containers]


def check_unique(found: Sequence[Tuple[model.Container, str]],
                 errs: errors.ErrorList) -> None:
    """No unit replaced by two containers of one deployment."""
    owner: Dict[str, str] = {}
    for c, where in found:
        for unit in c.host_services:
            if c.pod_container:
                base = f'{where}.metadata' if where else 'metadata'
                path = f'{base}.annotations[{ANN_HOST_SERVICES}]'
            else:
                step = f'step_{c.step}.{c.name}.host_services'
                path = f'{where}.{step}' if where else step
            if unit in owner and owner[unit] != c.name:
                errs.add(path, 'Duplicate value', unit,
                         f'already replaced by container {owner[unit]}; a '
                         'host unit can be replaced by one container only')
                continue
            owner[unit] = c.name
