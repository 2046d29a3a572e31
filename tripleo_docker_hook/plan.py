"""Planning: a pure diff of the desired model against the observed host.

``compute`` never touches Docker or the disk: it gets the model, the result
of ONE container list, the local image IDs of the images the model names and
the records of earlier ``action: exec`` runs, and returns a :class:`Plan`
that :mod:`apply` executes and ``tripleo-docker-hook-ctl plan`` prints.

Identity is (deployment name, container name) via labels, never Heat's
derived config id, so a re-sent unchanged deployment plans only ``keep``.
"""

import dataclasses
import enum
import hashlib
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Tuple)

from tripleo_docker_hook import HASH_VERSION
from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import errors
from tripleo_docker_hook import model


class Verb(str, enum.Enum):
    """What the executor does for one action (``Action.verb``)."""

    CREATE = 'create'    # service container that does not exist
    KEEP = 'keep'        # up to date (service running / task done)
    REPLACE = 'replace'  # safe replace: new under a temporary name first
    RUN = 'run'          # one-shot task or exec: (re-)run to completion
    REMOVE = 'remove'    # stop (see Action.stop) and remove
    PROMOTE = 'promote'  # a crashed replace's new container: rename it
    PULL = 'pull'        # (counted in Plan.counts; images are Plan.pulls)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Stop(str, enum.Enum):
    """How the executor takes the action's observed container down."""

    NONE = 'none'          # removed with force (killed if still running)
    GRACEFUL = 'graceful'  # stopped first, honouring its own StopTimeout

    def __str__(self) -> str:
        return self.value


CREATE = Verb.CREATE
KEEP = Verb.KEEP
REPLACE = Verb.REPLACE
RUN = Verb.RUN
REMOVE = Verb.REMOVE
PROMOTE = Verb.PROMOTE
PULL = Verb.PULL

#: ``Action.timeout`` of a task or exec without its own timeout (seconds;
#: the ``task_timeout`` option).
DEFAULT_TASK_TIMEOUT = 3600

#: ``Action.timeout`` of a create or replace: seconds a started service
#: container has to run (and be healthy, with a health check); the
#: ``start_timeout`` option.
DEFAULT_START_TIMEOUT = 120

#: The reason :func:`compute` gives when the hash label differs.
DEFINITION_CHANGED = 'definition changed'

#: Suffix of the temporary name a replacement is created under.
TEMP_SUFFIX = '.tdh-new'

#: Infix of the name a replaced container is set aside under while other
#: containers still join its namespaces (``Action.retire_as``).
RETIRED_SUFFIX = '.tdh-old'

#: Service states that count as alive: not recreated.
ALIVE = ('running', 'restarting', 'paused')


def temp_name(name: str) -> str:
    return name + TEMP_SUFFIX


def retired_name(name: str, container_id: str) -> str:
    """``<name>.tdh-old.<short id>``: unique, so a set-aside container
    never blocks the next one."""
    return f'{name}{RETIRED_SUFFIX}.{container_id[:12]}'


def container_hash(container: model.Container) -> str:
    """The value of the hash label: schema version + source hash."""
    text = f'{HASH_VERSION}\0{container.source_hash}'
    return hashlib.sha256(text.encode()).hexdigest()


def labels_for(deployment: str, config_id: str,
               container: model.Container) -> Dict[str, str]:
    labels = dict(container.labels)
    labels.update({
        model.LABEL_MANAGED_BY: MANAGED_BY,
        model.LABEL_DEPLOYMENT: deployment,
        model.LABEL_CONFIG_ID: config_id,
        model.LABEL_CONTAINER_NAME: container.name,
        model.LABEL_HASH: container_hash(container),
        model.LABEL_STEP: str(container.step),
        model.LABEL_KIND: container.kind.value,
        model.LABEL_STOP_TIMEOUT: (
            model.STOP_TIMEOUT_DEFAULT if container.stop_timeout is None
            else str(container.stop_timeout)),
    })
    return labels


