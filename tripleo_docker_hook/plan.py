"""Planning: a pure diff of the desired model against the observed host.

``compute`` never touches Docker; it gets the model and the result of one
container list, and returns a :class:`Plan` that :mod:`apply` executes and
that ``--dry-run`` prints.  (Foundation version: create / keep / replace /
remove; the reconcile issue extends it.)
"""

import dataclasses
from typing import Dict, Iterable, List, Optional, Tuple

from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

CREATE = 'create'
KEEP = 'keep'
REPLACE = 'replace'
REMOVE = 'remove'


@dataclasses.dataclass(frozen=True)
class Action:
    verb: str
    name: str
    container: Optional[model.Container] = None
    observed: Optional[model.Observed] = None
    reason: str = ''

    def __str__(self) -> str:
        text = f'{self.verb} {self.name}'
        return f'{text} ({self.reason})' if self.reason else text


@dataclasses.dataclass(frozen=True)
class Plan:
    deployment: str
    config_id: str
    removals: Tuple[Action, ...] = ()
    #: step → levels → actions; levels run in order, actions of a level
    #: may run in parallel.
    steps: Tuple[Tuple[Tuple[Action, ...], ...], ...] = ()

    @property
    def actions(self) -> Tuple[Action, ...]:
        return self.removals + tuple(a for step in self.steps
                                     for level in step for a in level)

    def describe(self) -> List[str]:
        return [str(a) for a in self.actions]


def container_hash(container: model.Container) -> str:
    return container.source_hash


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
    })
    return labels


def compute(deployment_name: str, config_id: str,
            desired: model.Deployment,
            observed: Iterable[model.Observed]) -> Plan:
    """The actions that converge the host to ``desired``.

    Raises :class:`errors.ValidationError` when a wanted name is held by a
    container this tool does not manage, or by another deployment.
    """
    observed = list(observed)
    by_name: Dict[str, model.Observed] = {o.name: o for o in observed}
    ours = {o.container_name: o for o in observed
            if o.managed and o.deployment == deployment_name}
    errs = errors.ErrorList()
    steps = []
    for step in desired.steps:
        levels = []
        for level in step.levels():
            actions = []
            for c in level:
                holder = by_name.get(c.name)
                if holder is not None and not (
                        holder.managed and holder.deployment ==
                        deployment_name):
                    owner = (f'deployment "{holder.deployment}"'
                             if holder.managed else 'another tool')
                    errs.duplicate(f'step_{c.name and step.number}.{c.name}',
                                   c.name)
                    errs.errors[-1] = dataclasses.replace(
                        errs.errors[-1], detail='a container of this name '
                        f'exists and belongs to {owner}; it is left alone')
                    continue
                current = ours.get(c.name)
                if current is None:
                    actions.append(Action(CREATE, c.name, c))
                elif current.labels.get(model.LABEL_HASH) != \
                        container_hash(c):
                    actions.append(Action(REPLACE, c.name, c, current,
                                          'definition changed'))
                elif current.state != 'running':
                    actions.append(Action(REPLACE, c.name, c, current,
                                          f'container is {current.state}'))
                else:
                    actions.append(Action(KEEP, c.name, c, current))
            levels.append(tuple(actions))
        steps.append(tuple(levels))
    errs.raise_if_any()
    wanted = {c.name for c in desired.containers}
    removals = tuple(Action(REMOVE, name, observed=o,
                            reason='no longer defined')
                     for name, o in sorted(ours.items()) if name not in wanted)
    return Plan(deployment_name, config_id, removals, tuple(steps))


def delete(deployment_name: str, config_id: str,
           observed: Iterable[model.Observed]) -> Plan:
    """Remove every container of the deployment (``deploy_action: DELETE``)."""
    ours = sorted((o for o in observed
                   if o.managed and o.deployment == deployment_name),
                  key=lambda o: o.container_name)
    return Plan(deployment_name, config_id, tuple(
        Action(REMOVE, o.container_name, observed=o, reason='DELETE')
        for o in ours))
