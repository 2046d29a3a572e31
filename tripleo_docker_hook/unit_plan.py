"""Planning for host units: which systemd units to take over or give back.

A baremetal node runs ``openstack-nova-compute.service`` from packages; the
deployment that introduces the ``nova_compute`` container names the unit in
``host_services``.  :func:`compute` is pure (like :func:`plan.compute`): it
gets the desired model, the units' observed state
(asked of the host's systemd just before) and the host-wide records of
units already replaced, and decides:

* **take over** (stop and/or disable) a claimed unit that is running or
  enabled, right before the ``start_order`` group of its container;
* **restore** what a take-over of this run changed, if the step fails
  (done by :mod:`tripleo_docker_hook.host_units`, from the same actions);
* **release** (enable and start again, as recorded) the units this
  deployment replaced and no longer claims, only when asked to
  (``ctl rollback``): an ordinary apply never gives a unit back, so a
  template that drops ``host_services`` cannot restart a package service
  beside its container;
* **claim** (record only) a unit left as it is (absent from the node, or
  already stopped and disabled): after a successful apply it has a
  *claim-only* record (``previous`` null), so no other deployment can
  claim it too, and nothing is ever given back for it; a claim-only
  record this deployment no longer claims is **forgotten** (dropped).

Raises :class:`errors.ValidationError` when a unit is replaced by another
deployment of the host (before anything changes).
"""

import dataclasses
from typing import Any, Dict, List, Mapping, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

TAKEOVER = 'takeover'
RELEASE = 'release'

#: ``UnitFileState`` values of a unit that starts at boot (disable them).
ENABLED_STATES = ('enabled', 'enabled-runtime', 'linked', 'linked-runtime',
                  'alias')
#: ``ActiveState`` values of a unit that is (or may soon be) running.
RUNNING_STATES = ('active', 'activating', 'reloading', 'deactivating',
                  'refreshing')


#: Units a node needs to run containers and this hook at all: the engines,
#: the system bus the hook reaches systemd by, the agents unit.  Stopping
#: one takes every container (the agents container, so the hook itself,
#: included) down in the middle of an apply, with no one left to restore
#: it: no container may replace them.  Neither may systemd's own units
#: (``systemd-*``: journald, udevd, logind, networkd, resolved…).
PROTECTED_UNITS = frozenset((
    'docker.service', 'docker.socket', 'containerd.service',
    'podman.service', 'podman.socket', 'dbus.service', 'dbus.socket',
    'dbus-broker.service', 'tripleo-docker-agents.service'))


def protected(unit: str) -> bool:
    """Is ``unit`` (a name or systemd's canonical ``Id``) one that no
    container may replace (:data:`PROTECTED_UNITS`, ``systemd-*``)?"""
    return unit in PROTECTED_UNITS or unit.startswith('systemd-')


@dataclasses.dataclass(frozen=True)
class UnitState:
    """What the host's systemd says of one unit.

    ``load_state`` is ``not-found`` (and ``file_state`` empty) for a unit
    the node does not have, e.g. one already migrated and uninstalled.
    """

    name: str
    load_state: str = ''
    active_state: str = ''
    sub_state: str = ''
    file_state: str = ''
    #: systemd's canonical name (``Id``): differs from ``name`` when the
    #: claimed name is an alias (``messagebus.service`` → ``dbus.service``)
    unit_id: str = ''

    @property
    def present(self) -> bool:
        return self.load_state not in ('', 'not-found') or \
            bool(self.file_state)

    @property
    def running(self) -> bool:
        return self.active_state in RUNNING_STATES

    @property
    def enabled(self) -> bool:
        return self.file_state in ENABLED_STATES

    def describe(self) -> str:
        if not self.present:
            return 'not present'
        return f'{self.file_state or "no unit file"}, {self.active_state}'

    def to_data(self) -> Dict[str, str]:
        return {'load_state': self.load_state,
                'active_state': self.active_state,
                'sub_state': self.sub_state, 'file_state': self.file_state}

    @classmethod
    def from_data(cls, name: str, data: Any) -> 'UnitState':
        data = data if isinstance(data, Mapping) else {}
        return cls(name, **{k: str(data.get(k) or '') for k in (
            'load_state', 'active_state', 'sub_state', 'file_state')})