def recorded_stop_timeout(o: model.Observed) -> Tuple[Optional[int], bool]:
    """``(seconds, engine_default)``: the stop timeout ``o`` was created
    with, from its stop-timeout label (:func:`labels_for`).

    ``(n, False)``: its own StopTimeout, n seconds; ``(None, True)``:
    created without one, the engine's default applies; ``(None, False)``:
    not recorded (created before the label existed, or not by this tool),
    the engine reads it from the container (one inspect).
    """
    value = o.labels.get(model.LABEL_STOP_TIMEOUT)
    if value == model.STOP_TIMEOUT_DEFAULT:
        return None, True
    if value is not None and value.isdigit() and len(value) <= 9:
        return int(value), False
    return None, False


@dataclasses.dataclass(frozen=True)
class Action:
    """One decision, with everything the executor needs to carry it out
    without looking at the host again."""

    verb: Verb
    name: str
    container: Optional[model.Container] = None
    #: the existing container this action replaces, re-runs or removes
    observed: Optional[model.Observed] = None
    reason: str = ''
    #: EXEC: the container the command runs in (None: created by this plan)
    target: Optional[model.Observed] = None
    #: a replace / re-run of a changed definition: which fields changed
    #: (:func:`explain`, :mod:`diff`)
    details: Tuple[str, ...] = ()
    #: how ``observed`` is taken down (REMOVE, REPLACE, RUN)
    stop: Stop = Stop.NONE
    #: a graceful stop: ``observed``'s own stop timeout (seconds) as its
    #: label recorded it; None: not recorded, the engine reads it
    #: (:func:`recorded_stop_timeout`)
    stop_timeout: Optional[int] = None
    #: a graceful stop: ``observed`` was created without a stop timeout,
    #: the engine's default applies
    stop_default: bool = False
    #: seconds: RUN, the task or exec may take; CREATE and REPLACE, the new
    #: container has to run and be healthy.  None (actions built by hand):
    #: DEFAULT_TASK_TIMEOUT / DEFAULT_START_TIMEOUT.
    timeout: Optional[float] = None
    #: REPLACE: id of the container started again when the new one fails
    #: ('': none; the old one joined a parent this plan replaces)
    rollback_to: str = ''
    #: REPLACE: the name the old (stopped) container is renamed to instead
    #: of being removed when ``defer_removal`` says so, or when the engine
    #: refuses to remove it (EngineConflict: podman, while containers of
    #: another deployment still join its namespaces)
    retire_as: str = ''
    #: REPLACE: containers of this plan join the old one's namespaces or
    #: volumes and are recreated after it: it is set aside (``retire_as``)
    #: and removed in :attr:`Plan.retirements`, after them
    defer_removal: bool = False
    #: REMOVE (:attr:`Plan.retirements`): an EngineConflict (containers
    #: this plan does not recreate still join it) leaves it for a later run
    may_stay: bool = False
    #: REMOVE: an EngineConflict (podman: other containers still join it)
    #: is retried once the rest of its group is done, as long as a wave
    #: removes something: dependents go first without the plan having to
    #: know who joins whom (a listed container does not say)
    after_dependents: bool = False
    #: RUN of an ``action: exec``: the name of the running container the
    #: command is executed in ('': a task, run in a container of its own)
    exec_in: str = ''
    #: RUN of a ``remove: true`` task: once its exit code and output are
    #: collected, its result goes to the exec records and the container is
    #: removed (:func:`_plan_removed_task` reads that record next time)
    record_and_remove: bool = False

    @property
    def changes(self) -> bool:
        return self.verb != KEEP

    def __str__(self) -> str:
        text = f'{self.verb.value} {self.name}'
        return f'{text} ({self.reason})' if self.reason else text

    def to_data(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {'verb': self.verb.value, 'name': self.name}
        if self.reason:
            data['reason'] = self.reason
        if self.container is not None:
            data['kind'] = self.container.kind.value
            data['step'] = self.container.step
            if self.container.image:
                data['image'] = self.container.image
        if self.observed is not None:
            data['container_id'] = self.observed.id[:12]
        if self.details:
            data['changes'] = list(self.details)
        return data


@dataclasses.dataclass(frozen=True)
class StepPlan:
    number: int
    #: ``start_order`` groups, run in order; the actions of one group run
    #: in parallel.
    groups: Tuple[Tuple[Action, ...], ...] = ()

    def by_start_order(self) -> Iterator[Tuple[int, Tuple[Action, ...]]]:
        """``(start_order, actions)`` of each group, in order."""
        for group in self.groups:
            c = group[0].container if group else None
            yield (c.start_order if c is not None else 0), group


@dataclasses.dataclass(frozen=True)
class Plan:
    deployment: str
    config_id: str
    #: images pulled before anything is stopped.
    pulls: Tuple[str, ...] = ()
    #: leftovers of an interrupted run (temporary names), first.
    leftovers: Tuple[Action, ...] = ()
    #: containers no longer defined, before the steps.
    removals: Tuple[Action, ...] = ()
    steps: Tuple[StepPlan, ...] = ()
    #: replaced containers set aside (``Action.retire_as``), removed after
    #: every step, so after the dependents that joined them
    retirements: Tuple[Action, ...] = ()
    #: what happens to host units (:meth:`unit_plan.UnitPlan.describe`),
    #: one line each, printed after the steps
    host_units: Tuple[str, ...] = ()

    @property
    def actions(self) -> Tuple[Action, ...]:
        return self.leftovers + self.removals + tuple(
            a for step in self.steps for group in step.groups
            for a in group) + self.retirements

    @property
    def changes(self) -> Tuple[Action, ...]:
        return tuple(a for a in self.actions if a.changes)

    def counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for a in self.actions:
            counts[a.verb.value] = counts.get(a.verb.value, 0) + 1
        if self.pulls:
            counts[PULL.value] = len(self.pulls)
        return counts

    def summary(self) -> str:
        counts = self.counts()
        parts = ', '.join(f'{counts[v.value]} {v.value}' for v in
                          (PULL, CREATE, REPLACE, RUN, PROMOTE, REMOVE, KEEP)
                          if counts.get(v.value))
        return (f'plan for deployment {self.deployment} '
                f'(config {self.config_id}): {parts or "nothing to do"}')

    def describe(self) -> List[str]:
        """Human-readable plan, one line per action, in execution order."""
        lines = [f'pull {ref}' for ref in self.pulls]
        lines += [str(a) for a in self.leftovers + self.removals]
        for step in self.steps:
            for order, group in step.by_start_order():
                for a in group:
                    lines.append(f'step {step.number} start_order {order}: '
                                 f'{a}')
                    lines += [f'    {d}' for d in a.details]
        lines += [str(a) for a in self.retirements]
        return lines + list(self.host_units)

    def to_data(self) -> Dict[str, Any]:
        return {
            'deployment': self.deployment,
            'config_id': self.config_id,
            'pulls': list(self.pulls),
            'leftovers': [a.to_data() for a in self.leftovers],
            'removals': [a.to_data() for a in self.removals],
            'steps': [{'step': s.number,
                       'groups': [[a.to_data() for a in group]
                                  for group in s.groups]}
                      for s in self.steps],
            **({'retirements': [a.to_data() for a in self.retirements]}
               if self.retirements else {}),
            'counts': self.counts(),
            **({'host_units': list(self.host_units)}
               if self.host_units else {}),
        }


def _is_ours(o: model.Observed, deployment: str) -> bool:
    return o.managed and o.deployment == deployment


def _owner(o: model.Observed) -> str:
    if o.managed:
        return f'deployment "{o.deployment}"'
    return 'a container this tool does not manage'


def _image_drift(c: model.Container, o: model.Observed,
                 images: Mapping[str, Optional[str]],
                 recreate_on_image_change: bool) -> bool:
    if not recreate_on_image_change or not o.image_id:
        return False
    wanted = images.get(c.image)
    return bool(wanted) and wanted != o.image_id


def check_clashes(deployment: str, desired: model.Deployment,
                  observed: Iterable[model.Observed]) -> None:
    """Raise :class:`errors.ValidationError` when a name we need is taken,
    or a container named by a dependent is not one of ours on this host.

    Runs before anything (including config rendering) touches the host.
    """
    by_name = {o.name: o for o in observed}
    errs = errors.ErrorList()
    defined = {c.name for c in desired.containers}
    for c in desired.containers:
        if c.kind is model.Kind.EXEC:
            continue
        for field, target in c.depends_on:
            if target not in defined:
                _named_container(c, field, target, by_name, errs)
        for name in (c.name, temp_name(c.name)):
            holder = by_name.get(name)
            if holder is not None and not _is_ours(holder, deployment):
                errs.add(f'step_{c.step}.{c.name}', 'Duplicate value', name,
                         f'a container of this name exists and belongs to '
                         f'{_owner(holder)}; it is left alone')
    errs.raise_if_any()


def _exec_target(c: model.Container, deployment: str,
                 by_name: Mapping[str, model.Observed],
                 desired_names: Mapping[str, model.Container],
                 errs: errors.ErrorList) -> Optional[model.Observed]:
    """The managed container an exec runs in; never a foreign one."""
    path = f'step_{c.step}.{c.name}.command[0]'
    holder = by_name.get(c.exec_target)
    if holder is not None and holder.managed and \
            holder.container_name == holder.name:
        return holder
    if holder is not None:
        errs.add(path, 'Forbidden', c.exec_target,
                 'the exec target belongs to a container this tool does '
                 'not manage')
        return None
    if c.exec_target in desired_names:
        return None  # created by this plan, earlier
    errs.not_found(path, c.exec_target)
    errs.errors[-1] = dataclasses.replace(
        errs.errors[-1], detail='no container of this deployment or '
        'another one managed by tripleo-docker-hook has this name')
    return None


def with_dependency_hashes(desired: model.Deployment,
                           observed: Iterable[model.Observed],
                           errs: errors.ErrorList) -> model.Deployment:
    """Fold into each dependent's source hash the hashes of the containers
    it names (:attr:`model.Container.depends_on`), so a changed container
    changes its dependents' hashes too, transitively.

    A name of this deployment uses its (already folded) desired hash;
    another name must be a container managed by tripleo-docker-hook on
    this host (another deployment's), and its hash label is used.  A name
    held by no container, or by a container this tool does not manage,
    is an error naming the field.
    """
    by_name = {o.name: o for o in observed}
    hashes: Dict[str, str] = {}
    steps = []
    for step in desired.steps:
        members = []
        for c in step.containers:   # a container's parents come first
            if c.kind is not model.Kind.EXEC and c.depends_on:
                parts = [c.source_hash]
                for field, target in c.depends_on:
                    if target in hashes:
                        parts.append(hashes[target])
                        continue
                    holder = _named_container(c, field, target, by_name,
                                              errs)
                    if holder is not None:
                        parts.append(holder.labels.get(model.LABEL_HASH, ''))
                text = '\0'.join(parts)
                c = dataclasses.replace(c, source_hash=hashlib.sha256(
                    text.encode()).hexdigest())
            hashes[c.name] = container_hash(c)
            members.append(c)
        steps.append(dataclasses.replace(step, containers=tuple(members)))
    return dataclasses.replace(desired, steps=tuple(steps))


def _named_container(c: model.Container, field: str, target: str,
                     by_name: Mapping[str, model.Observed],
                     errs: errors.ErrorList) -> Optional[model.Observed]:
    """The managed container (another deployment's) ``c.<field>`` names;
    else an error naming the field, and None."""
    holder = by_name.get(target)
    path = f'step_{c.step}.{c.name}.{field}'
    if holder is not None and holder.managed and \
            holder.container_name == holder.name:
        return holder
    if holder is not None:
        errs.forbidden(path, f'{target} belongs to a container this tool '
                       f'does not manage')
    else:
        errs.add(path, 'Not found', target, 'no container of this '
                 'deployment or another one managed by tripleo-docker-hook '
                 'has this name')
    return None


def _stale_dependency(c: model.Container, current: model.Observed,
                      recreated, ours: Mapping[str, model.Observed],
                      by_name: Mapping[str, model.Observed]) -> str:
    """Why a kept dependent must be recreated with what it names, or ''.

    It joined the namespaces/volumes of a container that this plan
    recreates, or of one created after it (replaced by an earlier or an
    interrupted run, or by another deployment)."""
    for field, target in c.depends_on:
        if target in recreated:
            return f'{target} is recreated ({field})'
        parent = ours.get(target) or by_name.get(target)
        if parent is not None and parent.created > current.created:
            return f'joined an older {target} ({field})'
    return ''


def compute(deployment_name: str, config_id: str,
            desired: model.Deployment,
            observed: Iterable[model.Observed],
            images: Optional[Mapping[str, Optional[str]]] = None,
            exec_records: Optional[Mapping[str, Mapping[str, Any]]] = None,
            recreate_on_image_change: bool = True,
            task_timeout: float = DEFAULT_TASK_TIMEOUT,
            pulled: Iterable[str] = (),
            start_timeout: float = DEFAULT_START_TIMEOUT,
            clashes_checked: bool = False) -> Plan:
    """The actions that converge the host to ``desired``.

    ``images`` maps an image reference to its local image ID (None: not
    present); references it does not mention are treated as present and
    unchanged.  ``pulled``: references this run already pulled (never in
    :attr:`Plan.pulls` again).  ``clashes_checked``: the caller already ran
    :func:`check_clashes` on this ``observed`` (it runs once, before config
    rendering).  Raises :class:`errors.ValidationError` when a wanted name
    is held by a container this tool does not manage or by another
    deployment, or an exec target cannot be found.

    ``task_timeout`` and ``start_timeout`` (seconds, the options of those
    names) become the ``timeout`` of the actions (a task's own timeout
    wins).
    """
    observed = list(observed)
    images = images or {}
    exec_records = exec_records or {}
    pulled = frozenset(pulled)
    if not clashes_checked:
        check_clashes(deployment_name, desired, observed)
    by_name: Dict[str, model.Observed] = {o.name: o for o in observed}
    ours: Dict[str, model.Observed] = {}
    temps: List[model.Observed] = []
    for o in observed:
        if not _is_ours(o, deployment_name):
            continue
        if o.name == o.container_name:
            ours[o.container_name] = o
        else:
            temps.append(o)
    errs = errors.ErrorList()
    desired = with_dependency_hashes(desired, observed, errs)
    desired_names = {c.name: c for c in desired.containers}
    #: names this plan (re)creates: an exec into one of them must re-run.
    recreated = set()

    # Leftovers of an interrupted replace.  A new container that was
    # started and healthy but never renamed is promoted instead of being
    # thrown away; anything else under a temporary name goes.
    leftovers = []
    retirements = []
    for o in sorted(temps, key=lambda o: (o.container_name, o.name)):
        c = desired_names.get(o.container_name)
        if o.name.startswith(o.container_name + RETIRED_SUFFIX):
            # set aside by an earlier run: its dependents go first
            retirements.append(_retirement(o, 'set aside by an earlier run'))
            continue
        if (c is not None and c.kind is model.Kind.SERVICE
                and o.name == temp_name(c.name)
                and c.name not in by_name
                and o.state == 'running' and o.health != 'unhealthy'
                and o.labels.get(model.LABEL_HASH) == container_hash(c)
                and not _image_drift(c, o, images,
                                     recreate_on_image_change)):
            leftovers.append(Action(PROMOTE, c.name, c, o,
                                    'interrupted replace: new container '
                                    'already running'))
            ours[c.name] = dataclasses.replace(o, name=c.name)
        else:
            leftovers.append(Action(REMOVE, o.name, observed=o,
                                    reason='leftover temporary container'))

    steps = []
    pulls: List[str] = []

    def want_image(c: model.Container, needed: bool) -> None:
        """Pull missing images of containers about to be created, and
        images with pull policy Always (to see whether they moved)."""
        if not c.image or c.image in pulls or c.image in pulled:
            return
        present = images.get(c.image, 'assumed') is not None
        if c.pull_policy == 'Always':
            pulls.append(c.image)
        elif needed and not present:
            if c.pull_policy == 'Never':
                errs.not_found(f'step_{c.step}.{c.name}.image', c.image)
                errs.errors[-1] = dataclasses.replace(
                    errs.errors[-1], detail='the image is not present '
                    'locally and its pull policy is Never')
            else:
                pulls.append(c.image)

    for step in desired.steps:
        groups = []
        for group in step.groups():
            actions = []
            for c in group:
                if c.kind is model.Kind.EXEC:
                    target = _exec_target(c, deployment_name, by_name,
                                          desired_names, errs)
                    actions.append(_plan_exec(c, target, exec_records,
                                              recreated))
                    continue
                current = ours.get(c.name)
                if c.kind is model.Kind.SERVICE:
                    action = _plan_service(c, current, images,
                                           recreate_on_image_change)
                    if not action.changes and c.depends_on:
                        why = _stale_dependency(c, current, recreated,
                                                ours, by_name)
                        if why:
                            action = Action(REPLACE, c.name, c, current,
                                            why)
                else:
                    action = _plan_task(c, current, images,
                                        recreate_on_image_change,
                                        exec_records.get(c.name))
                if action.changes:
                    recreated.add(c.name)
                want_image(c, action.changes)
                actions.append(action)
            groups.append(tuple(_carried_out(a, task_timeout, start_timeout)
                                for a in actions))
        steps.append(StepPlan(step.number, tuple(groups)))
    errs.raise_if_any()
    removals = tuple(_removal(o, 'no longer defined', name)
                     for name, o in sorted(ours.items())
                     if name not in desired_names
                     or desired_names[name].kind is model.Kind.EXEC)
    steps, deferred = _defer_joined_removals(steps)
    return Plan(deployment_name, config_id, tuple(pulls),
                tuple(_carried_out(a, task_timeout, start_timeout)
                      for a in leftovers),
                removals, tuple(steps), tuple(retirements + deferred))


def _retirement(o: model.Observed, reason: str, name: str = '') -> Action:
    return dataclasses.replace(_removal(o, reason, name), may_stay=True)


def _defer_joined_removals(steps: List[StepPlan]
                           ) -> Tuple[List[StepPlan], List[Action]]:
    """Removals ordered dependents first (issue 17).

    A replaced container that containers recreated later in this plan
    join (``pid``/``ipc``/``uts: container:X``, ``volumes_from``) is set
    aside, not removed: podman refuses to remove a container others still
    join, so it goes in :attr:`Plan.retirements`, after their old
    containers went.  Those dependents get no rollback target: their old
    container joined the old parent (podman would start that again with
    it).  Docker needs neither and is served by the same order.
    """
    changed = [a for s in steps for g in s.groups for a in g
               if a.verb in (REPLACE, RUN) and a.observed is not None
               and a.container is not None
               and a.container.kind is not model.Kind.EXEC]
    joined: Dict[str, List[str]] = {}
    for a in changed:
        for _, target in a.container.depends_on:
            if target != a.name and a.name not in joined.get(target, []):
                joined.setdefault(target, []).append(a.name)
    parents = {a.name for a in changed if a.verb is REPLACE
               and a.name in joined}
    if not parents:
        return steps, []
    retirements = []

    def one(a: Action) -> Action:
        if a.verb is not REPLACE:
            return a
        if a.name in parents:
            a = dataclasses.replace(a, defer_removal=True)
            # the replace stopped it: just removed
            retirements.append(dataclasses.replace(_retirement(
                a.observed, f'replaced; removed after '
                f'{", ".join(sorted(joined[a.name]))}', a.retire_as),
                stop=Stop.NONE))
        if any(t in parents for _, t in a.container.depends_on):
            a = dataclasses.replace(a, rollback_to='')
        return a

    steps = [dataclasses.replace(s, groups=tuple(
        tuple(one(a) for a in g) for g in s.groups)) for s in steps]
    return steps, retirements


def _removal(o: model.Observed, reason: str, name: str = '') -> Action:
    """REMOVE ``o``; a live one is stopped first, with its own stop
    timeout (``stop_grace_period``), a dead one just removed."""
    action = Action(REMOVE, name or o.name, observed=o, reason=reason,
                    after_dependents=True)
    return _graceful(action) if o.state in ALIVE else action


def _graceful(a: Action) -> Action:
    """``a`` stopping its observed container gracefully, with the stop
    timeout that container was created with."""
    timeout, default = recorded_stop_timeout(a.observed)
    return dataclasses.replace(a, stop=Stop.GRACEFUL, stop_timeout=timeout,
                               stop_default=default)


def _carried_out(a: Action, task_timeout: float,
                 start_timeout: float) -> Action:
    """``a`` with how it is carried out: stop mode, timeout, rollback
    target, exec or task, record or container.  Every such choice is made
    here, none by the executor."""
    o, c = a.observed, a.container
    if a.verb is REMOVE:
        return _removal(o, a.reason, a.name)
    if a.verb is CREATE:
        return dataclasses.replace(a, timeout=start_timeout)
    if a.verb is REPLACE:
        # The old one is stopped nicely only once the new one exists; a
        # failed stop or start removes the new one and starts it again.
        return dataclasses.replace(_graceful(a), rollback_to=o.id,
                                   timeout=start_timeout,
                                   retire_as=retired_name(a.name, o.id))
    if a.verb is RUN:
        # As given (whole seconds stay whole: "still running after 5 s").
        timeout = c.timeout or task_timeout
        if c.kind is model.Kind.EXEC:
            return dataclasses.replace(a, timeout=timeout,
                                       exec_in=c.exec_target)
        if o is not None and o.state == 'running' and o.labels.get(
                model.LABEL_KIND) == model.Kind.SERVICE.value:
            a = _graceful(a)   # was a service: stop it nicely
        # (else an old task run is just removed)
        return dataclasses.replace(a, timeout=timeout,
                                   record_and_remove=c.auto_remove)
    return a


def _change(c: model.Container, current: model.Observed, images,
            recreate_on_image_change: bool) -> str:
    """Why an existing container no longer matches its definition."""
    if current.labels.get(model.LABEL_HASH) != container_hash(c):
        return DEFINITION_CHANGED
    if _image_drift(c, current, images, recreate_on_image_change):
        return 'image changed'
    return ''


def _plan_service(c: model.Container, current: Optional[model.Observed],
                  images, recreate_on_image_change: bool) -> Action:
    if current is None:
        return Action(CREATE, c.name, c, reason='new')
    change = _change(c, current, images, recreate_on_image_change)
    if change:
        return Action(REPLACE, c.name, c, current, change)
    if current.state not in ALIVE:
        detail = current.state or 'gone'
        if current.exit_code is not None:
            detail += f' with code {current.exit_code}'
        return Action(REPLACE, c.name, c, current, f'container is {detail}')
    return Action(KEEP, c.name, c, current)


def _plan_task(c: model.Container, current: Optional[model.Observed],
               images, recreate_on_image_change: bool,
               record: Optional[Mapping[str, Any]] = None) -> Action:
    if current is None:
        if c.auto_remove and record is not None:
            return _plan_removed_task(c, record, images,
                                      recreate_on_image_change)
        return Action(RUN, c.name, c, reason='new')
    change = _change(c, current, images, recreate_on_image_change)
    if change:
        return Action(RUN, c.name, c, current, change)
    if current.state in ('running', 'restarting', 'paused'):
        return Action(RUN, c.name, c, current,
                      'interrupted: still running from an earlier apply')
    if current.state != 'exited' or current.exit_code is None:
        return Action(RUN, c.name, c, current,
                      f'never ran to completion ({current.state})')
    if current.exit_code not in c.exit_codes:
        return Action(RUN, c.name, c, current,
                      f'failed before with code {current.exit_code}')
    return Action(KEEP, c.name, c, current, f'done, code {current.exit_code}')


def _plan_removed_task(c: model.Container, record: Mapping[str, Any],
                       images, recreate_on_image_change: bool) -> Action:
    """A ``remove: true`` task leaves no container: its record decides
    (written by apply after the exit code and output were collected)."""
    if record.get('hash') != container_hash(c):
        return Action(RUN, c.name, c, reason='definition changed')
    wanted = images.get(c.image)
    if recreate_on_image_change and wanted and record.get('image_id') and \
            wanted != record['image_id']:
        return Action(RUN, c.name, c, reason='image changed')
    if not record.get('ok'):
        return Action(RUN, c.name, c, reason=f'failed before with code '
                      f'{record.get("exit_code")}')
    return Action(KEEP, c.name, c, reason=f'done, code '
                  f'{record.get("exit_code")} (container removed)')


def _plan_exec(c: model.Container, target: Optional[model.Observed],
               records: Mapping[str, Mapping[str, Any]],
               recreated) -> Action:
    rec = records.get(c.name)
    if rec is None:
        return Action(RUN, c.name, c, reason='new', target=target)
    if rec.get('hash') != container_hash(c):
        return Action(RUN, c.name, c, reason='definition changed',
                      target=target)
    if not rec.get('ok'):
        return Action(RUN, c.name, c, target=target,
                      reason=f'failed before with code {rec.get("exit_code")}')
    if c.exec_target in recreated or target is None or \
            rec.get('target_id') != target.id:
        return Action(RUN, c.name, c, reason='target container is new',
                      target=target)
    return Action(KEEP, c.name, c, reason=f'done, code {rec.get("exit_code")}',
                  target=target)


def image_refs(desired: model.Deployment) -> List[str]:
    """The image references whose local image IDs :func:`compute` needs
    (an exec runs in another container: it has none), sorted."""
    return sorted({c.image for c in desired.containers
                   if c.kind is not model.Kind.EXEC and c.image})


def needs_explaining(plan: Plan) -> bool:
    """Whether :func:`explain` has anything to explain (else the shell
    reads no earlier definitions)."""
    return any(a.reason == DEFINITION_CHANGED for a in plan.actions)


def explain(plan: Plan, previous: Iterable[model.Container]) -> Plan:
    """``plan`` with the changed fields of every "definition changed"
    action (see :mod:`diff`).

    ``previous`` are earlier definitions of the deployment's containers
    (from ``state_dir``, config hashes folded in); the one whose hash is
    the running container's hash label is what the container runs, so the
    lines are exact, never a guess.
    """
    from tripleo_docker_hook import diff
    by_hash = {(c.name, container_hash(c)): c for c in previous}
    recreated = {a.name for a in plan.actions
                 if a.verb in (CREATE, REPLACE, RUN)}

    def one(a: Action) -> Action:
        if a.reason != DEFINITION_CHANGED or a.observed is None or \
                a.container is None:
            return a
        old = by_hash.get((a.name, a.observed.labels.get(model.LABEL_HASH)))
        details = diff.container_changes(old, a.container) if old else ()
        # a dependent whose own fields are equal: what it names changed
        details = details or tuple(
            f'{field}: {target} is recreated'
            for field, target in a.container.depends_on
            if target in recreated)
        return dataclasses.replace(
            a, details=details or diff.explain_hash_change(old, a.container))

    steps = tuple(dataclasses.replace(s, groups=tuple(
        tuple(one(a) for a in group) for group in s.groups))
        for s in plan.steps)
    return dataclasses.replace(plan, steps=steps)


def delete(deployment_name: str, config_id: str,
           observed: Iterable[model.Observed],
           reason: str = 'DELETE') -> Plan:
    """Remove every container of the deployment (``deploy_action: DELETE``),
    temporary leftovers included."""
    return delete_many([deployment_name], config_id, observed, reason)


def delete_many(names: Iterable[str], config_id: str,
                observed: Iterable[model.Observed],
                reason: str = 'DELETE') -> Plan:
    """One plan removing every container of the deployments ``names``
    (in parallel), in that order; the plan's deployment is the names
    joined by commas."""
    names, observed = list(names), list(observed)
    removals = tuple(
        _removal(o, reason) for name in names
        for o in sorted((o for o in observed if _is_ours(o, name)),
                        key=lambda o: (o.container_name, o.name)))
    return Plan(','.join(names), config_id, removals=removals)


def quarantine(deployment_name: str, config_id: str,
               names: Iterable[str],
               observed: Iterable[model.Observed]) -> Plan:
    """Remove the deployment's containers ``names`` (and their temporary
    leftovers): their subPath now resolves outside its volume, and Docker
    would bind that at their next start (restart policy, reboot).  Removed,
    not stopped: a stopped container with ``restart: always`` comes back
    when the daemon restarts."""
    wanted = set(names)
    hits = sorted((o for o in observed if _is_ours(o, deployment_name)
                   and o.container_name in wanted),
                  key=lambda o: (o.container_name, o.name))
    return Plan(deployment_name, config_id, removals=tuple(
        _removal(o, 'its subPath resolves outside the volume')
        for o in hits))
