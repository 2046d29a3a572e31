"""File-system operations on trees that a config image produced.

A config image is untrusted input: the trees it renders may hold symlinks
to anywhere on the host, hard links, and directories nested thousands of
levels deep.  The helpers here never follow a symlink below the root they
are given and never recurse, so nothing a config image produced can make
the hook write, chmod or remove outside ``config_data_dir`` and
``kolla_config_dir``, or crash it with ``RecursionError`` (``shutil.rmtree``
recurses once per directory level).
"""

import errno
import os
import stat
from typing import Optional

#: Flags of a directory opened without following a symlink.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Paths longer than this are moved up before going deeper (PATH_MAX is
#: 4096 and one more name may add 256).
_LONG_PATH = 3000


class Escape(OSError):
    """A path component is a symlink (or not a directory) where a real
    directory was required."""


def inside(root: str, path: str) -> bool:
    """Is the normalised ``path`` ``root`` itself or below it?"""
    root = root.rstrip('/') or '/'
    return path == root or path.startswith(root.rstrip('/') + '/')


def resolved_inside(root: str, path: str) -> bool:
    """Does ``path``, with every symlink resolved on this host, stay in
    ``root`` (itself resolved)?  What the Docker daemon would bind."""
    return inside(os.path.realpath(root), os.path.realpath(path))


def open_dir(root_fd: int, rel: str, create: bool = False,
             mode: int = 0o755) -> int:
    """A new fd of directory ``rel`` below the directory ``root_fd``.

    Every component must be a real directory (``O_NOFOLLOW``): a symlink
    raises :class:`Escape`.  With ``create``, missing ones are made with
    ``mode``.  The caller closes the fd.
    """
    fd = os.dup(root_fd)
    try:
        for part in rel.split('/'):
            if part in ('', '.'):
                continue
            if part == '..':
                raise Escape(f'".." in {rel!r}')
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, mode, dir_fd=fd)
                except FileExistsError:
                    pass
                nfd = _open_component(part, rel, fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Escape(exc.errno, f'{part!r} in {rel!r} is a '
                                 'symlink or not a directory') from exc
                raise
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_component(part: str, rel: str, fd: int) -> int:
    try:
        return os.open(part, DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Escape(exc.errno, f'{part!r} in {rel!r} is a symlink or '
                         'not a directory') from exc
        raise


def open_root(path: str) -> int:
    """An fd of ``path`` (its own symlinks followed: the configured root)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def rmtree(path: str) -> None:
    """Remove ``path`` and everything below it; never follows a symlink,
    never recurses, copes with paths longer than ``PATH_MAX``.  Missing
    paths are fine; other errors are raised."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    stack = [path]
    while stack:
        top = stack[-1]
        try:
            entries = list(os.scandir(top))
        except FileNotFoundError:
            stack.pop()
            continue
        pushed = False
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                child = entry.path
                if len(child) > _LONG_PATH:
                    # Move the deep rest up, directly below ``path``.
                    moved = os.path.join(path, f'.rm-{_uuid4_hex()}')
                    os.rename(child, moved)
                    child = moved
                stack.append(child)
                pushed = True
            else:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass
        if not pushed:
            try:
                os.rmdir(top)
            except FileNotFoundError:
                pass
            stack.pop()


def quiet_rmtree(path: Optional[str]) -> None:
    """:func:`rmtree` for clean-up paths: errors are ignored (logged by
    the caller's next run, which removes leftovers)."""
    if not path:
        return
    try:
        rmtree(path)
    except OSError:
        pass


def _uuid4_hex() -> str:
    """``uuid.uuid4().hex``, importing uuid (and its platform probe) only
    when a name is needed, not in every run's start-up."""
    import uuid
    return uuid.uuid4().hex