@dataclasses.dataclass(frozen=True)
class UnitAction:
    """One decision about one host unit.

    TAKEOVER: ``stop`` / ``disable`` it before the ``start_order`` group
    ``start_order`` of step ``step`` (where its container starts).
    RELEASE: ``enable`` / ``start`` it again after the removals.
    ``before`` is the state observed now, the state a failed step restores.
    """

    verb: str
    unit: str
    container: str
    before: UnitState
    step: int = 0
    start_order: int = 0
    stop: bool = False
    disable: bool = False
    enable: bool = False
    start: bool = False

    def __str__(self) -> str:
        if self.verb == TAKEOVER:
            what = ' and '.join(w for w, on in (('stop', self.stop),
                                               ('disable', self.disable))
                                if on)
            return (f'{what} host unit {self.unit} (replaced by '
                    f'{self.container}; now {self.before.describe()})')
        what = ' and '.join(w for w, on in (('enable', self.enable),
                                           ('start', self.start)) if on)
        return (f'{what or "forget"} host unit {self.unit} (no longer '
                f'replaced by {self.container})')

    def to_data(self) -> Dict[str, Any]:
        data = {'verb': self.verb, 'unit': self.unit,
                'container': self.container,
                'before': self.before.to_data()}
        for key in ('stop', 'disable', 'enable', 'start'):
            if getattr(self, key):
                data[key] = True
        if self.verb == TAKEOVER:
            data.update(step=self.step, start_order=self.start_order)
        return data


@dataclasses.dataclass(frozen=True)
class UnitPlan:
    deployment: str = ''
    takeovers: Tuple[UnitAction, ...] = ()
    releases: Tuple[UnitAction, ...] = ()
    #: units looked at and left as they are, one line each.
    notes: Tuple[str, ...] = ()
    #: unit → container of this deployment that replaces it (the records
    #: to write or move to this deployment after a successful apply).
    claims: Tuple[Tuple[str, str], ...] = ()
    #: unit → what systemd said of a claimed unit left as it is
    #: (:meth:`UnitState.describe`: ``not present``, ``disabled,
    #: inactive``…): without a record, it gets a claim-only one.
    found: Tuple[Tuple[str, str], ...] = ()
    #: unit → container: claim-only records of this deployment that it no
    #: longer claims, dropped after a successful apply.
    forget: Tuple[Tuple[str, str], ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.takeovers or self.releases)

    def at(self, step: int, start_order: int) -> Tuple[UnitAction, ...]:
        return tuple(a for a in self.takeovers
                     if (a.step, a.start_order) == (step, start_order))

    def in_step(self, step: int) -> Tuple[UnitAction, ...]:
        return tuple(a for a in self.takeovers if a.step == step)

    def describe(self) -> List[str]:
        lines = [f'{a}' for a in self.releases]
        lines += [f'step {a.step} start_order {a.start_order}: {a}'
                  for a in self.takeovers]
        lines += [f'host unit {unit} is no longer claimed by {container} '
                  '(it was never taken over: nothing to give back)'
                  for unit, container in self.forget]
        return lines + list(self.notes)

    def to_data(self) -> Dict[str, Any]:
        return {'takeovers': [a.to_data() for a in self.takeovers],
                'releases': [a.to_data() for a in self.releases],
                'forget': [u for u, _ in self.forget],
                'notes': list(self.notes)}


def taken_over(record: Mapping[str, Any]) -> bool:
    """Did the record's deployment stop or disable the unit, so that there
    is a state (``previous``) to give back?  A claim-only record
    (``previous`` null: the unit was absent, or already stopped and
    disabled, when claimed) did not."""
    return bool(record.get('previous'))


def claimed(desired: model.Deployment) -> Dict[str, model.Container]:
    """Unit → the container of ``desired`` that replaces it."""
    return {unit: c for c in desired.containers for unit in c.host_services}


def units_to_query(deployment: str, desired: model.Deployment,
                   records: Mapping[str, Mapping[str, Any]],
                   release: bool = False) -> List[str]:
    """The units whose state :func:`compute` needs, sorted."""
    units = set(claimed(desired))
    if release:
        units |= {u for u, r in records.items()
                  if r.get('deployment') == deployment and taken_over(r)}
    return sorted(units)


def _path(c: model.Container) -> str:
    if c.pod_container:
        return 'metadata.annotations[tripleo.org/host-services]'
    return f'step_{c.step}.{c.name}.host_services'


