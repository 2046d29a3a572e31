"""Config volumes on the host: their layout under ``config_data_dir`` and
the atomic publication of a render.

Layout (see ``docs/source/config.rst``)::

    <config_data_dir>/.<volume>.gen-<id>/    a generation (immutable)
    <config_data_dir>/<volume> -> .<volume>.gen-<id>   the published one
    <config_data_dir>/<volume>.md5sum        its hash
    <config_data_dir>/puppet-generated/<volume> -> ../<volume>
    <config_data_dir>/.<volume>.new-<id>/    a render being copied out

Each render lands in a fresh staging directory (:func:`new_staging`;
copy-out rules: the config image is untrusted, see :mod:`copyout`).
:func:`stage` turns it into a generation directory; :func:`publish` points
``<volume>`` (a relative symlink) at it with one ``rename(2)``: atomic and
crash-safe; :func:`unpublish` reverts that when the apply fails.
Containers bind the generation itself, not the symlink (see
:func:`render.pin`): Docker resolves bind sources at every start, so only
an immutable path makes a restart read what the container was created
with.  :func:`collect` removes generations that are neither published nor
bound by any container.  An unchanged render is discarded: nothing moves
under anyone.  Files are written by :mod:`atomicfile`, links replaced by
:func:`_replace_link`.
"""

import dataclasses
import errno
import os
import posixpath
import re
import stat
from typing import (TYPE_CHECKING, Dict, Iterable, List, Optional,
                    Sequence, Tuple)

from tripleo_docker_hook import atomicfile
from tripleo_docker_hook import confighash
from tripleo_docker_hook import safefs
from tripleo_docker_hook.kolla import _under as kolla_under

if TYPE_CHECKING:
    from tripleo_docker_hook import lookup_trace

ALIAS_DIR = 'puppet-generated'


@dataclasses.dataclass
class Rendered:
    """A successful render waiting in its staging directory."""

    volume: str
    staging: str
    hash: str
    output: str
    started: float
    finished: float
    #: the hiera lookups of the run, if traced
    lookups: Optional['lookup_trace.Trace'] = None


def volume_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, volume)


def md5_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, volume + '.md5sum')


def alias_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, ALIAS_DIR, volume)


def _gen_name(volume: str) -> str:
    return f'.{volume}.gen-{_uuid4_hex()[:12]}'


_GEN = re.compile(r'^\.(.+)\.gen-[0-9a-f]{12}$')
_LEFTOVER = re.compile(
    r'^\.(.+)\.(new|link)-[0-9a-f]{12}$|^.+\.md5sum\.tmp-[0-9a-f]{8}$')


def _is_gen(name: str, volume: str) -> bool:
    prefix = f'.{volume}.gen-'
    rest = name[len(prefix):]
    return name.startswith(prefix) and len(rest) == 12 and all(
        c in '0123456789abcdef' for c in rest)


def is_own_gen(config_data_dir: str, path: str, volume: str) -> bool:
    """Is ``path`` (resolved) a generation of ``volume`` directly in
    ``config_data_dir``, not a look-alike elsewhere?"""
    return os.path.dirname(path) == os.path.realpath(config_data_dir) and \
        _is_gen(os.path.basename(path), volume)


def current_dir(config_data_dir: str, volume: str) -> Optional[str]:
    """The directory now published for ``volume`` (None if none, or if
    it resolves outside ``config_data_dir``: a planted ``<volume> -> /``
    made the hook hash the whole host, ``/proc/kcore`` included)."""
    path = volume_path(config_data_dir, volume)
    if os.path.isdir(path):
        real = os.path.realpath(path)
        if safefs.resolved_inside(config_data_dir, real):
            return real
    return None


#: Largest ``<volume>.md5sum`` read (a hash and a newline).
MAX_MD5_FILE = 4096


