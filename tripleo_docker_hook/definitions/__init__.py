"""Definitions: the deployment's ``config`` parsed into the model.

Accepted input (a mapping, or a YAML/JSON string, possibly several YAML
documents):

* Kubernetes: a v1 ``Pod``, a ``List``/``PodList`` of Pods, several Pod
  documents, or the heat-agents kubelet ``version: v1beta2`` manifest
  (:mod:`.pod`);
* TripleO: ``docker_config`` (``step_1`` … ``step_5`` → name → options, or a
  bare name → options mapping = step 1), optionally beside
  ``puppet_config`` and ``kolla_config`` (:mod:`.docker_config`,
  :mod:`.config_sections`).

Everything is validated before anything is returned: :func:`parse` raises
one :class:`errors.ValidationError` listing every problem, and never any
other exception.
"""

import hashlib
import json
from typing import Any, Dict, List, Mapping, Tuple

from tripleo_docker_hook import HASH_VERSION
from tripleo_docker_hook import errors
from tripleo_docker_hook import masking
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common

SECTIONS = ('docker_config', 'puppet_config', 'kolla_config')


class _Loaded:
    def __init__(self, docs: List[Any], multi: bool):
        self.docs = docs
        self.multi = multi


def _load(config: Any, errs: errors.ErrorList) -> _Loaded:
    loaded = _load_docs(config, errs)
    _refuse_nul(loaded, errs)
    return loaded


#: Most NUL errors reported (one names the kind; more are noise).
_MAX_NUL_ERRORS = 10


def _refuse_nul(loaded: _Loaded, errs: errors.ErrorList) -> None:
    """A NUL character anywhere in the definitions is an error naming its
    path: no value Docker or the kernel takes (argv, environment, paths,
    labels, file content) can hold one, and it passed validation only to
    fail at create or start, after earlier containers had changed."""
    from tripleo_docker_hook import loading
    found = 0
    stack = [(doc, loading.join('documents', i) if loaded.multi else '')
             for i, doc in reversed(list(enumerate(loaded.docs)))]
    while stack and found < _MAX_NUL_ERRORS:
        node, where = stack.pop()
        if isinstance(node, str):
            if '\x00' in node:
                found += 1
                errs.invalid(where or 'config', node, 'must not contain NUL')
        elif isinstance(node, Mapping):
            for key, value in reversed(list(node.items())):
                if isinstance(key, str) and '\x00' in key:
                    found += 1
                    errs.invalid(loading.join(where, key.replace(
                        '\x00', '\\u0000')), key, 'must not contain NUL')
                    continue
                path = loading.join(where, key)
                stack.append((value, path))
        elif isinstance(node, list):
            stack.extend((value, loading.join(where, i)) for i, value in
                         reversed(list(enumerate(node))))


def _load_docs(config: Any, errs: errors.ErrorList) -> _Loaded:
    if isinstance(config, bytes):
        try:
            config = config.decode('utf-8')
        except UnicodeDecodeError:
            errs.invalid('config', '<bytes>', 'not UTF-8')
            return _Loaded([], False)
    if isinstance(config, str):
        from tripleo_docker_hook import loading
        try:
            docs = [d for d in loading.yaml_load_all(config)
                    if d is not None] if config.strip() else []
        except errors.ValidationError as exc:
            errs.errors.extend(exc.errors)
            return _Loaded([], False)
        if len(docs) > 1:
            return _Loaded(docs, True)
        return _Loaded(docs or [{}], False)
    return _Loaded([{} if config is None else config], False)


