"""``puppet_config`` and ``kolla_config`` sections of a deployment.

Parsed and validated here, beside the container definitions, so that a bad
section fails the deployment before any change on the host; rendered by
:mod:`tripleo_docker_hook.render` and :mod:`tripleo_docker_hook.kolla`.

``puppet_config`` is what THT's ``role_data`` gives per service (one
mapping) or per role (a list, docker-puppet.json); ``null`` items of the
list (services without config) are skipped.  Entries sharing a
``config_volume`` merge into one puppet run as docker-puppet.py did: tags
and volumes concatenated (duplicates dropped), manifests joined with
newlines, ``privileged`` if any entry asks.  Unlike docker-puppet.py, which
only warned and took the first, differing ``config_image`` values are an
error: which packages' default files puppet renders against would be
decided by list order.
"""

import posixpath
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook import model

#: A config volume becomes a directory name under ``config_data_dir``, a
#: part of a container name and of a file name: a strict charset, no path.
VOLUME_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
#: Names our own layout uses beside the volumes (see :mod:`config_volume`).
RESERVED_VOLUMES = ('puppet-generated',)
#: Puppet tag syntax (lower-cased by puppet; we accept any case).
PUPPET_TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_:.-]*$')
#: Kolla reads ``perm`` with ``int(perm, 8)`` only when it is 4 digits in
#: TripleO's convention; ``'600'`` would silently be another mode.
KOLLA_PERM = re.compile(r'^[0-7]{4}$')

_PUPPET_KEYS = ('config_volume', 'puppet_tags', 'step_config',
                'config_image', 'volumes', 'privileged')
_KOLLA_KEYS = ('command', 'config_files', 'permissions')
_KOLLA_FILE_KEYS = ('source', 'dest', 'owner', 'perm', 'merge',
                    'preserve_properties', 'optional')
_KOLLA_PERMISSION_KEYS = ('path', 'owner', 'perm', 'recurse')




def _unknown_keys(data: Mapping, known: Tuple[str, ...], path: str,
                  errs: errors.ErrorList) -> None:
    for key in data:
        if key not in known:
            errs.add(f'{path}.{key}', 'Unsupported value', key,
                     'unknown field; supported fields: ' + ', '.join(known))


def _bool(data: Mapping, key: str, path: str,
          errs: errors.ErrorList) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        common.wrong_type(errs, f'{path}.{key}', value, 'a boolean')
        return False
    return value