def compute(deployment: str, desired: model.Deployment,
            states: Mapping[str, UnitState],
            records: Mapping[str, Mapping[str, Any]],
            release: bool = False) -> UnitPlan:
    """Decide what happens to every host unit this deployment touches.

    ``states`` unit → :class:`UnitState`;
    ``records`` the host-wide records (:class:`host_units.Records`).
    ``release`` (``ctl rollback`` only) gives back units this deployment
    replaced and no longer claims.  A claim-only record this deployment
    no longer claims is forgotten, ``release`` or not (it never stopped
    anything).
    """
    errs = errors.ErrorList()
    takeovers: List[UnitAction] = []
    notes: List[str] = []
    found: List[Tuple[str, str]] = []
    claims = claimed(desired)
    for unit, c in sorted(claims.items()):
        rec = records.get(unit) or {}
        if rec and rec.get('deployment') != deployment and \
                not rec.get('released'):
            how = 'replaced' if taken_over(rec) else 'claimed (not ' \
                f'taken over: {rec.get("found") or "left as it was"})'
            errs.add(_path(c), 'Duplicate value', unit,
                     f'{how} by container {rec.get("container")} of '
                     f'deployment "{rec.get("deployment")}"; a host unit '
                     'can be replaced by one container only')
            continue
        state = states.get(unit) or UnitState(unit)
        if protected(unit) or protected(state.unit_id):
            errs.forbidden(_path(c), f'{unit} is {state.unit_id or unit}, '
                           'which the node needs to run containers or '
                           'this hook: no container can replace it')
            continue
        if state.running or state.enabled:
            takeovers.append(UnitAction(
                TAKEOVER, unit, c.name, state, step=c.step,
                start_order=c.start_order, stop=state.running,
                disable=state.enabled))
            continue
        found.append((unit, state.describe()))
        if not state.present:
            notes.append(f'host unit {unit} is not present on this host '
                         f'(nothing to stop for {c.name})')
        else:
            notes.append(f'host unit {unit} is already stopped and '
                         f'disabled (replaced by {c.name})')
    errs.raise_if_any()
    releases: List[UnitAction] = []
    forget: List[Tuple[str, str]] = []
    for unit, rec in sorted(records.items()):
        if rec.get('deployment') != deployment or unit in claims or \
                rec.get('released'):
            continue
        if not taken_over(rec):
            forget.append((unit, str(rec.get('container'))))
            continue
        if release:
            if desired.container(str(rec.get('container'))) is not None:
                notes.append(f'host unit {unit} stays stopped: container '
                             f'{rec.get("container")} is still deployed')
                continue
            previous = UnitState.from_data(unit, rec.get('previous'))
            state = states.get(unit) or UnitState(unit)
            releases.append(UnitAction(
                RELEASE, unit, str(rec.get('container')), state,
                enable=previous.enabled and not state.enabled,
                start=previous.running and not state.running))
    return UnitPlan(deployment, tuple(takeovers), tuple(releases),
                    tuple(notes),
                    tuple(sorted((u, c.name) for u, c in claims.items())),
                    tuple(sorted(found)), tuple(forget))


def on_delete(deployment: str, records: Mapping[str, Mapping[str, Any]]
              ) -> List[str]:
    """The units a DELETE of ``deployment`` leaves stopped and disabled.

    DELETE removes the containers but never restarts a host service: the
    node may be on its way to another containerised deployment of the
    service, and a package service coming back on its own (beside, say, a
    config that moved on) is worse than a service that stays down until an
    operator says so (``systemctl enable --now``, or ``ctl rollback``).
    """
    return sorted(u for u, r in records.items()
                  if r.get('deployment') == deployment and
                  not r.get('released'))


def on_delete_line(unit: str, record: Mapping[str, Any]) -> str:
    """What DELETE says of one unit it marks released (:func:`on_delete`):
    how to run a unit it left stopped again; for a claim-only record, that
    nothing was ever stopped."""
    if not taken_over(record):
        return (f'host unit {unit} is no longer claimed (its container was '
                f'removed; it was never taken over: nothing to give back); '
                f'another deployment may claim it')
    return (f'host unit {unit} stays stopped and disabled (its container '
            f'was removed); to run it again: systemctl enable --now {unit}')

