"""The host's systemd, over the system D-Bus: take host units over, give
them back, and remember which ones were taken.

This is to systemd what :mod:`engine` is to Docker: the one module that
talks to it, with typed errors (:class:`HostUnitError`) and explicit
timeouts.  The decisions come from :mod:`tripleo_docker_hook.unit_plan`;
:class:`UnitExecutor` carries them out during an apply.

Why D-Bus (jeepney, pure Python) and not ``systemctl`` in the agents
container: ``systemctl`` there silently works on the container's own files
("client-side" mode, rc 0, node untouched) whenever it lacks
``/run/systemd/system`` or thinks it runs in a chroot, and its private
socket fails across PID namespaces.  The system bus needs one mount
(``/run/dbus``) and answers with typed errors.  Every change is verified
by asking systemd (``UnitFileState``, ``ActiveState``), never by a reply
alone.  Facts: ``shared/reference/systemd-and-podman.md``.

Records: ``<state_dir>/host-units.json``, unit → the deployment and
container that replaced it, its state before (``previous``) and when.
Written right after a take-over is verified (a crash later still knows
it), dropped when a failed step or ``ctl rollback`` gives the unit back,
marked ``released`` by DELETE (the unit stays stopped and disabled).

A claimed unit that was not taken over (absent from the node, or already
stopped and disabled) gets a *claim-only* record after a successful apply:
``previous`` null and ``found`` saying what systemd said then.  It makes
the claim exclusive like any other record, but gives nothing back; a
later take-over (the package installed and running after all) fills in
``previous``.
"""

import contextlib
import logging
import os
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import state
from tripleo_docker_hook import unit_plan
from tripleo_docker_hook.unit_plan import UnitAction, UnitPlan, UnitState

LOG = logging.getLogger(__name__)

RECORDS = 'host-units.json'
DEFAULT_ADDRESS = 'unix:path=/run/dbus/system_bus_socket'

_SYSTEMD = 'org.freedesktop.systemd1'
_MANAGER = 'org.freedesktop.systemd1.Manager'
_UNIT = 'org.freedesktop.systemd1.Unit'
_JOB = 'org.freedesktop.systemd1.Job'
#: D-Bus errors that mean "no such unit here": nothing to stop or read.
_ABSENT = ('org.freedesktop.systemd1.NoSuchUnit',
           'org.freedesktop.DBus.Error.FileNotFound',
           'org.freedesktop.systemd1.LoadFailed')


class HostUnitError(errors.HookError):
    """systemd refused, failed or did not answer; or a change did not
    take (verified by asking systemd afterwards)."""

    status = 1