def _string(data: Mapping, key: str, path: str, errs: errors.ErrorList,
            required: bool = True, allow_empty: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            errs.required(f'{path}.{key}')
        return ''
    if not isinstance(value, str):
        common.wrong_type(errs, f'{path}.{key}', value, 'a string')
        return ''
    if not value.strip() and not allow_empty:
        errs.required(f'{path}.{key}', 'must not be empty')
        return ''
    return value


def check_volume_name(name: str, path: str, errs: errors.ErrorList) -> bool:
    """A config volume name is one safe path component."""
    if name.startswith('/') or '/' in name:
        errs.invalid(path, name, 'must be a name, not a path (no "/")')
        return False
    if '..' in name:
        errs.invalid(path, name, 'must not contain ".."')
        return False
    if not VOLUME_NAME.match(name):
        errs.invalid(path, name, 'must consist of alphanumeric characters, '
                     '"_", "." or "-", start with an alphanumeric character '
                     'and be at most 128 characters')
        return False
    if name in RESERVED_VOLUMES or name.endswith('.md5sum'):
        errs.invalid(path, name, 'is reserved: "puppet-generated" and '
                     'names ending in ".md5sum" are used beside the volumes')
        return False
    return True


def _tags(value: Any, path: str, errs: errors.ErrorList) -> List[str]:
    if value is None or value == '':
        return []
    if isinstance(value, str):
        items = [t.strip() for t in value.split(',')]
    elif isinstance(value, list):
        items = value
    else:
        common.wrong_type(errs, path, value,
                          'a comma-separated string or a list')
        return []
    tags = []
    for i, tag in enumerate(items):
        where = f'{path}[{i}]' if isinstance(value, list) else path
        if tag == '':
            continue
        if not isinstance(tag, str) or not PUPPET_TAG.match(tag):
            errs.invalid(where, tag, 'a puppet tag consists of letters, '
                         'digits, "_", ":", "." or "-"')
            continue
        tags.append(tag)
    return tags


def parse_bind(item: Any, path: str, errs: errors.ErrorList
               ) -> Optional[model.Mount]:
    """``/host:/container[:opts]`` of a config run's ``volumes``."""
    if not isinstance(item, str):
        common.wrong_type(errs, path, item, 'a string')
        return None
    parts = item.split(':')
    if len(parts) not in (2, 3) or not all(parts[:2]):
        errs.invalid(path, item, 'must be /host/path:/container/path[:opts]')
        return None
    source, target = parts[0], parts[1]
    opts = parts[2].split(',') if len(parts) == 3 else []
    ok = True
    for part, what in ((source, 'host path'), (target, 'container path')):
        if not part.startswith('/'):
            errs.invalid(path, item, f'the {what} must be absolute')
            ok = False
    allowed = {'ro', 'rw', 'z', 'Z', 'shared', 'rshared', 'slave', 'rslave',
               'private', 'rprivate', 'nocopy', ''}
    for opt in opts:
        if opt not in allowed:
            errs.invalid(path, item, f'unknown mount option "{opt}"')
            ok = False
    if not ok:
        return None
    propagation = next((o for o in opts if o.endswith(('shared', 'slave',
                                                       'private'))), '')
    relabel = next((o for o in opts if o in ('z', 'Z')), '')
    return model.Mount(target=posixpath.normpath(target),
                       source=posixpath.normpath(source),
                       read_only='ro' in opts, propagation=propagation,
                       selinux_relabel=relabel)


def _puppet_entry(data: Any, path: str, errs: errors.ErrorList
                  ) -> Optional[model.PuppetConfig]:
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path, data, 'an object')
        return None
    count = len(errs.errors)
    _unknown_keys(data, _PUPPET_KEYS, path, errs)
    volume = _string(data, 'config_volume', path, errs)
    if volume:
        check_volume_name(volume, f'{path}.config_volume', errs)
    image = _string(data, 'config_image', path, errs)
    step_config = _string(data, 'step_config', path, errs, allow_empty=True)
    tags = _tags(data.get('puppet_tags'), f'{path}.puppet_tags', errs)
    mounts = []
    raw = data.get('volumes') or []
    if not isinstance(raw, list):
        common.wrong_type(errs, f'{path}.volumes', raw, 'a list')
        raw = []
    for i, item in enumerate(raw):
        if item == '':
            continue  # THT `if:` leaves empty entries
        mount = parse_bind(item, f'{path}.volumes[{i}]', errs)
        if mount is not None:
            mounts.append(mount)
    privileged = _bool(data, 'privileged', path, errs)
    if len(errs.errors) != count:
        return None
    return model.PuppetConfig(
        config_volume=volume, step_config=step_config, config_image=image,
        puppet_tags=tuple(tags), volumes=tuple(mounts),
        privileged=privileged)


def _unique(items) -> tuple:
    return tuple(dict.fromkeys(items))


def merge(first: model.PuppetConfig, other: model.PuppetConfig
          ) -> model.PuppetConfig:
    """Two entries of one config volume as one run (same image)."""
    step_config = '\n'.join(s for s in (first.step_config.rstrip('\n'),
                                        other.step_config) if s)
    return model.PuppetConfig(
        config_volume=first.config_volume, step_config=step_config,
        config_image=first.config_image,
        puppet_tags=_unique(first.puppet_tags + other.puppet_tags),
        volumes=_unique(first.volumes + other.volumes),
        privileged=first.privileged or other.privileged)


