"""A Pod's metadata: name, namespace, labels and the ``tripleo.org/*``
annotations (step, start order, kind, Docker name, Docker options).

The kubelet's seam: what the Pod *is* (identity, placement in the
deployment's steps) before any of its containers is looked at.
"""

import dataclasses
from typing import Any, Dict, Mapping, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import docker_config

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

METADATA_KEYS = ('name', 'namespace', 'labels', 'annotations', 'uid',
                 'creationTimestamp')
_LABEL_VALUE = common.QUALIFIED_NAME


@dataclasses.dataclass
class PodInfo:
    """What every container of one Pod shares from its metadata."""

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


def metadata(meta: Any, path: str, errs: errors.ErrorList,
             v1beta2: bool) -> PodInfo:
    """``metadata`` and the ``tripleo.org/*`` annotations (a ``v1beta2``
    manifest may have no name)."""
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
    labels = string_map(f, 'labels', errs, label_values=True)
    annotations = string_map(f, 'annotations', errs)
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
    for key in (ANN_DOCKER_NAME, ANN_EXEC_TARGET):
        if key in annotations:
            common.check_container_name(
                errs, f'{path}.annotations[{key}]', annotations[key])
    canon = common.canonical({
        'name': name, 'namespace': meta.get('namespace'), 'uid': uid,
        'labels': labels,
        'annotations': {k: v for k, v in annotations.items()
                        if k in OUR_ANNOTATIONS}})
    return PodInfo(name, namespace or 'default', uid, labels, annotations,
                   step, start, kind, canon)


def string_map(f: common.Fields, key: str, errs: errors.ErrorList,
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


def docker_options(info: PodInfo, meta_path: str, errs: errors.ErrorList
                   ) -> Dict[str, Any]:
    """The ``tripleo.org/docker-options`` annotation: Docker options with
    no Kubernetes field, read by the same table as ``docker_config``."""
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
