"""Kolla ``config.json`` files: where they go, what they contain, writing.

THT names each file by its host path (``/var/lib/kolla/config_files/
keystone.json``) and mounts it ``:ro`` at ``/var/lib/kolla/config_files/
config.json``.  A key under that default prefix is placed under the
``kolla_config_dir`` option instead (so a node or a test with another
directory still takes unmodified templates); a key already under
``kolla_config_dir`` is used as is; anything else is refused, so nothing is
ever written outside the directories the operator configured.
"""

import json
import os
import posixpath
import tempfile
from typing import Any, Dict, Optional

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

DEFAULT_DIR = '/var/lib/kolla/config_files'


def _under(path: str, root: str) -> Optional[str]:
    """``path`` relative to ``root`` if strictly below it, else None."""
    root = posixpath.normpath(root)
    if root == '/':
        return path.lstrip('/') or None
    if path.startswith(root + '/'):
        return path[len(root) + 1:]
    return None


def host_path(key: str, kolla_config_dir: str) -> Optional[str]:
    """Where the file for mapping key ``key`` is written; None if nowhere."""
    base = posixpath.normpath(kolla_config_dir)
    if _under(key, base) is not None:
        return key
    rel = _under(key, DEFAULT_DIR)
    if rel is not None:
        return posixpath.join(base, rel)
    return None


def check_paths(configs, kolla_config_dir: str) -> Dict[str, str]:
    """Mapping key → host path; :class:`errors.ValidationError` if any
    key falls outside the Kolla directory or two keys share a file."""
    errs = errors.ErrorList()
    result: Dict[str, str] = {}
    seen: Dict[str, str] = {}
    for cfg in configs:
        where = f'kolla_config[{cfg.path}]'
        target = host_path(cfg.path, kolla_config_dir)
        if target is None:
            errs.forbidden(where, f'must be under {kolla_config_dir} (or '
                           f'{DEFAULT_DIR}, which maps there): nothing is '
                           'written outside the configured directories')
            continue
        if target in seen:
            errs.duplicate(where, target)
            continue
        seen[target] = cfg.path
        result[cfg.path] = target
    errs.raise_if_any()
    return result


def body(cfg: model.KollaConfig) -> Dict[str, Any]:
    """The config.json document; false booleans and empty fields left out
    (Kolla's defaults), so the file reads like the template."""
    doc: Dict[str, Any] = {'command': cfg.command}
    files = []
    for f in cfg.config_files:
        item: Dict[str, Any] = {'source': f.source, 'dest': f.dest}
        if f.owner:
            item['owner'] = f.owner
        if f.perm:
            item['perm'] = f.perm
        for flag in ('merge', 'preserve_properties', 'optional'):
            if getattr(f, flag):
                item[flag] = True
        files.append(item)
    if files:
        doc['config_files'] = files
    perms = []
    for p in cfg.permissions:
        item = {'path': p.path, 'owner': p.owner}
        if p.perm:
            item['perm'] = p.perm
        if p.recurse:
            item['recurse'] = True
        perms.append(item)
    if perms:
        doc['permissions'] = perms
    return doc


def dumps(cfg: model.KollaConfig) -> bytes:
    return (json.dumps(body(cfg), indent=4, sort_keys=True) +
            '\n').encode('utf-8')


def write(path: str, content: bytes, mode: int = 0o600) -> bool:
    """Write ``content`` atomically; False when the file already held it.

    An unchanged file is left alone (same inode): running containers bind
    mount it and must keep seeing it.  A changed one is replaced by
    rename, so a reader never sees half a file.
    """
    try:
        with open(path, 'rb') as f:
            if f.read() == content:
                if os.stat(path).st_mode & 0o7777 != mode:
                    os.chmod(path, mode)
                return False
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.',
                               dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True