def merge_all(entries, path: str = 'puppet_config'
              ) -> Tuple[model.PuppetConfig, ...]:
    """Merge entries by volume across documents; ValidationError when
    one volume is asked of two images."""
    errs = errors.ErrorList()
    merged: Dict[str, model.PuppetConfig] = {}
    for entry in entries:
        prev = merged.get(entry.config_volume)
        if prev is None:
            merged[entry.config_volume] = entry
        elif prev.config_image != entry.config_image:
            errs.invalid(path, entry.config_image,
                         f'config_volume "{entry.config_volume}" is asked '
                         f'of two config images ("{prev.config_image}")')
        else:
            merged[entry.config_volume] = merge(prev, entry)
    errs.raise_if_any()
    return tuple(merged[k] for k in sorted(merged))


#: Most config volumes one deployment renders (each is one config
#: container run: bounded time).  A TripleO controller has about 70.
MAX_CONFIG_VOLUMES = 256


def parse_puppet_config(data: Any, path: str, errs: errors.ErrorList
                        ) -> Tuple[model.PuppetConfig, ...]:
    """A list of puppet_config entries; entries sharing a volume merge.
    At most :data:`MAX_CONFIG_VOLUMES` volumes."""
    if data in (None, [], {}):
        return ()
    if isinstance(data, Mapping):
        items = [(path, data)]
    elif isinstance(data, list):
        items = [(f'{path}[{i}]', item) for i, item in enumerate(data)]
    else:
        common.wrong_type(errs, path, data, 'a list of objects')
        return ()
    merged: Dict[str, model.PuppetConfig] = {}
    first_path: Dict[str, str] = {}
    for where, item in items:
        if item is None:
            continue  # a service without config in a role's list
        entry = _puppet_entry(item, where, errs)
        if entry is None:
            continue
        prev = merged.get(entry.config_volume)
        if prev is None:
            merged[entry.config_volume] = entry
            first_path[entry.config_volume] = where
            continue
        if prev.config_image != entry.config_image:
            errs.invalid(f'{where}.config_image', entry.config_image,
                         f'entries sharing config_volume '
                         f'"{entry.config_volume}" must use one config_image'
                         f' ({first_path[entry.config_volume]} uses '
                         f'"{prev.config_image}")')
            continue
        merged[entry.config_volume] = merge(prev, entry)
    if len(merged) > MAX_CONFIG_VOLUMES:
        errs.add(path, 'Too many', detail=f'{len(merged)} config volumes; '
                 f'at most {MAX_CONFIG_VOLUMES} in one deployment')
        return ()
    return tuple(merged[k] for k in sorted(merged))


def _abs_path(value: Any, path: str, errs: errors.ErrorList,
              what: str = 'an absolute path') -> str:
    if not isinstance(value, str):
        common.wrong_type(errs, path, value, 'a string')
        return ''
    if not value.startswith('/'):
        errs.invalid(path, value, f'must be {what}')
        return ''
    return value


def _required_abs_path(data: Mapping, key: str, path: str,
                       errs: errors.ErrorList) -> str:
    """``data[key]``, a required absolute path ('' when missing or bad,
    the error added)."""
    if data.get(key) is None:
        errs.required(f'{path}.{key}')
        return ''
    return _abs_path(data[key], f'{path}.{key}', errs)


def _perm(data: Mapping, path: str, errs: errors.ErrorList) -> str:
    value = data.get('perm')
    if value is None:
        return ''
    if not isinstance(value, str) or not KOLLA_PERM.match(value):
        errs.invalid(f'{path}.perm', value, 'must be a 4-digit octal string '
                     'such as "0600" (quote it: YAML reads 0600 as a number '
                     'and Kolla reads "600" as another mode)')
        return ''
    return value


