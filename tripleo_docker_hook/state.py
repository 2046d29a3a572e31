"""The hook's own state in ``state_dir``: the host lock and, per deployment,
the current / previous / attempted definitions and exec records.

Docker labels hold everything needed to converge (hashes, identity); this
directory only holds what labels cannot: the definitions an operator can
roll back to, the results of ``action: exec`` commands (they leave no
container behind), and the list of deployments this host has seen (the
registry the ``cleanup`` command works from, so it never touches a
deployment it does not know).

Files hold container definitions, which may carry secrets in environment
values: directories are 0700, files 0600, written atomically.
"""

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import re
import time
import urllib.parse
from typing import (Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple)

from tripleo_docker_hook import atomicfile
from tripleo_docker_hook import errors

LOCK_FILE = 'lock'
DEPLOYMENTS = 'deployments'
CURRENT = 'current.json'      # last definition applied successfully
PREVIOUS = 'previous.json'    # the one before it (rollback target)
ATTEMPTED = 'attempted.json'  # written before an apply, removed on success
EXECS = 'execs.json'          # results of action: exec commands
RESULT = 'result.json'        # outcome of the last apply (masked text)
GENERATIONS = 'generations'   # generations/<n>.json: definitions applied

#: Definitions kept per deployment for ``rollback --to``.
GENERATIONS_KEPT = 10


def dirname(name: str) -> str:
    """A file-system safe, reversible directory name for a deployment."""
    return urllib.parse.quote(name, safe='').replace('.', '%2E')


def _read_json(path: str) -> Optional[Any]:
    return atomicfile.read_json(path)


def _write_json(path: str, data: Any) -> None:
    atomicfile.write_json(path, data, sort_keys=True, indent=1)


def _makedirs(path: str) -> None:
    """Create ``path`` and its missing parents, each 0700 (``os.makedirs``
    gives only the last one ``mode``; ``deployments/`` came out 0755)."""
    parent = os.path.dirname(path.rstrip('/'))
    if parent and parent != path and not os.path.isdir(parent):
        _makedirs(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass


#: What ``_write_json`` leaves behind when killed between create and
#: rename (:data:`atomicfile.TMP_NAME`; ``.tmp-XXXXXXXX``: older versions).
_TMP_NAME = re.compile(r'^\.tmp-[A-Za-z0-9_]{8}$|' +
                       atomicfile.TMP_NAME.pattern)


def clear_leftovers(state_dir: str) -> List[str]:
    """Remove the temporary files of runs killed mid-write (kill -9, OOM,
    reboot); the paths removed.

    Call only while holding :func:`host_lock`: the lock is held by at most
    one run per host and released by the kernel when its holder dies, so
    every temporary file found under it belongs to a dead run.
    """
    removed = []
    dirs = [state_dir]
    try:
        dirs += [os.path.join(state_dir, DEPLOYMENTS, name) for name in
                 os.listdir(os.path.join(state_dir, DEPLOYMENTS))]
    except OSError:
        pass
    for directory in dirs:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if _TMP_NAME.match(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))
                    removed.append(os.path.join(directory, name))
    return removed