def _read_md5_file(path: str) -> Optional[str]:
    """A ``.md5sum`` file's text; None if missing.  Only a regular file
    (not a symlink, FIFO or device: ``-> /dev/zero`` grew memory without
    end) and at most :data:`MAX_MD5_FILE` bytes of it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return f.read(MAX_MD5_FILE).decode('utf-8', 'replace')


def read_hash(config_data_dir: str, volume: str,
              exclude: Sequence[str] = ()) -> Optional[str]:
    """The published hash: the ``.md5sum`` file, else computed."""
    value = (_read_md5_file(md5_path(config_data_dir, volume)) or
             '').split()
    if value:
        return value[0]
    current = current_dir(config_data_dir, volume)
    return confighash.tree_hash(current, exclude) if current else None


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rmtree(path: str) -> None:
    safefs.quiet_rmtree(path)


def discard(rendered: Rendered) -> None:
    _rmtree(rendered.staging)


@dataclasses.dataclass
class Staged:
    """A render moved to its (unpublished) generation directory.

    ``gen`` is the basename of the generation containers will bind: a new
    one when the content changed, else the published one.
    """

    volume: str
    gen: str
    hash: str
    changed: bool
    #: Undo information, filled by :func:`publish`.
    previous_link: Optional[str] = None
    previous_md5: Optional[str] = None
    published: bool = False


def stage(config_data_dir: str, rendered: Rendered,
          exclude: Sequence[str] = ()) -> Staged:
    """Turn a render into a generation directory, not yet published.

    An identical tree (by hash) is not staged: the render is discarded and
    the published generation is used, so containers using it see no
    change at all.
    """
    volume = rendered.volume
    current = current_dir(config_data_dir, volume)
    path = volume_path(config_data_dir, volume)
    if current and os.path.islink(path) and \
            is_own_gen(config_data_dir, current, volume) and \
            confighash.tree_hash(current, exclude) == rendered.hash:
        discard(rendered)
        return Staged(volume, os.path.basename(current), rendered.hash,
                      changed=False)
    gen = _gen_name(volume)
    os.chmod(rendered.staging, 0o755)
    os.rename(rendered.staging, os.path.join(config_data_dir, gen))
    return Staged(volume, gen, rendered.hash, changed=True)


def unstage(config_data_dir: str, staged: Staged) -> None:
    """Remove a staged generation that was never published."""
    if staged.changed and not staged.published:
        _rmtree(os.path.join(config_data_dir, staged.gen))


def _read_md5(config_data_dir: str, volume: str) -> Optional[str]:
    return _read_md5_file(md5_path(config_data_dir, volume))


def publish(config_data_dir: str, staged: Staged) -> List[str]:
    """Point ``<volume>`` at the staged generation (one ``rename(2)``) and
    record its hash; warnings.  :func:`unpublish` reverts it."""
    volume = staged.volume
    path = volume_path(config_data_dir, volume)
    warnings: List[str] = []
    staged.previous_md5 = _read_md5(config_data_dir, volume)
    if staged.changed:
        if os.path.islink(path):
            staged.previous_link = os.readlink(path)
        elif os.path.lexists(path):
            # A real directory (left by docker-puppet or an older
            # version): moved aside once, kept as a generation.
            legacy = _gen_name(volume)
            os.rename(path, os.path.join(config_data_dir, legacy))
            staged.previous_link = legacy
        _switch(config_data_dir, volume, staged.gen)
    staged.published = True
    if (staged.previous_md5 or '').strip() != staged.hash:
        atomicfile.write(md5_path(config_data_dir, volume),
                         staged.hash + '\n', 0o644)
    warnings.extend(_ensure_alias(config_data_dir, volume))
    return warnings


def unpublish(config_data_dir: str, staged: Staged) -> bool:
    """Revert :func:`publish`: the previous generation and hash are
    published again.  True if anything was reverted."""
    if not staged.published:
        return False
    volume = staged.volume
    reverted = False
    if staged.changed:
        if staged.previous_link:
            _switch(config_data_dir, volume, staged.previous_link)
        else:
            os.unlink(volume_path(config_data_dir, volume))
        reverted = True
    md5 = md5_path(config_data_dir, volume)
    if staged.previous_md5 is None:
        if os.path.lexists(md5):
            os.unlink(md5)
    elif (staged.previous_md5 or '').strip() != staged.hash:
        atomicfile.write(md5, staged.previous_md5, 0o644)
        reverted = True
    staged.published = False
    return reverted


def _switch(config_data_dir: str, volume: str, gen: str) -> None:
    _replace_link(volume_path(config_data_dir, volume), gen,
                  os.path.join(config_data_dir,
                               f'.{volume}.link-{_uuid4_hex()[:12]}'))
    _fsync_dir(config_data_dir)


def _replace_link(path: str, target: str, tmp: str) -> None:
    """``path`` becomes a symlink to ``target`` in one ``rename(2)`` (by
    way of ``tmp``, a name :func:`remove_leftovers` knows)."""
    os.symlink(target, tmp)
    os.replace(tmp, path)


def commit(config_data_dir: str, rendered: Rendered,
           exclude: Sequence[str] = ()) -> Tuple[bool, List[str]]:
    """Stage and publish one render at once; ``(changed, warnings)``."""
    staged = stage(config_data_dir, rendered, exclude)
    return staged.changed, publish(config_data_dir, staged)


def _ensure_alias(config_data_dir: str, volume: str) -> List[str]:
    """``puppet-generated/<volume>`` → ``../<volume>`` for templates of the
    paunch era, which mount that path."""
    alias = alias_path(config_data_dir, volume)
    target = os.path.join('..', volume)
    if os.path.islink(alias) and os.readlink(alias) == target:
        return []
    if os.path.lexists(alias):
        return [f'{alias} exists and is not ours: left alone (containers '
                f'mounting it do not see the rendered config)']
    os.makedirs(os.path.dirname(alias), mode=0o755, exist_ok=True)
    _replace_link(alias, target, f'{alias}.tmp-{_uuid4_hex()[:8]}')
    return []


def generations(config_data_dir: str) -> Dict[str, List[str]]:
    """Volume → basenames of its generation directories."""
    result: Dict[str, List[str]] = {}
    try:
        names = os.listdir(config_data_dir)
    except FileNotFoundError:
        return result
    for name in names:
        match = _GEN.match(name)
        if match:
            result.setdefault(match.group(1), []).append(name)
    return result


def collect(config_data_dir: str, referenced: Iterable[str]) -> List[str]:
    """Remove every generation that is neither published nor named by a
    path in ``referenced`` (bind sources of every container on the host):
    a container always finds the generation it was created with, at every
    restart.  Removed basenames."""
    roots = {posixpath.normpath(config_data_dir),
             os.path.realpath(config_data_dir)}
    used = set()
    for source in referenced:
        for root in roots:
            rel = kolla_under(posixpath.normpath(source), root)
            if rel:
                used.add(rel.split('/', 1)[0])
    removed = []
    for volume, gens in generations(config_data_dir).items():
        current = current_dir(config_data_dir, volume)
        keep = used | {os.path.basename(current) if current else ''}
        for gen in gens:
            if gen not in keep:
                _rmtree(os.path.join(config_data_dir, gen))
                removed.append(gen)
    return removed


def new_staging(config_data_dir: str, volume: str, run_id: str) -> str:
    """A fresh, empty staging directory for one render of ``volume``
    (removed by :func:`remove_leftovers` if its run dies)."""
    os.makedirs(config_data_dir, mode=0o755, exist_ok=True)
    staging = os.path.join(config_data_dir, f'.{volume}.new-{run_id}')
    os.mkdir(staging, 0o755)
    return staging


def remove_leftovers(config_data_dir: str) -> List[str]:
    """Remove staging directories and temporary links of runs that died
    (``kill -9``).  Renders only run under the host lock, so whoever calls
    this (holding it) knows every one of them is dead."""
    removed = []
    try:
        names = os.listdir(config_data_dir)
    except FileNotFoundError:
        names = []
    for name in names:
        if _LEFTOVER.match(name):
            _rmtree(os.path.join(config_data_dir, name))
            removed.append(name)
    return removed


def _uuid4_hex() -> str:
    """``uuid.uuid4().hex``, importing uuid (and its platform probe) only
    when a name is needed, not in every run's start-up."""
    import uuid
    return uuid.uuid4().hex
