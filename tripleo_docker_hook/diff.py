"""Which fields of a container definition changed: the "why" of a replace.

Pure: two :class:`model.Container` values in, a list of short, readable
lines out (``image tdh/a:1 → tdh/a:2``, ``environment.DEBUG: "0" → "1"``,
``volumes[2]: added /srv:/srv:ro``, ``config volume keystone``).  The plan
attaches them to every replace (``tripleo-docker-hook-ctl plan``, the
hook's ``deploy_stdout``), answering the question operators of every peer
ask most: *why does it restart?* (peers-live.md §3: compose #9600/#11335,
kolla LP#2143979).

Environment values whose name looks secret are shown as ``***`` on both
sides here already; every caller also masks its output with the run's
:class:`masking.Masker`.
"""

import dataclasses
import json
from typing import Any, List, Optional, Sequence, Tuple

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import masking
from tripleo_docker_hook import model

ARROW = '→'

#: Fields that are identity or bookkeeping, not settings.
_SKIPPED = frozenset({'name', 'source_hash', 'pod', 'pod_container',
                      'config_hashes', 'host_services'})

#: Display names: the docker_config words operators know.
_NAMES = {'mounts': 'volumes'}

#: Environment variable the config rendering sets: its change is shown as
#: the config volumes that changed, not as an opaque hash.
ENV_CONFIG_HASH = 'TRIPLEO_CONFIG_HASH'

#: Longest value shown in full; longer ones are cut in the middle.
MAX_VALUE = 80


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif value is None:
        text = '(image default)'
    elif isinstance(value, bool):
        text = 'true' if value else 'false'
    elif isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, tuple) and not value:
        text = '[]'
    else:
        text = json.dumps(_plain(value), default=str)
    if len(text) > MAX_VALUE:
        half = MAX_VALUE // 2 - 2
        text = f'{text[:half]}…{text[-half:]}'
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if hasattr(value, 'value'):  # enums
        return value.value
    return value


def _scalar(path: str, old: Any, new: Any) -> List[str]:
    if old == new:
        return []
    return [f'{path} {_text(old)} {ARROW} {_text(new)}']


def _env_value(key: str, value: str) -> str:
    if masking.SECRET_KEY.search(key):
        return masking.MASK
    return json.dumps(value)


def _environment(old: Sequence[Tuple[str, str]],
                 new: Sequence[Tuple[str, str]]) -> List[str]:
    before = {k: v for k, v in old if k != ENV_CONFIG_HASH}
    after = {k: v for k, v in new if k != ENV_CONFIG_HASH}
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            lines.append(f'environment.{key}: removed')
        elif key not in before:
            lines.append(f'environment.{key}: added '
                         f'{_env_value(key, after[key])}')
        elif before[key] != after[key]:
            lines.append(f'environment.{key}: '
                         f'{_env_value(key, before[key])} {ARROW} '
                         f'{_env_value(key, after[key])}')
    if not lines and [k for k, _ in old if k in before] != \
            [k for k, _ in new if k in after]:
        lines.append('environment: order')
    return lines


def _mount_text(m: model.Mount) -> str:
    if m.type == 'tmpfs':
        opts = docker_spec.tmpfs_options(m)
        return f'tmpfs:{m.target}' + (f':{opts}' if opts else '')
    text = docker_spec.bind_string(m)
    if m.host_path_type:
        text += f' ({m.host_path_type})'
    return text


def _setting(m: model.Mount) -> model.Mount:
    """A mount without where it was written (``origin``)."""
    return dataclasses.replace(m, origin='') if getattr(
        m, 'origin', '') else m


def _mounts(old: Sequence[model.Mount],
            new: Sequence[model.Mount]) -> List[str]:
    """Matched by target path: a mount added in front does not make every
    later one look changed."""
    before = {m.target: (i, m) for i, m in enumerate(old)}
    lines = []
    seen = set()
    for i, m in enumerate(new):
        seen.add(m.target)
        if m.target not in before:
            lines.append(f'volumes[{i}]: added {_mount_text(m)}')
            continue
        _, o = before[m.target]
        if _setting(o) != _setting(m):
            lines.append(f'volumes[{i}]: {_mount_text(o)} {ARROW} '
                         f'{_mount_text(m)}')
    for i, o in enumerate(old):
        if o.target not in seen:
            lines.append(f'volumes[{i}]: removed {_mount_text(o)} '
                         f'(index in the previous definition)')
    if not lines and [m.target for m in old] != [m.target for m in new]:
        lines.append('volumes: order')
    return lines


def _config(old: Sequence[Tuple[str, str]],
            new: Sequence[Tuple[str, str]]) -> List[str]:
    before, after = dict(old), dict(new)
    lines = []
    for label in sorted(set(before) | set(after)):
        if label not in before:
            lines.append(f'{label}: now mounted')
        elif label not in after:
            lines.append(f'{label}: no longer mounted')
        elif before[label] != after[label]:
            lines.append(f'{label}: content changed')
    return lines


def _walk(path: str, old: Any, new: Any) -> List[str]:
    if old == new:
        return []
    if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new) \
            and type(old) is type(new):
        lines = []
        for f in dataclasses.fields(old):
            lines += _walk(f'{path}.{f.name}', getattr(old, f.name),
                           getattr(new, f.name))
        return lines
    return _scalar(path, old, new)


def container_changes(old: model.Container, new: model.Container
                      ) -> Tuple[str, ...]:
    """What differs between two definitions of one container, in model
    field order; empty when the settings are equal (for example only the
    content of a file the definition reads changed, which the config and
    source hashes catch)."""
    lines: List[str] = []
    for f in dataclasses.fields(model.Container):
        if f.name in _SKIPPED:
            continue
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b and f.name != 'environment':
            continue
        name = _NAMES.get(f.name, f.name)
        if f.name == 'environment':
            lines += _environment(a, b)
        elif f.name == 'mounts':
            lines += _mounts(a, b)
        else:
            lines += _walk(name, a, b)
    lines += _config(getattr(old, 'config_hashes', ()),
                     getattr(new, 'config_hashes', ()))
    return tuple(lines)


def explain_hash_change(old: Optional[model.Container],
                        new: model.Container) -> Tuple[str, ...]:
    """The change lines of a replace whose hash label differs, with a line
    saying so when the previous definition is unknown or equal."""
    if old is None:
        return ('previous definition not on record: the hash label '
                'differs',)
    return container_changes(old, new) or (
        'settings equal: a file the definition reads (env_file, '
        'ConfigMap/Secret data) or the hash schema changed',)
