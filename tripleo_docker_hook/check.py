"""``check``: is the host as deployed?  A monitoring probe.

What users of every peer ask for (peers-live.md §3: ``kolla-ansible
check``, compose ``up --wait``): fail, and say why, when a defined service
container is missing, not running, restarting, unhealthy, or runs a
definition other than the one deployed.

Exit codes follow the Nagios plugin convention that Sensu, Icinga,
Zabbix agents and Consul script checks understand: :data:`OK` (0),
:data:`WARNING` (1), :data:`CRITICAL` (2), :data:`UNKNOWN` (3, the check
itself could not run: engine unreachable, unknown deployment).

:func:`evaluate` is pure; :func:`run` gathers its input.
"""

import dataclasses
from typing import Any, Iterable, List, Mapping, Optional

from tripleo_docker_hook import diff
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
SEVERITY = {OK: 'OK', WARNING: 'WARNING', CRITICAL: 'CRITICAL',
            UNKNOWN: 'UNKNOWN'}

# What a finding says (the ``problem`` column), one word each.
MISSING = 'missing'
NOT_RUNNING = 'not running'
RESTARTING = 'restarting'
UNHEALTHY = 'unhealthy'
STARTING = 'health starting'
DRIFTED = 'other definition'
TASK_FAILED = 'task failed'
EXEC_FAILED = 'exec failed'
APPLY_FAILED = 'last apply failed'
UNDEFINED = 'not defined'
NO_STATE = 'no definition'


@dataclasses.dataclass(frozen=True)
class Finding:
    deployment: str
    container: str
    severity: int
    problem: str
    detail: str = ''

    @property
    def level(self) -> str:
        return SEVERITY[self.severity]


def status(findings: Iterable[Finding]) -> int:
    """The exit code of a set of findings: the worst severity."""
    return max((f.severity for f in findings), default=OK)


def _exit(o: model.Observed) -> str:
    return '' if o.exit_code is None else f', exit code {o.exit_code}'


def evaluate(deployment: str, desired: Optional[model.Deployment],
             observed: Iterable[model.Observed],
             exec_records: Optional[Mapping[str, Mapping[str, Any]]] = None,
             last_error: Optional[str] = None,
             previous: Iterable[model.Container] = ()) -> List[Finding]:
    """Findings for one deployment.

    ``desired`` is its deployed definition (None: none kept here),
    ``observed`` the host's containers, ``last_error`` set when the last
    apply failed, ``previous`` earlier definitions (to say what differs
    from a container running another one).
    """
    ours = {o.name: o for o in observed
            if o.managed and o.deployment == deployment}
    findings: List[Finding] = []

    def add(name, severity, problem, detail=''):
        findings.append(Finding(deployment, name, severity, problem, detail))

    if last_error is not None:
        add('', WARNING, APPLY_FAILED, last_error)
    if desired is None:
        for name in sorted(ours):
            add(name, WARNING, NO_STATE, 'a managed container whose '
                'deployment has no deployed definition here')
        return findings
    by_hash = {(c.name, planning.container_hash(c)): c for c in previous}
    defined = set()
    for c in desired.containers:
        defined.add(c.name)
        o = ours.get(c.name)
        if c.kind is model.Kind.EXEC:
            rec = (exec_records or {}).get(c.name)
            if rec is not None and not rec.get('ok'):
                add(c.name, WARNING, EXEC_FAILED,
                    f'exit code {rec.get("exit_code")}')
            continue
        if c.kind is model.Kind.TASK:
            if o is not None and o.state == 'exited' and \
                    o.exit_code is not None and \
                    o.exit_code not in c.exit_codes:
                add(c.name, WARNING, TASK_FAILED,
                    f'exit code {o.exit_code}, allowed: '
                    f'{", ".join(map(str, c.exit_codes))}')
            continue
        if o is None:
            add(c.name, CRITICAL, MISSING, 'defined but not on the engine')
            continue
        if o.state == 'restarting':
            add(c.name, CRITICAL, RESTARTING,
                f'the process keeps exiting{_exit(o)}; see its logs')
        elif o.state != 'running':
            add(c.name, CRITICAL, NOT_RUNNING, f'{o.state}{_exit(o)}')
        elif o.health == 'unhealthy':
            add(c.name, CRITICAL, UNHEALTHY, 'its health check fails')
        elif o.health == 'starting':
            add(c.name, WARNING, STARTING, 'health check not passed yet')
        wanted = planning.container_hash(c)
        label = o.labels.get(model.LABEL_HASH)
        if label != wanted:
            old = by_hash.get((c.name, label))
            changes = diff.explain_hash_change(old, c)
            add(c.name, WARNING, DRIFTED,
                'runs a definition other than the deployed one: ' +
                '; '.join(changes))
    for name, o in sorted(ours.items()):
        if o.container_name not in defined or name != o.container_name:
            add(name, WARNING, UNDEFINED, 'managed container not in the '
                'deployed definition (a leftover of an interrupted run?)')
    return findings


def _drifted(deployment: str, desired: model.Deployment,
             managed: Iterable[model.Observed]) -> bool:
    hashes = {c.name: planning.container_hash(c)
              for c in desired.containers}
    return any(o.labels.get(model.LABEL_HASH) != hashes.get(o.name)
               for o in managed if o.deployment == deployment
               and o.name in hashes)


def run(conf, engine, masker, deployments: Iterable[str] = ()
        ) -> List[Finding]:
    """Findings for the chosen deployments (all known here when empty).

    Raises :class:`inventory.UnknownName` for an unknown deployment and
    :class:`errors.EngineError` when the engine is unreachable.
    """
    from tripleo_docker_hook import inventory
    from tripleo_docker_hook import state
    observed = engine.list_containers()
    managed = [o for o in observed if o.managed]
    findings: List[Finding] = []
    for name in inventory.selected(conf, managed, deployments):
        st = state.DeploymentState(conf.state_dir, name)
        current = st.read(state.CURRENT)
        if current is None and not [o for o in managed
                                    if o.deployment == name]:
            continue  # deleted: nothing should run
        desired = inventory.definition(conf, current, masker, observed)
        error = None
        if st.read(state.ATTEMPTED) is not None:
            error = (st.read(state.RESULT) or {}).get('error') or \
                'see the deployment\'s deploy_stderr'
        previous = []
        if desired is not None and _drifted(name, desired, managed):
            # only then: parsing every kept definition costs time
            for rec in st.kept():
                parsed = inventory.definition(conf, rec, masker, observed)
                previous += parsed.containers if parsed else ()
        findings += evaluate(name, desired, observed, st.execs(), error,
                             previous)
    return [dataclasses.replace(f, detail=masker.mask(f.detail))
            for f in findings]
