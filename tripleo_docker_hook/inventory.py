"""What is deployed on this host: the data behind ``list``, ``show`` and
the commands that take a CONTAINER name (print-cmd, run-debug, logs, exec).

Reads only: one container list, the definitions kept in ``state_dir``
(:mod:`state`) and, for ``list``, one inspect per managed container (the
start time is not in the list).  The CLI formats what these functions
return; every text that may hold a secret is masked here.
"""

import dataclasses
import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

from tripleo_docker_hook import deploy
from tripleo_docker_hook import errors
from tripleo_docker_hook import host_units
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import state


class UnknownName(errors.HookError):
    """The operator named a deployment or container this host does not
    have (or one this tool does not manage)."""

    status = 1


@dataclasses.dataclass(frozen=True)
class ContainerRow:
    """One line of ``list``."""

    deployment: str
    name: str
    image: str
    state: str
    health: str
    step: Optional[int]
    start_order: Optional[int]
    kind: str
    config_hash: str      # the definition's hash label, first 12 digits
    started_at: str       # ISO 8601 from the engine; '' when never started
    exit_code: Optional[int] = None
    id: str = ''


def managed(engine) -> List[model.Observed]:
    return [o for o in engine.list_containers() if o.managed]


def known_deployments(conf, observed: Iterable[model.Observed]) -> List[str]:
    """Deployments with state here or managed containers on the host."""
    return sorted(set(state.deployments(conf.state_dir)) |
                  {o.deployment for o in observed})


def selected(conf, observed: List[model.Observed],
             names: Iterable[str]) -> List[str]:
    """``names`` checked against what this host knows (all when empty)."""
    known = known_deployments(conf, observed)
    names = list(names)
    if not names:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownName(f'unknown deployment(s): {", ".join(unknown)} '
                          f'(known here: {", ".join(known) or "none"})')
    return names


def definition(conf, rec, masker,
               observed: Optional[Iterable[model.Observed]] = None
               ) -> Optional[model.Deployment]:
    """A kept definition with its config hashes and, given the host's
    containers, its dependency hashes (see
    :func:`deploy.stored_definition`)."""
    return deploy.stored_definition(rec, conf, masker, observed)


def deployed(conf, name: str, masker,
             observed: Optional[Iterable[model.Observed]] = None
             ) -> Optional[model.Deployment]:
    """The definition last applied successfully (``current``)."""
    st = state.DeploymentState(conf.state_dir, name)
    return definition(conf, st.read(state.CURRENT), masker, observed)


def running_definition(conf, o: model.Observed, masker,
                       observed: Iterable[model.Observed] = ()
                       ) -> Tuple[Optional[model.Container], Dict[str, Any]]:
    """The definition a managed container was created from: the kept one
    whose hash is its hash label; ``(None, {})`` when none is on record.
    ``observed``: the host's containers (the hashes of the containers a
    dependent names are part of its own)."""
    st = state.DeploymentState(conf.state_dir, o.deployment)
    wanted = o.labels.get(model.LABEL_HASH)
    observed = list(observed)
    for rec in st.kept():
        parsed = definition(conf, rec, masker, observed)
        c = parsed.container(o.container_name) if parsed else None
        if c is not None and planning.container_hash(c) == wanted:
            return c, rec
    return None, {}


@dataclasses.dataclass(frozen=True)
class Found:
    """A CONTAINER argument resolved."""

    deployment: str
    name: str
    observed: Optional[model.Observed]
    container: model.Container
    config_id: str
    #: the container runs exactly this definition (hash label matches)
    exact: bool

    def labels(self) -> Dict[str, str]:
        return planning.labels_for(self.deployment, self.config_id,
                                   self.container)


def find(conf, engine, name: str, masker) -> Found:
    """A managed container by its Docker name, with its definition.

    A container that exists runs the definition found by its hash label;
    one that is defined but missing, the deployed definition.  Raises
    :class:`UnknownName` for any other name, and for containers this tool
    does not manage (never touched).
    """
    everything = engine.list_containers()
    holder = next((o for o in everything if o.name == name), None)
    if holder is not None and not holder.managed:
        raise UnknownName(f'container {name} is not managed by '
                          f'tripleo-docker-hook; left alone')
    if holder is not None:
        c, rec = running_definition(conf, holder, masker, everything)
        if c is not None:
            return Found(holder.deployment, name, holder, c,
                         holder.labels.get(model.LABEL_CONFIG_ID, ''), True)
        current = deployed(conf, holder.deployment, masker, everything)
        c = current.container(holder.container_name) if current else None
        if c is None:
            raise UnknownName(
                f'container {name} (deployment {holder.deployment}): its '
                f'definition is not in {conf.state_dir}')
        rec = state.DeploymentState(conf.state_dir, holder.deployment
                                    ).read(state.CURRENT) or {}
        return Found(holder.deployment, name, holder, c,
                     str(rec.get('id', '')), False)
    for dep in state.deployments(conf.state_dir):
        st = state.DeploymentState(conf.state_dir, dep)
        rec = st.read(state.CURRENT)
        parsed = definition(conf, rec, masker, everything)
        c = parsed.container(name) if parsed else None
        if c is not None and c.kind is not model.Kind.EXEC:
            return Found(dep, name, None, c, str(rec.get('id', '')), True)
    raise UnknownName(f'no container {name} here: not on the engine and '
                      f'not in any deployed definition')