def canonical_hash(data: Any) -> str:
    text = json.dumps([HASH_VERSION, common.canonical(data)],
                      sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def environment_values(config: Any, host_root: str = '/'
                       ) -> List[Tuple[str, str]]:
    """Every ``(name, value)`` of every environment in the raw config.

    Run before validation so that values are masked even in the error
    messages of a definition that fails to parse: ``environment`` lists
    and mappings, Pod ``env[].value``, the content of ``env_file`` files,
    Secret data, and the values of secret-looking command-line options
    (``keystone-manage bootstrap --bootstrap-password X``).
    """
    from tripleo_docker_hook.definitions import docker_config
    found: List[Tuple[str, str]] = []
    errs = errors.ErrorList()

    def walk(node: Any, depth: int = 0) -> None:
        if depth > 200:
            return
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in ('environment', 'env'):
                    collect(value)
                elif key == 'env_file':
                    files(value)
                elif key in ('command', 'args'):
                    found.extend(('secret', v) for v in
                                 masking.argv_secrets(value))
                walk(value, depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, depth + 1)

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            found.extend((str(k), str(v)) for k, v in value.items()
                         if v is not None)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str) and '=' in item:
                    found.append(tuple(item.split('=', 1)))
                elif isinstance(item, Mapping) and 'value' in item and \
                        item['value'] is not None:
                    found.append((str(item.get('name')),
                                  str(item['value'])))

    def files(value: Any) -> None:
        for path in docker_config.docker_config_env_paths(
                {'env_file': value}):
            result = docker_config.read_env_file(path, '', errs)
            if result is not None:
                found.extend(result[1])

    def secrets(node: Any) -> None:
        from tripleo_docker_hook.definitions import pod
        items = node.get('items') if isinstance(node, Mapping) else None
        for item in [node] + (items if isinstance(items, list) else []):
            found.extend(('secret', v) for v in pod.secret_values(item))

    token = docker_config.HOST_ROOT.set(host_root or '/')
    try:
        for doc in _load(config, errs).docs:
            walk(doc)
            secrets(doc)
    except RecursionError:
        pass
    finally:
        docker_config.HOST_ROOT.reset(token)
    return found


def parse(config: Any, host_root: str = '/') -> model.Deployment:
    """Parse and validate; raises :class:`errors.ValidationError`.

    ``host_root``: where the host's ``/`` is seen (``env_file`` is read
    there).
    """
    from tripleo_docker_hook.definitions import docker_config
    errs = common.SafeErrorList()
    token = docker_config.HOST_ROOT.set(host_root or '/')
    try:
        return _parse(config, errs)
    except RecursionError:
        errs.invalid('config', '<nested>', 'nested too deeply')
        raise errors.ValidationError(errs.errors) from None
    finally:
        docker_config.HOST_ROOT.reset(token)


def _parse(config: Any, errs: errors.ErrorList) -> model.Deployment:
    from tripleo_docker_hook.definitions import config_sections
    from tripleo_docker_hook.definitions import docker_config
    from tripleo_docker_hook.definitions import pod
    loaded = _load(config, errs)
    errs.raise_if_any()
    found: List[Tuple[model.Container, str]] = []
    puppet: List[model.PuppetConfig] = []
    kolla: List[model.KollaConfig] = []
    ports: Dict[Tuple[int, str], str] = {}
    pods = 0
    objects = _objects(loaded.docs, errs)

    def add(containers: List[model.Container], path: str) -> None:
        found.extend((c, path) for c in containers)

    for index, data in enumerate(loaded.docs):
        where = f'documents[{index}]' if loaded.multi else ''

        def at(key: str, where: str = where) -> str:
            return f'{where}.{key}' if where else key

        if not isinstance(data, Mapping):
            common.wrong_type(errs, where or 'config', data, 'a mapping')
            continue
        kind = data.get('kind')
        if kind in ('List', 'PodList'):
            lf = common.Fields(data, where, errs,
                               ('apiVersion', 'kind', 'items', 'metadata'))
            lf.finish()
            for i, item in enumerate(lf.list('items') or []):
                ipath = at(f'items[{i}]')
                if pod.is_object(item):
                    continue
                if not pod.is_pod(item):
                    errs.unsupported(f'{ipath}.kind', item.get('kind') if
                                     isinstance(item, Mapping) else
                                     common.type_name(item),
                                     ['Pod', 'ConfigMap', 'Secret'])
                    continue
                pods += 1
                add(pod.parse(item, ipath, errs, ports, objects=objects),
                    ipath)
        elif pod.is_object(data):
            continue
        elif pod.is_pod(data):
            pods += 1
            v1beta2 = data.get('version') == 'v1beta2'
            add(pod.parse(data, where, errs, ports, v1beta2=v1beta2,
                          objects=objects), where)
        elif any(k in data for k in SECTIONS):
            sf = common.Fields(data, where, errs, SECTIONS,
                               ignore_underscore=True)
            sf.finish()
            if 'docker_config' in data and data['docker_config'] is not None:
                # Paths inside docker_config start at the step, as
                # paunch and THT users know them: step_3.keystone.volumes.
                add(docker_config.parse_steps(
                    data['docker_config'], where, errs), where)
            if data.get('puppet_config') is not None:
                puppet.extend(config_sections.parse_puppet_config(
                    data['puppet_config'], at('puppet_config'), errs))
            if data.get('kolla_config') is not None:
                kolla.extend(config_sections.parse_kolla_config(
                    data['kolla_config'], at('kolla_config'), errs))
        else:
            add(docker_config.parse_steps(data, where, errs), where)
    containers = _check_deployment(found, errs)
    errs.raise_if_any()
    steps = []
    for number in sorted({c.step for c in containers}):
        members = sorted((c for c in containers if c.step == number),
                         key=lambda c: (c.start_order, c.name))
        steps.append(model.Step(number, tuple(members)))
    return model.Deployment(
        steps=tuple(steps), puppet_config=tuple(puppet),
        kolla_config=tuple(kolla),
        source_format='pod' if pods else 'docker_config')