@contextlib.contextmanager
def host_lock(state_dir: str, timeout: float) -> Iterator[None]:
    """One apply / delete / cleanup at a time on this host.

    ``flock`` is released by the kernel when the process dies (kill -9
    included), so a crashed run never leaves a stale lock behind.
    """
    _makedirs(state_dir)
    path = os.path.join(state_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise errors.LockTimeout(
                        f'another tripleo-docker-hook run holds {path}; '
                        f'gave up after {timeout} s (lock_timeout)'
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


def record(doc) -> Dict[str, Any]:
    """What is kept of a heat-config item: never its inputs (credentials)."""
    return {'name': doc.name, 'id': doc.id, 'group': doc.group,
            'config': doc.config, 'time': int(time.time())}


def same_config(a: Optional[Dict[str, Any]],
                b: Optional[Dict[str, Any]]) -> bool:
    if a is None or b is None:
        return False
    dump = lambda d: json.dumps(d.get('config'), sort_keys=True,  # noqa
                                default=str)
    return dump(a) == dump(b)


#: What ``rollback`` applies when no definition is kept but host units that
#: the deployment's containers replaced still are: no containers, the units
#: given back (a first upgrade from baremetal, rolled back).
BAREMETAL = {'id': 'baremetal', 'group': '', 'config': {}}


@dataclasses.dataclass(frozen=True)
class Kept:
    """What ``state_dir`` keeps of one deployment, read at once by
    :meth:`DeploymentState.read_kept`: the input of :func:`rollback_choice`.

    Records are dicts as :func:`record` writes them (``name``, ``id``,
    ``group``, ``config``...); ``generations`` are ``(number, record)``,
    oldest first.
    """

    path: str = ''
    current: Optional[Dict[str, Any]] = None
    previous: Optional[Dict[str, Any]] = None
    attempted: Optional[Dict[str, Any]] = None
    generations: Tuple[Tuple[int, Dict[str, Any]], ...] = ()


def previous_definition(kept: Kept) -> Optional[Dict[str, Any]]:
    """The definition a plain ``rollback`` applies, or None.

    After a failed apply (``attempted`` left behind) that is the last good
    one (``current``); otherwise the one before it (``previous``).
    """
    if kept.attempted is not None and kept.current:
        return kept.current
    return kept.previous


def rollback_choice(name: str, kept: Kept, generation: Optional[int] = None,
                    held_units: Sequence[Mapping[str, Any]] = ()
                    ) -> Dict[str, Any]:
    """The kept definition ``rollback`` (``--to generation``) applies: pure.

    ``held_units``: this deployment's host-unit records not released
    (``host_units.replaced_units`` dicts: ``unit``, ``taken_over``...).
    With no definition kept, only a unit the deployment stopped or disabled
    makes :data:`BAREMETAL` (no containers, the units given back) the
    target: a claim-only record has nothing to give back.  Raises
    :class:`errors.DeploymentFailed` saying why there is none (the
    generations kept, where it looked, units only claimed).
    """
    if generation is not None:
        target = dict(kept.generations).get(generation)
        if target is None:
            numbers = ', '.join(str(n) for n, _ in kept.generations)
            raise errors.DeploymentFailed(
                f'deployment {name}: no generation {generation} '
                f'(kept: {numbers or "none"})')
        return target
    target = previous_definition(kept)
    if target is None and any(u.get('taken_over') for u in held_units):
        target = dict(BAREMETAL)
    if target is None:
        claimed = ', '.join(u['unit'] for u in held_units)
        why = (f'; its host units ({claimed}) were claimed but never taken '
               f'over: nothing to give back' if claimed else '')
        raise errors.DeploymentFailed(
            f'deployment {name}: no previous definition in '
            f'{kept.path} to roll back to{why}')
    return target


class DeploymentState:
    """State files of one deployment (by its stable name)."""

    def __init__(self, state_dir: str, name: str):
        self.state_dir = state_dir
        self.name = name
        self.path = os.path.join(state_dir, DEPLOYMENTS, dirname(name))

    def _file(self, what: str) -> str:
        return os.path.join(self.path, what)

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def read(self, what: str) -> Optional[Dict[str, Any]]:
        data = _read_json(self._file(what))
        return data if isinstance(data, dict) else None

    def write(self, what: str, data: Dict[str, Any]) -> None:
        _makedirs(self.path)
        _write_json(self._file(what), data)

    def drop(self, what: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file(what))

    # -- apply life cycle ---------------------------------------------------
    def attempt(self, rec: Dict[str, Any]) -> None:
        """Before touching the host: registers the deployment (cleanup
        knows it even if this run crashes) and what is being tried."""
        self.write(ATTEMPTED, rec)

    def succeeded(self, rec: Dict[str, Any]) -> None:
        current = self.read(CURRENT)
        if current is not None and not same_config(current, rec):
            self.write(PREVIOUS, current)
        if current is None or current.get('id') != rec.get('id') or \
                not same_config(current, rec) or \
                current.get('config_hashes') != rec.get('config_hashes'):
            self.write(CURRENT, rec)
        self._add_generation(rec)
        self.drop(ATTEMPTED)

    # -- generations --------------------------------------------------------
    def generations(self) -> List[Tuple[int, Dict[str, Any]]]:
        """``(number, record)`` of every kept definition, oldest first.

        A generation is added by every successful apply whose definition
        differs from the newest one; numbers only grow.
        """
        root = os.path.join(self.path, GENERATIONS)
        try:
            names = os.listdir(root)
        except OSError:
            return []
        result = []
        for name in names:
            stem, dot, ext = name.partition('.')
            if ext != 'json' or not stem.isdigit():
                continue
            data = _read_json(os.path.join(root, name))
            if isinstance(data, dict):
                result.append((int(stem), data))
        return sorted(result, key=lambda g: g[0])

    def kept(self) -> List[Dict[str, Any]]:
        """Every kept definition, the likeliest to be running first:
        current, attempted, then the generations newest first."""
        recs = [self.read(CURRENT), self.read(ATTEMPTED)]
        recs += [rec for _, rec in reversed(self.generations())]
        return [r for r in recs if r]

    def generation(self, number: int) -> Optional[Dict[str, Any]]:
        return dict(self.generations()).get(number)

    def _add_generation(self, rec: Dict[str, Any]) -> None:
        kept = self.generations()
        if kept and same_config(kept[-1][1], rec):
            return
        root = os.path.join(self.path, GENERATIONS)
        _makedirs(root)
        number = kept[-1][0] + 1 if kept else 1
        _write_json(os.path.join(root, f'{number}.json'), rec)
        for old, _ in kept[:max(0, len(kept) + 1 - GENERATIONS_KEPT)]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(root, f'{old}.json'))

    def deleted(self) -> None:
        """DELETE / cleanup: keep the last definition as rollback target."""
        current = self.read(CURRENT) or self.read(ATTEMPTED)
        if current is not None:
            self.write(PREVIOUS, current)
        self.drop(CURRENT)
        self.drop(ATTEMPTED)
        self.drop(EXECS)

    def forget(self) -> None:
        for what in (CURRENT, PREVIOUS, ATTEMPTED, EXECS, RESULT):
            self.drop(what)
        for number, _ in self.generations():
            self.drop(os.path.join(GENERATIONS, f'{number}.json'))
        for path in (os.path.join(self.path, GENERATIONS), self.path):
            with contextlib.suppress(OSError):
                os.rmdir(path)

    def rollback_target(self) -> Optional[Dict[str, Any]]:
        """The definition ``rollback`` applies
        (:func:`previous_definition`)."""
        return previous_definition(Kept(
            self.path, self.read(CURRENT), self.read(PREVIOUS),
            self.read(ATTEMPTED)))

    def read_kept(self) -> Kept:
        """Every definition kept, read once (for :func:`rollback_choice`)."""
        return Kept(self.path, self.read(CURRENT), self.read(PREVIOUS),
                    self.read(ATTEMPTED), tuple(self.generations()))

    @property
    def active(self) -> bool:
        """Has containers on the host as far as the state knows."""
        return self.read(CURRENT) is not None or \
            self.read(ATTEMPTED) is not None

    # -- exec records -------------------------------------------------------
    def execs(self) -> Dict[str, Dict[str, Any]]:
        data = self.read(EXECS)
        return {k: v for k, v in (data or {}).items() if isinstance(v, dict)}

    def save_execs(self, records: Dict[str, Dict[str, Any]]) -> None:
        if records or os.path.exists(self._file(EXECS)):
            self.write(EXECS, records)


def deployments(state_dir: str) -> List[str]:
    """Names of every deployment with state on this host, sorted."""
    root = os.path.join(state_dir, DEPLOYMENTS)
    try:
        entries = os.listdir(root)
    except OSError:
        return []
    return sorted(urllib.parse.unquote(e) for e in entries
                  if not e.startswith('.') and
                  os.path.isdir(os.path.join(root, e)))
