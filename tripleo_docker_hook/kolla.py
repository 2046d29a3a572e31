"""Kolla ``config.json`` files: where they go, what they contain, writing.

THT names each file by its host path (``/var/lib/kolla/config_files/
keystone.json``) and mounts it ``:ro`` at ``/var/lib/kolla/config_files/
config.json``.  A key under that default prefix is placed under the
``kolla_config_dir`` option instead (so a node or a test with another
directory still takes unmodified templates); a key already under
``kolla_config_dir`` is used as is; anything else is refused, so nothing is
ever written outside the directories the operator configured.
"""

import dataclasses
import errno
import json
import os
import posixpath
import re
import stat
from typing import Any, Dict, Optional

from tripleo_docker_hook import confighash
from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook import safefs

DEFAULT_DIR = '/var/lib/kolla/config_files'
#: Immutable, content-addressed copies that containers bind (one per
#: content): a restart reads exactly what the container was created with.
GENERATIONS = '.generations'


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
        rel = _under(target, posixpath.normpath(kolla_config_dir)) or ''
        if rel.split('/', 1)[0] == GENERATIONS:
            errs.forbidden(where, f'{GENERATIONS} below {kolla_config_dir} '
                           'holds the copies containers bind; not a key')
            continue
        seen[target] = cfg.path
        result[cfg.path] = target
    # A file cannot also be a directory of another key's file.
    for target, key in sorted(seen.items()):
        parent = posixpath.dirname(target)
        while parent and parent != '/':
            if parent in seen:
                errs.invalid(f'kolla_config[{key}]', key,
                             f'{seen[parent]} is a file, so no file can be '
                             'below it')
                break
            parent = posixpath.dirname(parent)
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


def generation_path(kolla_config_dir: str, content: bytes) -> str:
    """The immutable copy of ``content`` containers bind."""
    return os.path.join(kolla_config_dir, GENERATIONS,
                        confighash.bytes_hash(content) + '.json')


@dataclasses.dataclass
class Staged:
    """A Kolla file ready to be published by one ``rename(2)``."""

    path: str
    content: bytes
    generation: str
    changed: bool
    tmp: str = ''
    backup: str = ''
    published: bool = False


def _split(kolla_config_dir: str, path: str):
    rel = _under(path, posixpath.normpath(kolla_config_dir))
    if not rel:
        raise errors.DeploymentFailed(f'{path} is not below '
                                      f'{kolla_config_dir}')
    return posixpath.split(rel)


def _open_parent(kolla_config_dir: str, rel_dir: str) -> int:
    """The directory of a Kolla file, never through a symlink."""
    os.makedirs(kolla_config_dir, mode=0o755, exist_ok=True)
    root = safefs.open_root(kolla_config_dir)
    try:
        return safefs.open_dir(root, rel_dir, create=True)
    except safefs.Escape as exc:
        raise errors.DeploymentFailed(
            f'{os.path.join(kolla_config_dir, rel_dir)}: a symlink or not '
            'a directory: refusing to write Kolla files through it') from exc
    finally:
        os.close(root)


def _write_new(dfd: int, name: str, content: bytes, mode: int) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                 os.O_CLOEXEC, mode, dir_fd=dfd)
    try:
        os.fchmod(fd, mode)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(dfd: int, name: str) -> Optional[bytes]:
    """A regular file's first MiB, None if missing.  Anything else at the
    name (a symlink, a directory, a FIFO that would block the hook
    forever, a device) raises :class:`errors.DeploymentFailed`."""
    try:
        info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, 'not a regular file')
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC, dir_fd=dfd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise errors.DeploymentFailed(
            f'Kolla file {name}: {exc.strerror}: refusing to replace it'
        ) from exc
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise errors.DeploymentFailed(
                f'Kolla file {name}: not a regular file: refusing to '
                'replace it')
        return f.read(1 << 20)


def read(kolla_config_dir: str, path: str) -> Optional[bytes]:
    """A Kolla file's content (first MiB), never through a symlink;
    None if missing.  Raises :class:`errors.DeploymentFailed`."""
    rel_dir, name = _split(kolla_config_dir, path)
    try:
        dfd = _open_parent(kolla_config_dir, rel_dir)
    except FileNotFoundError:
        return None
    try:
        return _read(dfd, name)
    finally:
        os.close(dfd)


def ensure_generation(kolla_config_dir: str, content: bytes,
                      mode: int = 0o600) -> str:
    """Write (once) the immutable copy of ``content``; its path."""
    path = generation_path(kolla_config_dir, content)
    dfd = _open_parent(kolla_config_dir, GENERATIONS)
    try:
        _ensure(dfd, os.path.basename(path), content, mode)
        return path
    finally:
        os.close(dfd)


def _ensure(dfd: int, name: str, content: bytes, mode: int) -> bool:
    """``name`` holds ``content`` (replaced by one rename if it did not);
    True if it was written."""
    if _read(dfd, name) == content:
        os.chmod(name, mode, dir_fd=dfd)
        return False
    tmp = f'.{name}.tdh-tmp-{_uuid4_hex()[:8]}'
    try:
        _write_new(dfd, tmp, content, mode)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        _unlink(dfd, tmp)
        raise
    return True


