"""Copy-out: unpack a config container's archive into a staging directory.

The archive comes from a config image, which is untrusted input (a broken
or hostile image behaves like an attacker with root in its container).  So
this is not ``tarfile.extractall``:

* names with ``..`` or absolute names are refused;
* every parent directory is opened from the staging root with
  ``O_NOFOLLOW``: an entry can never be written through a symlink an
  earlier entry planted, wherever it points;
* a hard link's target is resolved the same way and must be a regular file
  inside the staging tree, so a crafted stream cannot chmod or chown a
  host file through it;
* symlinks are kept as they are (``/etc/localtime``,
  ``/etc/httpd/modules -> ../../usr/lib64/httpd/modules``): they are
  resolved inside the service containers, where they mean what the image
  meant.  The host never follows one: bind and hostPath sources under the
  config directories are resolved and confined before use (``render``);
* setuid, setgid, sticky and world-writable bits are removed; owners are
  kept numerically (Kolla's ``preserve_properties`` copies them);
* devices and fifos are skipped;
* depth, entry count and total size are bounded (``[puppet]
  copy_out_max_depth``, ``copy_out_max_entries``, ``copy_out_max_bytes``).

Errors are :class:`CopyOutError` with a one-line reason; a full disk is
reported as the ``OSError`` it is (``No space left on device``).
"""

import dataclasses
import errno
import io
import os
import posixpath
import stat
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Sequence

from tripleo_docker_hook import errors
from tripleo_docker_hook import safefs

if TYPE_CHECKING:  # imported where a config is copied out, not at start
    import tarfile

CHUNK = 1 << 20
#: Bits never copied out: setuid, setgid, sticky, world-writable.
STRIPPED = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWOTH


class CopyOutError(errors.DeploymentFailed):
    """The archive breaks a rule above; nothing of it is published."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds of one copy-out (all trees of one config volume)."""

    max_bytes: int = 1 << 30
    max_entries: int = 200_000
    max_depth: int = 64


@dataclasses.dataclass
class Stats:
    entries: int = 0
    bytes: int = 0
    stripped: int = 0


class _IterReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (the archive stream)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buf = b''

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def sanitised_mode(mode: int) -> int:
    return stat.S_IMODE(mode) & ~STRIPPED


def _excluded(path: str, excluded: Sequence[str]) -> bool:
    return any(path == e or path.startswith(e.rstrip('/') + '/')
               for e in excluded)


def _safe_name(name: str) -> str:
    norm = posixpath.normpath(name)
    if norm.startswith('/') or norm == '..' or norm.startswith('../'):
        raise CopyOutError(f'unsafe path in config archive: {name!r}')
    return norm