def _objects(docs: List[Any], errs: errors.ErrorList
             ) -> Dict[Tuple[str, str, str], Dict[str, str]]:
    """ConfigMap and Secret documents of the input, for Pod env."""
    from tripleo_docker_hook.definitions import pod
    found: Dict[Tuple[str, str, str], Dict[str, str]] = {}
    multi = len(docs) > 1
    for index, data in enumerate(docs):
        where = f'documents[{index}]' if multi else ''
        items = [(where, data)]
        if isinstance(data, Mapping) and data.get('kind') in (
                'List', 'PodList') and isinstance(data.get('items'), list):
            items = [(f'{where}.items[{i}]' if where else f'items[{i}]',
                      item) for i, item in enumerate(data['items'])]
        for path, item in items:
            if not pod.is_object(item):
                continue
            result = pod.parse_object(item, path, errs)
            if result is None:
                continue
            key, values = result
            if key in found:
                errs.duplicate(f'{path}.metadata.name' if path else
                               'metadata.name', key[2])
                continue
            found[key] = values
    return found


def _container_path(c: model.Container, where: str) -> str:
    if c.pod_container:
        base = f'{where}.metadata' if where else 'metadata'
        return f'{base}.name'
    step = f'step_{c.step}.{c.name}'
    return f'{where}.{step}' if where else step


def _check_deployment(found: List[Tuple[model.Container, str]],
                      errs: errors.ErrorList) -> List[model.Container]:
    """Checks across containers: unique Docker names, exec targets,
    host services replaced once."""
    from tripleo_docker_hook.definitions import host_services
    host_services.check_unique(found, errs)
    by_name: Dict[str, model.Container] = {}
    for c, where in found:
        if c.name in by_name:
            errs.add(_container_path(c, where), 'Duplicate value', c.name,
                     'Docker container names must be unique in a '
                     'deployment')
            continue
        by_name[c.name] = c
    for c, where in found:
        _check_exec_sizes(c, _container_path(c, where), errs)
        _check_label_size(c, where, errs)
    for c, where in found:
        if c.kind is not model.Kind.EXEC or not c.exec_target:
            continue
        target = by_name.get(c.exec_target)
        if target is None:
            continue   # another deployment's container: checked at apply
        path = _container_path(c, where)
        if target.kind is not model.Kind.SERVICE:
            errs.invalid(path, c.exec_target, 'the exec target must be a '
                         'long-running container, not a one-shot')
        elif (target.step, target.start_order) >= (c.step, c.start_order):
            errs.invalid(path, c.exec_target, 'the exec target must start '
                         'before the exec: give it an earlier step or a '
                         'lower start_order')
    _check_dependencies(
        [(c, w) for c, w in found if by_name.get(c.name) is c], by_name,
        errs)
    return [c for c, _ in found if by_name.get(c.name) is c]


#: Longest argument or environment string ``execve(2)`` takes, its NUL
#: included (Linux ``MAX_ARG_STRLEN``, 32 pages).
MAX_ARG_STRLEN = 32 * 4096
#: Most bytes of arguments and environment together (Linux ``ARG_MAX`` with
#: the default 8 MiB stack: a quarter of it; strings and their pointers).
MAX_EXEC_BYTES = 2 * 1024 * 1024


#: Most bytes of one container's labels, keys and values together
#: (Kubernetes' cap on a Pod's annotations, ``TotalAnnotationSizeLimitB``):
#: Docker has none, and every container list carries every label.
MAX_LABEL_BYTES = 256 * 1024