def _owner(data: Mapping, path: str, errs: errors.ErrorList,
           required: bool) -> str:
    value = _string(data, 'owner', path, errs, required=required)
    if value and not re.match(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]*'
                              r'(:[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$', value):
        errs.invalid(f'{path}.owner', value, 'must be user[:group]')
        return ''
    return value


def _kolla_file(data: Any, path: str, errs: errors.ErrorList
                ) -> Optional[model.KollaConfigFile]:
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path, data, 'an object')
        return None
    _unknown_keys(data, _KOLLA_FILE_KEYS, path, errs)
    source = _required_abs_path(data, 'source', path, errs)
    dest = _required_abs_path(data, 'dest', path, errs)
    preserve = _bool(data, 'preserve_properties', path, errs)
    owner = _owner(data, path, errs, required=not preserve)
    perm = _perm(data, path, errs)
    if not preserve and 'perm' not in data:
        errs.required(f'{path}.perm', 'required unless preserve_properties')
    return model.KollaConfigFile(
        source=source, dest=dest, owner=owner, perm=perm,
        merge=_bool(data, 'merge', path, errs), preserve_properties=preserve,
        optional=_bool(data, 'optional', path, errs))


def _kolla_permission(data: Any, path: str, errs: errors.ErrorList
                      ) -> Optional[model.KollaPermission]:
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path, data, 'an object')
        return None
    _unknown_keys(data, _KOLLA_PERMISSION_KEYS, path, errs)
    target = _required_abs_path(data, 'path', path, errs)
    return model.KollaPermission(
        path=target, owner=_owner(data, path, errs, required=True),
        perm=_perm(data, path, errs),
        recurse=_bool(data, 'recurse', path, errs))


def check_kolla_path(key: Any, path: str, errs: errors.ErrorList) -> bool:
    """The mapping key: an absolute, normalised host file path."""
    if not isinstance(key, str):
        common.wrong_type(errs, path, key, 'a string')
        return False
    if not key.startswith('/') or key.endswith('/'):
        errs.invalid(path, key, 'must be the absolute host path of a file')
        return False
    if posixpath.normpath(key) != key or '/../' in key + '/' or \
            '/./' in key + '/':
        errs.invalid(path, key, 'must be a normalised path (no "..", "." '
                     'or "//")')
        return False
    return True


def parse_kolla_config(data: Any, path: str, errs: errors.ErrorList
                       ) -> Tuple[model.KollaConfig, ...]:
    """A mapping of host path → Kolla config.json body."""
    if data in (None, [], {}):
        return ()
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path, data, 'an object of host path → config')
        return ()
    result = []
    for key in sorted(data, key=str):
        where = f'{path}[{key}]'
        if not check_kolla_path(key, where, errs):
            continue
        body = data[key]
        if not isinstance(body, Mapping):
            common.wrong_type(errs, where, body, 'an object')
            continue
        count = len(errs.errors)
        _unknown_keys(body, _KOLLA_KEYS, where, errs)
        command = _string(body, 'command', where, errs)
        files = []
        raw = body.get('config_files') or []
        if not isinstance(raw, list):
            common.wrong_type(errs, f'{where}.config_files', raw, 'a list')
            raw = []
        for i, item in enumerate(raw):
            entry = _kolla_file(item, f'{where}.config_files[{i}]', errs)
            if entry is not None:
                files.append(entry)
        perms = []
        raw = body.get('permissions') or []
        if not isinstance(raw, list):
            common.wrong_type(errs, f'{where}.permissions', raw, 'a list')
            raw = []
        for i, item in enumerate(raw):
            entry = _kolla_permission(item, f'{where}.permissions[{i}]',
                                      errs)
            if entry is not None:
                perms.append(entry)
        if len(errs.errors) == count:
            result.append(model.KollaConfig(
                path=key, command=command, config_files=tuple(files),
                permissions=tuple(perms)))
    return tuple(result)