def _unlink(dfd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dfd)
    except FileNotFoundError:
        pass


def stage(kolla_config_dir: str, path: str, content: bytes,
          mode: int = 0o600) -> Staged:
    """Write the generation copy and a temporary file beside ``path``;
    nothing is published yet.  ``OSError`` (a full disk) leaves nothing."""
    rel_dir, name = _split(kolla_config_dir, path)
    generation = ensure_generation(kolla_config_dir, content, mode)
    dfd = _open_parent(kolla_config_dir, rel_dir)
    try:
        staged = Staged(path, content, generation,
                        changed=_read(dfd, name) != content)
        if staged.changed:
            tmp = f'.{name}.tdh-tmp-{_uuid4_hex()[:8]}'
            try:
                _write_new(dfd, tmp, content, mode)
            except BaseException:
                _unlink(dfd, tmp)
                raise
            staged.tmp = tmp
        return staged
    finally:
        os.close(dfd)


def publish(kolla_config_dir: str, staged: Staged) -> None:
    """Replace the file by its staged content (one ``rename(2)``); the old
    one stays as a hard-linked backup until :func:`finish`."""
    if not staged.changed:
        return
    rel_dir, name = _split(kolla_config_dir, staged.path)
    dfd = _open_parent(kolla_config_dir, rel_dir)
    try:
        if _read(dfd, name) is not None:
            backup = f'.{name}.tdh-old-{_uuid4_hex()[:8]}'
            os.link(name, backup, src_dir_fd=dfd, dst_dir_fd=dfd,
                    follow_symlinks=False)
            staged.backup = backup
        os.replace(staged.tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        staged.tmp = ''
        staged.published = True
    finally:
        os.close(dfd)


def unpublish(kolla_config_dir: str, staged: Staged) -> bool:
    """Put the previous file back (or remove a new one); discard the
    temporary file.  True if a published file was reverted."""
    rel_dir, name = _split(kolla_config_dir, staged.path)
    dfd = _open_parent(kolla_config_dir, rel_dir)
    try:
        if staged.tmp:
            _unlink(dfd, staged.tmp)
            staged.tmp = ''
        if not staged.published:
            return False
        if staged.backup:
            os.replace(staged.backup, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            staged.backup = ''
        else:
            _unlink(dfd, name)
        staged.published = False
        return True
    finally:
        os.close(dfd)


def finish(kolla_config_dir: str, staged: Staged) -> None:
    """Drop the backup of a published file."""
    if staged.backup:
        rel_dir, _ = _split(kolla_config_dir, staged.path)
        dfd = _open_parent(kolla_config_dir, rel_dir)
        try:
            _unlink(dfd, staged.backup)
            staged.backup = ''
        finally:
            os.close(dfd)


def collect(kolla_config_dir: str, referenced, keep=()) -> list:
    """Remove generation copies no container binds and no published file
    holds (``keep``: their paths).  Removed paths."""
    base = os.path.join(kolla_config_dir, GENERATIONS)
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return []
    real = os.path.realpath(base)
    used = {os.path.basename(p) for p in referenced
            if posixpath.dirname(posixpath.normpath(p)) in (base, real)}
    used |= {os.path.basename(k) for k in keep}
    removed = []
    for name in names:
        if name not in used:
            try:
                os.unlink(os.path.join(base, name))
                removed.append(name)
            except (FileNotFoundError, IsADirectoryError):
                pass
    return removed


def write(path: str, content: bytes, mode: int = 0o600) -> bool:
    """Write ``path`` at once (stage + publish, no generation copy, no
    backup); False when the file already held it."""
    kolla_config_dir = os.path.dirname(path)
    rel_dir, name = '', os.path.basename(path)
    dfd = _open_parent(kolla_config_dir, rel_dir)
    try:
        return _ensure(dfd, name, content, mode)
    finally:
        os.close(dfd)


_LEFTOVER = re.compile(r'^\..+\.tdh-(tmp|old)-[0-9a-f]{8}$')


def remove_leftovers(kolla_config_dir: str, paths) -> list:
    """Temporary files and backups of dead runs, in the directories of
    ``paths`` and of the generation copies (call under the host lock)."""
    base = posixpath.normpath(kolla_config_dir)
    dirs = {GENERATIONS} | {
        (_under(posixpath.dirname(p), base) or '') for p in paths}
    removed = []
    try:
        root = safefs.open_root(base)
    except FileNotFoundError:
        return removed
    try:
        for rel in sorted(dirs):
            try:
                dfd = safefs.open_dir(root, rel)
            except OSError:
                continue
            try:
                for name in os.listdir(dfd):
                    if _LEFTOVER.match(name):
                        _unlink(dfd, name)
                        removed.append(os.path.join(base, rel, name))
            finally:
                os.close(dfd)
    finally:
        os.close(root)
    return removed


def _uuid4_hex() -> str:
    """``uuid.uuid4().hex``, importing uuid (and its platform probe) only
    when a name is needed, not in every run's start-up."""
    import uuid
    return uuid.uuid4().hex