def _check_label_size(c: model.Container, where: str,
                      errs: errors.ErrorList) -> None:
    size = sum(len(k.encode('utf-8', 'surrogateescape')) +
               len(v.encode('utf-8', 'surrogateescape'))
               for k, v in c.labels)
    if size > MAX_LABEL_BYTES:
        path = (f'{where}.metadata.labels' if where else 'metadata.labels'
                ) if c.pod_container else f'{_container_path(c, where)}.labels'
        errs.add(path, 'Too long', detail=f'{size} bytes of labels; at most '
                 f'{MAX_LABEL_BYTES} (keys and values together)')


def _check_exec_sizes(c: model.Container, path: str,
                      errs: errors.ErrorList) -> None:
    """Arguments and environment the kernel can exec: beyond its limits a
    container is created and then fails to start (``argument list too
    long``) after earlier containers changed, so they are refused here.
    Values are not quoted (they may be secrets, and are huge)."""
    strings = [(f'{path}.entrypoint[{i}]', s)
               for i, s in enumerate(c.entrypoint or ())]
    strings += [(f'{path}.command[{i}]', s)
                for i, s in enumerate(c.command or ())]
    strings += [(f'{path}.environment[{k}]', f'{k}={v}')
                for k, v in c.environment]
    total = 0
    for where, text in strings:
        size = len(text.encode('utf-8', 'surrogateescape')) + 1
        total += size + 8
        if size > MAX_ARG_STRLEN:
            errs.add(where, 'Too long', detail=f'{size} bytes; the kernel '
                     f'execs no argument or environment string over '
                     f'{MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN): the '
                     'container could never start')
    if total > MAX_EXEC_BYTES:
        errs.add(path, 'Too long', detail=f'arguments and environment take '
                 f'{total} bytes; the kernel execs at most {MAX_EXEC_BYTES} '
                 '(ARG_MAX): the container could never start')


def _field_path(c: model.Container, where: str, field: str) -> str:
    """The input path of a container's field (Pods: the annotation)."""
    if c.pod_container:
        from tripleo_docker_hook.definitions import pod
        base = f'{where}.metadata' if where else 'metadata'
        return f'{base}.annotations[{pod.ANN_DOCKER_OPTIONS}].{field}'
    return f'{_container_path(c, where)}.{field}'


def _check_dependencies(found: List[Tuple[model.Container, str]],
                        by_name: Dict[str, model.Container],
                        errs: errors.ErrorList) -> None:
    """Fields naming another container of this deployment
    (:attr:`model.Container.depends_on`): no cycles, the other container
    starts first, and namespaces are only joined in long-running ones.

    A name defined by no container here may be another deployment's; the
    plan checks it against the host.
    """
    where_of = {c.name: w for c, w in found}
    graph = {c.name: [t for _, t in c.depends_on if t in by_name]
             for c, _ in found}
    cyclic = _cycles(graph)
    for c, where in found:
        for field, target in c.depends_on:
            t = by_name.get(target)
            if t is None:
                continue
            path = _field_path(c, where, field)
            value = (f'container:{target}' if not
                     field.startswith('volumes_from') else target)
            if (c.name, target) in cyclic:
                errs.invalid(path, value, 'dependency cycle: ' +
                             cyclic[(c.name, target)])
            elif t.kind is model.Kind.EXEC:
                errs.invalid(path, value, 'names an action: exec, not a '
                             'container')
            elif not field.startswith('volumes_from') and \
                    t.kind is not model.Kind.SERVICE:
                errs.invalid(path, value, 'only a long-running container\'s '
                             'namespaces can be joined (a one-shot\'s are '
                             'gone when it exits)')
            elif (t.step, t.start_order) >= (c.step, c.start_order):
                other = _container_path(t, where_of[target])
                errs.invalid(path, value, f'{target} must start before '
                             f'{c.name}: give it an earlier step or a lower '
                             f'start_order ({other} is step {t.step}, '
                             f'start_order {t.start_order})')


def _cycles(graph: Dict[str, List[str]]) -> Dict[Tuple[str, str], str]:
    """Edges lying on a cycle → the cycle, written ``a → b → a``."""
    out: Dict[Tuple[str, str], str] = {}
    state: Dict[str, int] = {}   # 1: on the stack, 2: done
    stack: List[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt):] + [nxt]
                text = ' → '.join(loop)
                for a, b in zip(loop, loop[1:]):
                    out.setdefault((a, b), text)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return out
