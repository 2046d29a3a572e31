"""Definitions: the deployment's ``config`` parsed into the model.

Minimal first version (foundation issue): a TripleO ``docker_config``
mapping (``step_N`` → name → options, or a bare name → options mapping for
step 1) with ``image``, ``command``, ``environment``, ``volumes``,
``privileged``.  Full Pod and docker_config support replaces this.
"""

import hashlib
import json
from typing import Any, List, Mapping, Tuple

import yaml

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

SCHEMA_VERSION = 1
_KNOWN = ('image', 'command', 'environment', 'volumes', 'privileged', 'net')


def _load(config: Any, errs: errors.ErrorList) -> Any:
    if isinstance(config, str):
        try:
            return yaml.safe_load(config) if config.strip() else {}
        except yaml.YAMLError as exc:
            errs.invalid('config', '<string>', f'not YAML/JSON: {exc}')
            return None
    return {} if config is None else config


def canonical_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(',', ':'),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _container(name: str, step: int, spec: Any, path: str,
               errs: errors.ErrorList) -> model.Container:
    if not isinstance(spec, Mapping):
        errs.invalid(path, spec, 'must be a mapping of container options')
        return None
    for key in spec:
        if key not in _KNOWN:
            errs.add(f'{path}.{key}', 'Unsupported value', key,
                     'unknown field')
    image = spec.get('image')
    if not isinstance(image, str) or not image.strip():
        errs.required(f'{path}.image')
    net = spec.get('net', 'host')
    if net != 'host':
        errs.unsupported(f'{path}.net', net, ['host'])
    command = spec.get('command')
    if isinstance(command, str):
        command = command.split()
    if command is not None and not (isinstance(command, list) and all(
            isinstance(c, str) for c in command)):
        errs.invalid(f'{path}.command', command, 'must be a list of strings')
        command = None
    env: List[Tuple[str, str]] = []
    raw_env = spec.get('environment') or []
    if isinstance(raw_env, Mapping):
        raw_env = [f'{k}={v}' for k, v in raw_env.items()]
    for i, item in enumerate(raw_env):
        if not isinstance(item, str) or '=' not in item:
            errs.invalid(f'{path}.environment[{i}]', item,
                         'must be NAME=VALUE')
            continue
        key, value = item.split('=', 1)
        env.append((key, value))
    mounts = []
    for i, item in enumerate(spec.get('volumes') or []):
        if item == '':
            continue  # THT `if:` leaves empty entries
        parts = item.split(':') if isinstance(item, str) else []
        if len(parts) not in (2, 3) or not parts[0].startswith('/') or \
                not parts[1].startswith('/'):
            errs.invalid(f'{path}.volumes[{i}]', item,
                         'must be /host/path:/container/path[:ro]')
            continue
        mounts.append(model.Mount(target=parts[1], source=parts[0],
                                  read_only=len(parts) == 3 and
                                  'ro' in parts[2].split(',')))
    privileged = spec.get('privileged', False)
    if not isinstance(privileged, bool):
        errs.invalid(f'{path}.privileged', privileged, 'must be a boolean')
    return model.Container(
        name=name, image=image if isinstance(image, str) else '',
        step=step, command=tuple(command) if command else None,
        environment=tuple(env), mounts=tuple(mounts),
        privileged=privileged is True, restart_policy='always',
        source_hash=canonical_hash([SCHEMA_VERSION, dict(spec)]))


def environment_values(config: Any) -> List[Tuple[str, str]]:
    """Every ``(name, value)`` of every environment in the raw config.

    Run before validation so that values are masked even in the error
    messages of a definition that fails to parse.
    """
    found: List[Tuple[str, str]] = []
    errs = errors.ErrorList()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in ('environment', 'env'):
                    collect(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            found.extend((str(k), str(v)) for k, v in value.items()
                         if v is not None)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str) and '=' in item:
                    found.append(tuple(item.split('=', 1)))
                elif isinstance(item, Mapping) and 'value' in item:
                    found.append((str(item.get('name')),
                                  str(item['value'])))

    walk(_load(config, errs))
    return found


def parse(config: Any) -> model.Deployment:
    """Parse and validate; raises :class:`errors.ValidationError`."""
    errs = errors.ErrorList()
    data = _load(config, errs)
    errs.raise_if_any()
    if not isinstance(data, Mapping):
        errs.invalid('config', type(data).__name__, 'must be a mapping')
        errs.raise_if_any()
    steps_data = data.get('docker_config', data)
    if steps_data and not all(str(k).startswith('step_') for k in steps_data):
        steps_data = {'step_1': steps_data}
    steps = []
    for key in sorted(steps_data):
        number = int(str(key)[5:]) if str(key)[5:].isdigit() else 0
        if not 1 <= number <= 5:
            errs.unsupported(key, key, [f'step_{n}' for n in range(1, 6)])
            continue
        containers = []
        for name in sorted(steps_data[key] or {}):
            c = _container(name, number, steps_data[key][name],
                           f'{key}.{name}', errs)
            if c is not None:
                containers.append(c)
        steps.append(model.Step(number, tuple(containers)))
    errs.raise_if_any()
    return model.Deployment(steps=tuple(steps))