def rows(conf, engine, masker, deployments: Iterable[str] = ()
         ) -> List[ContainerRow]:
    """``list``: every managed container (and exec record) of the chosen
    deployments, by deployment, step, start order and name."""
    observed = managed(engine)
    names = selected(conf, observed, deployments)
    result: List[ContainerRow] = []
    for dep in names:
        defined = deployed(conf, dep, masker)
        ours = sorted((o for o in observed if o.deployment == dep),
                      key=lambda o: o.name)
        for o in ours:
            c = defined.container(o.container_name) if defined else None
            step = o.labels.get(model.LABEL_STEP, '')
            try:
                started = engine.inspect(o.id)['State'].get('StartedAt', '')
            except errors.HookError:  # removed meanwhile
                started = ''
            if started.startswith('0001-'):
                started = ''
            result.append(ContainerRow(
                deployment=dep, name=o.name, image=o.image, state=o.state,
                health=o.health,
                step=int(step) if step.isdigit() else None,
                start_order=c.start_order if c else None,
                kind=o.labels.get(model.LABEL_KIND, ''),
                config_hash=o.labels.get(model.LABEL_HASH, '')[:12],
                started_at=started, exit_code=o.exit_code, id=o.id[:12]))
        st = state.DeploymentState(conf.state_dir, dep)
        for name, rec in sorted(st.execs().items()):
            c = defined.container(name) if defined else None
            result.append(ContainerRow(
                deployment=dep, name=name,
                image=f'(exec in {c.exec_target})' if c else '(exec)',
                state='done' if rec.get('ok') else 'failed', health='',
                step=c.step if c else None,
                start_order=c.start_order if c else None, kind='exec',
                config_hash=str(rec.get('hash', ''))[:12], started_at='',
                exit_code=rec.get('exit_code')))
    key = {n: i for i, n in enumerate(names)}
    result.sort(key=lambda r: (key[r.deployment], r.step or 0,
                               r.start_order or 0, r.name))
    return result


def _masked(data: Any, masker) -> Any:
    return json.loads(masker.mask(json.dumps(data, default=str)))


def show(conf, engine, name: str, masker) -> Dict[str, Any]:
    """``show``: the deployed definition (masked), the kept generations
    and the last result of one deployment."""
    observed = managed(engine)
    selected(conf, observed, [name])
    st = state.DeploymentState(conf.state_dir, name)
    current = st.read(state.CURRENT)
    attempted = st.read(state.ATTEMPTED)
    for rec in (current, attempted):
        if rec:
            definition(conf, rec, masker)  # their values join the masker
    generations = []
    for number, rec in st.generations():
        definition(conf, rec, masker)
        generations.append({
            'generation': number, 'config_id': rec.get('id', ''),
            'time': rec.get('time'),
            'current': bool(current) and state.same_config(current, rec),
            'images': sorted(_images(rec.get('config')))})
    result = st.read(state.RESULT) or {}
    return _masked({
        'deployment': name,
        'config_id': (current or {}).get('id', ''),
        'definition': (current or {}).get('config'),
        'generations': generations,
        'rollback_target': _target_label(st, generations),
        'last_apply': ('failed' if attempted is not None else
                       'succeeded' if current else 'none'),
        'last_result': result,
        'containers': sorted(o.name for o in observed
                             if o.deployment == name),
        'execs': st.execs(),
        'host_units': host_units.replaced_units(conf.state_dir, name),
        'state_dir': st.path,
    }, masker)


def _target_label(st: state.DeploymentState, generations) -> str:
    target = st.rollback_target()
    if target is None:
        return ''
    for g in reversed(generations):
        if state.same_config(
                {'config': target.get('config')},
                st.generation(g['generation'])):
            return f'generation {g["generation"]}'
    return f'config {target.get("id", "")}'


def _images(config: Any) -> set:
    """Image references named anywhere in a raw definition (display)."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ('image', 'config_image') and isinstance(v, str):
                    found.add(v)
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(config)
    return found