class _Extractor:
    def __init__(self, staging: str, root_fd: int, limits: Limits,
                 stats: Stats):
        self.staging = staging
        self.root_fd = root_fd
        self.limits = limits
        self.stats = stats
        self._parent: Optional[str] = None
        self._parent_fd: Optional[int] = None

    def close(self) -> None:
        if self._parent_fd is not None:
            os.close(self._parent_fd)
            self._parent_fd = None

    def parent(self, rel_dir: str) -> int:
        """fd of ``rel_dir`` (created), cached for consecutive entries."""
        if rel_dir != self._parent:
            self.close()
            try:
                self._parent_fd = safefs.open_dir(self.root_fd, rel_dir,
                                                  create=True)
            except safefs.Escape as exc:
                raise CopyOutError(
                    f'config archive entry below {rel_dir!r} goes through '
                    'a symlink: refused') from exc
            self._parent = rel_dir
        return self._parent_fd

    def _clear(self, dfd: int, name: str, rel: str,
               keep_dir: bool = False) -> bool:
        """Remove what is at ``rel`` (unless it is a directory and
        ``keep_dir``); True if a directory was kept."""
        try:
            st = os.lstat(name, dir_fd=dfd)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            # Its parents were just opened without following symlinks.
            self.close()
            self._parent = None
            safefs.rmtree(os.path.join(self.staging, rel))
        else:
            os.unlink(name, dir_fd=dfd)
        return False

    def add(self, tar: 'tarfile.TarFile', member: 'tarfile.TarInfo',
            rel: str) -> None:
        depth = rel.count('/') + 1
        if depth > self.limits.max_depth:
            raise CopyOutError(
                f'config archive nests deeper than {self.limits.max_depth} '
                f'levels ([puppet] copy_out_max_depth) at '
                f'{rel[:120]!r}...')
        self.stats.entries += 1
        if self.stats.entries > self.limits.max_entries:
            raise CopyOutError(
                f'config archive has more than {self.limits.max_entries} '
                'entries ([puppet] copy_out_max_entries)')
        rel_dir, name = posixpath.split(rel)
        dfd = self.parent(rel_dir)
        mode = sanitised_mode(member.mode)
        if mode != stat.S_IMODE(member.mode) and (member.isreg() or
                                                  member.isdir()):
            self.stats.stripped += 1
        uid, gid = member.uid, member.gid
        if member.isdir():
            if not self._clear(dfd, name, rel, keep_dir=True):
                os.mkdir(name, 0o700, dir_fd=dfd)
            fd = os.open(name, safefs.DIR_FLAGS, dir_fd=dfd)
            try:
                os.fchown(fd, uid, gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
        elif member.isreg():
            dfd = self._replaced(dfd, name, rel, rel_dir)
            self._file(tar, member, dfd, name, mode, uid, gid, rel)
        elif member.issym():
            dfd = self._replaced(dfd, name, rel, rel_dir)
            os.symlink(member.linkname, name, dir_fd=dfd)
            os.chown(name, uid, gid, dir_fd=dfd, follow_symlinks=False)
        elif member.islnk():
            self._link(member, self._replaced(dfd, name, rel, rel_dir),
                       name)
        # devices, fifos and anything else: skipped

    def _replaced(self, dfd: int, name: str, rel: str, rel_dir: str) -> int:
        """Clear ``rel`` for a new non-directory entry; the parent fd."""
        self._clear(dfd, name, rel)
        return self.parent(rel_dir)

    def _file(self, tar, member, dfd, name, mode, uid, gid, rel) -> None:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
        try:
            src = tar.extractfile(member)
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                self.stats.bytes += len(chunk)
                if self.stats.bytes > self.limits.max_bytes:
                    raise CopyOutError(
                        f'config archive is larger than '
                        f'{self.limits.max_bytes >> 20} MiB ([puppet] '
                        f'copy_out_max_mib) at {rel[:120]!r}')
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def _link(self, member, dfd, name) -> None:
        target = posixpath.normpath(member.linkname)
        if target.startswith('/') or target == '..' or \
                target.startswith('../'):
            raise CopyOutError(
                f'unsafe hard link in config archive: {member.linkname!r}')
        t_dir, t_name = posixpath.split(target)
        try:
            tfd = safefs.open_dir(self.root_fd, t_dir)
        except FileNotFoundError:
            return  # its target was excluded
        except safefs.Escape as exc:
            raise CopyOutError(
                f'hard link {member.name!r} -> {member.linkname!r} goes '
                'through a symlink: refused') from exc
        try:
            try:
                st = os.lstat(t_name, dir_fd=tfd)
            except FileNotFoundError:
                return  # its target was excluded
            if not stat.S_ISREG(st.st_mode):
                raise CopyOutError(
                    f'hard link {member.name!r} -> {member.linkname!r}: '
                    'the target is not a regular file: refused')
            os.link(t_name, name, src_dir_fd=tfd, dst_dir_fd=dfd,
                    follow_symlinks=False)
        finally:
            os.close(tfd)


def extract(chunks: Iterable[bytes], source_dir: str, staging: str,
            excluded: Sequence[str], limits: Limits = Limits(),
            stats: Optional[Stats] = None) -> Stats:
    """Unpack the archive of ``source_dir`` (as the Engine's archive API
    sends it: entries relative to the parent of ``source_dir``) into
    ``staging``, skipping ``excluded`` container paths.

    ``stats`` accumulates over several calls (the limits apply to the sum).
    Raises :class:`CopyOutError`, or ``OSError`` (e.g. ``ENOSPC``).
    """
    stats = stats if stats is not None else Stats()
    parent = posixpath.dirname(source_dir.rstrip('/')) or '/'
    base = parent.strip('/')
    root_fd = safefs.open_root(staging)
    ex = _Extractor(staging, root_fd, limits, stats)
    import tarfile
    try:
        with tarfile.open(fileobj=io.BufferedReader(_IterReader(chunks)),
                          mode='r|') as tar:
            for member in tar:
                name = _safe_name(member.name)
                if name == '.':
                    continue
                if _excluded(posixpath.join(parent, name), excluded):
                    continue
                rel = posixpath.join(base, name) if base else name
                ex.add(tar, member, rel)
    except tarfile.TarError as exc:
        raise CopyOutError(f'config archive of {source_dir} is not a '
                           f'valid tar stream: {exc}') from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC or isinstance(exc, safefs.Escape):
            raise
        raise CopyOutError(f'copy-out of {source_dir}: {exc}') from exc
    finally:
        ex.close()
        os.close(root_fd)
    return stats


def read_file(chunks: Iterable[bytes], max_bytes: int) -> Optional[bytes]:
    """The content of the one regular file an archive of a file holds
    (the Engine's archive API for a file path), or None when the stream
    holds anything else, is not a tar stream, or the file is larger than
    ``max_bytes``: read from an untrusted container, so bounded and
    never written anywhere."""
    import tarfile
    try:
        with tarfile.open(fileobj=io.BufferedReader(_IterReader(chunks)),
                          mode='r|') as tar:
            member = tar.next()
            if member is None or not member.isreg() or \
                    member.size > max_bytes:
                return None
            f = tar.extractfile(member)
            data = f.read(max_bytes + 1) if f is not None else None
            if data is None or len(data) > max_bytes or \
                    tar.next() is not None:
                return None
            return data
    except (tarfile.TarError, OSError, EOFError):
        return None