class Systemd:
    """A blocking client of the host's systemd manager.

    ``address`` is a D-Bus address (``unix:path=...``); ``timeout`` (s)
    bounds one job (a stop or a start) and ``call_timeout`` (s) each call.
    Thread-safe (one connection, one lock); opened on first use.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS,
                 timeout: float = 120.0, call_timeout: float = 30.0):
        self.address = address
        self.timeout = timeout
        self.call_timeout = min(call_timeout, timeout)
        self._conn = None
        self._lock = threading.RLock()

    @classmethod
    def from_conf(cls, conf) -> 'Systemd':
        address = getattr(conf, 'host_dbus_address', None) or DEFAULT_ADDRESS
        timeout = float(getattr(conf, 'host_unit_timeout', 120) or 120)
        return cls(address, timeout)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None

    def __enter__(self) -> 'Systemd':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport ----------------------------------------------------------
    def _connection(self):
        if self._conn is None:
            from jeepney.io.blocking import open_dbus_connection
            try:
                self._conn = open_dbus_connection(
                    bus=self.address, auth_timeout=self.call_timeout)
            except Exception as exc:
                raise HostUnitError(
                    f'cannot reach the host\'s systemd over D-Bus at '
                    f'{self.address} ({type(exc).__name__}: '
                    f'{errors.first_line(exc)}); the agents container must '
                    f'mount the host\'s /run/dbus (host_dbus_address)'
                ) from exc
        return self._conn

    def _call(self, msg, what: str) -> Tuple[Any, ...]:
        """Send one method call; the reply's body.  D-Bus errors raise
        :class:`_DBusError` (callers map the "absent" ones)."""
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg
        with self._lock:
            conn = self._connection()
            try:
                reply = conn.send_and_get_reply(msg,
                                                timeout=self.call_timeout)
            except (OSError, TimeoutError, EOFError) as exc:
                self.close()
                raise HostUnitError(
                    f'systemd did not answer {what} within '
                    f'{self.call_timeout:g} s over {self.address}: '
                    f'{type(exc).__name__}: {errors.first_line(exc)}'
                ) from exc
        try:
            return unwrap_msg(reply)
        except DBusErrorResponse as exc:
            detail = exc.data[0] if exc.data else ''
            raise _DBusError(exc.name or '', f'{what}: {exc.name}: '
                             f'{detail}') from None

    def _manager(self, method: str, signature: str = '',
                 body: Tuple[Any, ...] = ()) -> Tuple[Any, ...]:
        from jeepney import DBusAddress, new_method_call
        addr = DBusAddress('/org/freedesktop/systemd1', bus_name=_SYSTEMD,
                           interface=_MANAGER)
        return self._call(new_method_call(addr, method, signature or None,
                                          body),
                          f'{method}{tuple(body) if body else "()"}')

    def _properties(self, path: str, interface: str) -> Dict[str, Any]:
        from jeepney import DBusAddress, Properties
        addr = DBusAddress(path, bus_name=_SYSTEMD, interface=interface)
        (props,) = self._call(Properties(addr).get_all(),
                              f'GetAll({interface}) of {path}')
        return {k: v[1] for k, v in props.items()}

    # -- queries ------------------------------------------------------------
    def state(self, unit: str) -> UnitState:
        """What systemd says of ``unit`` now (never raises for a unit
        the node does not have: ``load_state`` is then ``not-found``)."""
        try:
            (path,) = self._manager('LoadUnit', 's', (unit,))
            props = self._properties(path, _UNIT)
        except _DBusError as exc:
            if exc.name in _ABSENT:
                return UnitState(unit, 'not-found', 'inactive', 'dead', '')
            raise HostUnitError(str(exc)) from None
        try:
            (file_state,) = self._manager('GetUnitFileState', 's', (unit,))
        except _DBusError as exc:
            if exc.name not in _ABSENT:
                raise HostUnitError(str(exc)) from None
            file_state = ''
        return UnitState(unit, str(props.get('LoadState', '')),
                         str(props.get('ActiveState', '')),
                         str(props.get('SubState', '')), str(file_state),
                         str(props.get('Id', '')))

    # -- changes ------------------------------------------------------------
    def stop(self, unit: str) -> None:
        self._job('StopUnit', unit)

    def start(self, unit: str) -> None:
        self._job('StartUnit', unit)

    def disable(self, unit: str) -> List[Tuple[str, str, str]]:
        """``DisableUnitFiles`` + ``Reload``; the symlink changes made."""
        try:
            (changes,) = self._manager('DisableUnitFiles', 'asb',
                                       ([unit], False))
        except _DBusError as exc:
            raise HostUnitError(str(exc)) from None
        self.reload()
        return [tuple(c) for c in changes]

    def enable(self, unit: str) -> List[Tuple[str, str, str]]:
        """``EnableUnitFiles`` (not forced) + ``Reload``."""
        try:
            _, changes = self._manager('EnableUnitFiles', 'asbb',
                                       ([unit], False, False))
        except _DBusError as exc:
            raise HostUnitError(str(exc)) from None
        self.reload()
        return [tuple(c) for c in changes]

    def reload(self) -> None:
        """``daemon-reload``: the reply comes once the reload is done."""
        try:
            self._manager('Reload')
        except _DBusError as exc:
            raise HostUnitError(str(exc)) from None

    def _job(self, method: str, unit: str) -> None:
        """Queue a start/stop job and wait until systemd has finished it
        (its object is gone), at most ``timeout`` seconds.

        Polls the job object rather than waiting for ``JobRemoved``: no
        subscription, and no signal filter to get wrong (the signal's
        sender is systemd's unique name, not ``org.freedesktop.systemd1``).
        The outcome is read from the unit afterwards by the caller.
        """
        try:
            (job,) = self._manager(method, 'ss', (unit, 'replace'))
        except _DBusError as exc:
            if method == 'StopUnit' and exc.name in _ABSENT:
                return   # not loaded: nothing runs
            raise HostUnitError(str(exc)) from None
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            try:
                self._properties(job, _JOB)
            except _DBusError:
                return   # the job is done (its object is gone)
            if time.monotonic() >= deadline:
                raise HostUnitError(
                    f'{method} {unit}: the job {job} did not finish within '
                    f'{self.timeout:g} s (host_unit_timeout)')
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class _DBusError(Exception):
    def __init__(self, name: str, text: str):
        super().__init__(text)
        self.name = name


# -- records ------------------------------------------------------------------
class Records:
    """``<state_dir>/host-units.json``: the units replaced on this host.

    Read and written under the host lock (:func:`state.host_lock`).
    """

    def __init__(self, state_dir: str):
        self.path = os.path.join(state_dir, RECORDS)

    def load(self) -> Dict[str, Dict[str, Any]]:
        data = state._read_json(self.path)
        units = data.get('units') if isinstance(data, dict) else None
        return {k: v for k, v in (units or {}).items()
                if isinstance(k, str) and isinstance(v, dict)}

    def save(self, units: Mapping[str, Mapping[str, Any]]) -> None:
        state._makedirs(os.path.dirname(self.path))
        state._write_json(self.path, {'units': dict(units)})

    def replaced(self, unit: str, deployment: str, container: str,
                 previous: UnitState) -> None:
        """Record a take-over; an earlier take-over's record keeps its
        ``previous`` and ``time`` (the state before the first take-over
        is the one to give back); a claim-only one gets them now."""
        units = self.load()
        old = units.get(unit) or {}
        first = not unit_plan.taken_over(old)
        units[unit] = {
            'deployment': deployment, 'container': container,
            'previous': previous.to_data() if first else old['previous'],
            'time': int(time.time()) if first or not old.get('time')
            else old['time']}
        self.save(units)

    def claim(self, claims: Mapping[str, str], deployment: str,
              found: Optional[Mapping[str, str]] = None,
              forget: Tuple[str, ...] = ()) -> None:
        """After a successful apply: the units of ``claims`` (unit →
        container) belong to ``deployment``; one without a record gets a
        claim-only record (``previous`` null, ``found`` from ``found``,
        unit → what systemd said).  The claim-only records of
        ``deployment`` in ``forget`` are dropped."""
        units = self.load()
        found = found or {}
        changed = False
        now = int(time.time())
        for unit, container in claims.items():
            rec = units.get(unit)
            if rec is None:
                units[unit] = {'deployment': deployment,
                               'container': container, 'previous': None,
                               'found': found.get(unit, ''), 'time': now}
                changed = True
                continue
            new = dict(rec, deployment=deployment, container=container)
            new.pop('released', None)
            if not unit_plan.taken_over(rec) and \
                    rec.get('deployment') != deployment:
                new.update(found=found.get(unit, rec.get('found', '')),
                           time=now)   # claimed anew
            if new != rec:
                units[unit] = new
                changed = True
        for unit in forget:
            rec = units.get(unit) or {}
            if rec.get('deployment') == deployment and \
                    not unit_plan.taken_over(rec) and unit not in claims:
                del units[unit]
                changed = True
        if changed:
            self.save(units)

    def drop(self, unit: str) -> None:
        units = self.load()
        if units.pop(unit, None) is not None:
            self.save(units)

    def release(self, deployment: str) -> Dict[str, Dict[str, Any]]:
        """DELETE: mark this deployment's units released (they stay
        stopped and disabled; another deployment may claim them); unit →
        its record now, sorted by unit."""
        units = self.load()
        names = unit_plan.on_delete(deployment, units)
        for unit in names:
            units[unit] = dict(units[unit], released=int(time.time()))
        if names:
            self.save(units)
        return {unit: units[unit] for unit in names}


def replaced_units(state_dir: str, deployment: Optional[str] = None,
                   released: Optional[bool] = None,
                   taken_over: Optional[bool] = None
                   ) -> List[Dict[str, Any]]:
    """The host units replaced (or claimed) by containers, for
    ``ctl show``.

    One dict per unit, sorted by unit: ``unit``, ``deployment``,
    ``container``, ``taken_over`` (did the hook stop or disable it?),
    ``previous`` (``file_state``, ``active_state``...: what a rollback
    gives back; null when not taken over), ``found`` (claim-only: what
    systemd said when it was claimed, ``not present`` or ``disabled,
    inactive``), ``time`` (epoch seconds of the take-over, or of the
    claim) and ``released`` (epoch seconds of the DELETE that removed its
    container, or absent).  ``deployment`` / ``released`` / ``taken_over``
    filter.  Reads only the records, never systemd.
    """
    out = []
    for unit, rec in sorted(Records(state_dir).load().items()):
        if deployment is not None and rec.get('deployment') != deployment:
            continue
        if released is not None and bool(rec.get('released')) != released:
            continue
        took = unit_plan.taken_over(rec)
        if taken_over is not None and took != taken_over:
            continue
        out.append({'unit': unit, 'deployment': rec.get('deployment'),
                    'container': rec.get('container'), 'taken_over': took,
                    **rec})
    return out


# -- the shell around unit_plan -----------------------------------------------
class Survey:
    """The units one apply touches, their state and the records: read
    once, under the host lock, before anything changes."""

    def __init__(self, deployment: str, desired, conf, release: bool = False,
                 systemd: Optional[Systemd] = None):
        self.deployment = deployment
        self.desired = desired
        self.release = release
        self.state_dir = conf.state_dir
        self.records = Records(self.state_dir).load()
        self.units = unit_plan.units_to_query(deployment, desired,
                                              self.records, release)
        self.systemd = systemd
        self.states: Dict[str, UnitState] = {}
        # Validate the claims first (no systemd needed): another
        # deployment's unit fails the deployment before any query.
        unit_plan.compute(deployment, desired, {}, self.records)
        if self.units:
            self.systemd = self.systemd or Systemd.from_conf(conf)
            try:
                self.states = {u: self.systemd.state(u)
                               for u in self.units}
            finally:
                self.systemd.close()   # reopened if the plan acts
            # Again with the states: a claimed alias of a unit no
            # container may replace fails here, before rendering.
            unit_plan.compute(deployment, desired, self.states,
                              self.records)

    def plan(self) -> UnitPlan:
        return unit_plan.compute(self.deployment, self.desired,
                                 self.states, self.records, self.release)

    def executor(self, units: UnitPlan, engine, report) -> 'UnitExecutor':
        return UnitExecutor(units, self.systemd, Records(self.state_dir),
                            engine, report)


def _words(*pairs: Tuple[str, bool]) -> str:
    return ' and '.join(word for word, on in pairs if on)


class UnitExecutor:
    """Carries out a :class:`UnitPlan` during an apply (decides nothing).

    :class:`apply.Applier` calls :meth:`after_removals`, then
    :meth:`before_group` before each ``start_order`` group, and
    :meth:`step_failed` when a step fails; :meth:`finished` after success.
    """

    def __init__(self, units: UnitPlan, systemd: Optional[Systemd],
                 records: Records, engine, report):
        self.units = units
        self.systemd = systemd
        self.records = records
        self.engine = engine
        self.report = report
        self.done: List[UnitAction] = []

    def after_removals(self) -> None:
        for a in self.units.releases:
            self._release(a)

    def before_group(self, step: int, start_order: int) -> None:
        for a in self.units.at(step, start_order):
            self.done.append(a)   # before acting: a half-done one is undone
            self._takeover(a)

    def step_failed(self, step: int, why: str = '') -> None:
        """Give back what this run took over in ``step``: stop the
        container that replaced the unit, then restore the unit's state
        from before.  Never raises; problems go to the report."""
        for a in reversed([a for a in self.done if a.step == step]):
            try:
                self._restore(a, why)
            except errors.HookError as exc:
                self.report.error(
                    f'could not restore host unit {a.unit} after step '
                    f'{step} failed: {exc}; restore it by hand: systemctl '
                    f'enable --now {a.unit}')
        if self.systemd is not None:
            self.systemd.close()

    def finished(self) -> None:
        self.records.claim(dict(self.units.claims), self.units.deployment,
                           dict(self.units.found),
                           tuple(u for u, _ in self.units.forget))
        for line in self.units.notes:
            self.report.info(line)
        if self.systemd is not None:
            self.systemd.close()

    # -- the three moves ----------------------------------------------------
    def _takeover(self, a: UnitAction) -> None:
        sd = self._sd()
        if a.disable:
            sd.disable(a.unit)
        if a.stop:
            sd.stop(a.unit)
        after = sd.state(a.unit)
        problems = []
        if a.stop and after.running:
            problems.append(f'it is still {after.active_state}')
        if a.disable and after.enabled:
            problems.append(f'it is still {after.file_state}')
        if problems:
            what = _words(('stop', a.stop), ('disable', a.disable))
            raise HostUnitError(
                f'host unit {a.unit}: {what} did not take: systemd says '
                f'{" and ".join(problems)}')
        self.records.replaced(a.unit, self.units.deployment, a.container,
                              a.before)
        done = _words(('stopped', a.stop), ('disabled', a.disable))
        self.report.info(f'{done} host unit {a.unit} (replaced by '
                         f'{a.container})')
        LOG.info('%s host unit %s (replaced by %s; was %s)', done, a.unit,
                 a.container, a.before.describe())

    def _restore(self, a: UnitAction, why: str) -> None:
        sd = self._sd()
        self._stop_container(a.container)
        now = sd.state(a.unit)
        enable = a.before.enabled and not now.enabled
        start = a.before.running and not now.running
        if enable:
            sd.enable(a.unit)
        if start:
            sd.start(a.unit)
        self._verify_back(a.unit, a.before)
        self.records.drop(a.unit)
        what = _words(('enabled', a.before.enabled),
                      ('active', a.before.running))
        self.report.info(f'restored host unit {a.unit} ({what} again) '
                         f'because {a.container} failed'
                         f'{": " + why if why else ""}; {a.container} '
                         f'is stopped')

    def _release(self, a: UnitAction) -> None:
        sd = self._sd()
        if a.enable:
            sd.enable(a.unit)
        if a.start:
            sd.start(a.unit)
        previous = UnitState.from_data(
            a.unit, (self.records.load().get(a.unit) or {}).get('previous'))
        self._verify_back(a.unit, previous)
        self.records.drop(a.unit)
        self.report.info(f'gave host unit {a.unit} back '
                         f'({previous.describe()} again; no longer '
                         f'replaced by {a.container})')

    # -- helpers ------------------------------------------------------------
    def _sd(self) -> Systemd:
        if self.systemd is None:   # a plan with actions always has one
            raise HostUnitError('no systemd connection')
        return self.systemd

    def _verify_back(self, unit: str, wanted: UnitState) -> None:
        now = self._sd().state(unit)
        problems = []
        if wanted.enabled and not now.enabled:
            problems.append(f'unit file {now.file_state or "missing"}')
        if wanted.running and now.active_state != 'active':
            problems.append(f'{now.active_state} ({now.sub_state})')
        if problems:
            raise HostUnitError(f'host unit {unit} is not back: systemd '
                                f'says {", ".join(problems)}')

    def _stop_container(self, name: str) -> None:
        """The container must not hold the unit's port or data any more."""
        try:
            self.engine.stop(name)
        except errors.EngineNotFound:
            pass   # never created, or removed: nothing holds the port


class NoUnits:
    """What :class:`apply.Applier` uses when no unit is involved."""

    def after_removals(self) -> None:
        pass

    def before_group(self, step: int, start_order: int) -> None:
        pass

    def step_failed(self, step: int, why: str = '') -> None:
        pass

    def finished(self) -> None:
        pass
