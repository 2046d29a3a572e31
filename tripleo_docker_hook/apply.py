"""Applying a plan: the side effects, through :class:`engine.Engine`.

The executor decides nothing: every choice (the verb, whether and how an
old container is stopped, a start's or run's timeout, the rollback target,
exec or task, record or container) is data on the :class:`plan.Action` it
is given; it looks only at what the engine answers while it carries an
action out (an exit code, a container's state).

Order: leftovers of an interrupted run, then containers no longer defined
(stopped in parallel; a removal the engine refuses while others still join
the container is retried after the rest, see ``Action.after_dependents``),
then each step in order, each ``start_order`` group
in order, the actions of one group in parallel on a bounded pool, then
the replaced containers that were set aside (``Plan.retirements``: the
dependents that joined them are gone by then).  The first group with a
failure finishes (nothing is cancelled half-way) and stops everything
after it.

A replace never takes the old container down before the new one exists:
create under a temporary name, stop old, start new, wait until it runs (and
is healthy when it has a health check); success removes old (or sets it aside,
see :attr:`plan.Plan.retirements`) and renames new, failure removes new
and starts old again.  Every intermediate state
is recognisable from names and labels, so a run killed at any instant is
finished by the next one (see :func:`plan.compute`, leftovers).
"""

import concurrent.futures
import dataclasses
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from tripleo_docker_hook import errors
from tripleo_docker_hook import host_units
from tripleo_docker_hook import hostpath
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning

LOG = logging.getLogger(__name__)

#: Bytes of one task's output kept for deploy_stdout (its tail).
TASK_OUTPUT_BYTES = 16384
TASK_OUTPUT_LINES = 200


@dataclasses.dataclass
class Settings:
    """How the executor works (not what it does: that is the plan)."""

    workers: int = 8
    start_settle: float = 0.0
    host_root: str = '/'

    @classmethod
    def from_conf(cls, conf) -> 'Settings':
        if conf is None:
            return cls()
        return cls(**{f.name: getattr(conf, f.name, f.default)
                      for f in dataclasses.fields(cls)})


@dataclasses.dataclass
class Outcome:
    action: planning.Action
    lines: List[str] = dataclasses.field(default_factory=list)
    error: str = ''
    #: CREATE: started, still to be checked for running/healthy.
    started: str = ''
    #: REMOVE (``after_dependents``): refused for now, retried after the
    #: rest of the group
    refused: bool = False


def _cap(text: str, masker=None) -> List[str]:
    """The tail of a task's output as report lines: masked first, then
    cut, so no part of a secret straddling the cut can show."""
    if masker is not None:
        text = masker.mask(text)
    data = text.encode('utf-8', 'replace')
    cut = ''
    if len(data) > TASK_OUTPUT_BYTES:
        cut = f'[... {len(data) - TASK_OUTPUT_BYTES} bytes cut ...]'
        text = data[-TASK_OUTPUT_BYTES:].decode('utf-8', 'ignore')
    lines = text.rstrip('\n').splitlines()[-TASK_OUTPUT_LINES:]
    return ([f'    | {cut}'] if cut else []) + [f'    | {line}'
                                                  for line in lines]


class Applier:
    """Executes one plan; keeps the exec records up to date in place."""

    def __init__(self, plan: planning.Plan, engine, report, conf=None,
                 exec_records: Optional[Dict[str, Dict[str, Any]]] = None,
                 units=None):
        self.plan = plan
        self.engine = engine
        self.report = report
        self.settings = Settings.from_conf(conf)
        self.exec_records = exec_records if exec_records is not None else {}
        #: host units taken over / given back (host_units.UnitExecutor)
        self.units = units or host_units.NoUnits()

    # -- driver -------------------------------------------------------------
    def execute(self) -> None:
        self._group(self.plan.leftovers, 'leftovers')
        self._group(self.plan.removals, 'removals')
        self.units.after_removals()
        for step in self.plan.steps:
            try:
                for order, group in step.by_start_order():
                    # Host units a group's containers replace are stopped
                    # right before those containers start.
                    self.units.before_group(step.number, order)
                    self._group(group, f'step {step.number} start_order '
                                f'{order}')
            except Exception as exc:
                self.units.step_failed(step.number, errors.first_line(exc))
                raise
        self._group(self.plan.retirements, 'retirements')
        self.units.finished()

    def _group(self, actions: Sequence[planning.Action], where: str) -> None:
        # Kept containers are listed once, in the plan; here only what
        # was done.
        todo = [a for a in actions if a.changes]
        if not todo:
            return
        outcomes = self._parallel(self._do, todo)
        outcomes = self._retry_refused(outcomes)
        started = [o for o in outcomes if o.started and not o.error]
        if started:
            self._verify_started(started)
        failed = [o for o in outcomes if o.error]
        for o in outcomes:
            for line in o.lines:
                self.report.info(line)
            if o.error:
                self.report.error(o.error)
        if failed:
            names = ', '.join(o.action.name for o in failed)
            raise errors.DeploymentFailed(
                f'{where}: {len(failed)} of {len(todo)} actions failed '
                f'({names}); later steps were not started')

    def _retry_refused(self, outcomes: List[Outcome]) -> List[Outcome]:
        """Removals the engine refused while other containers still joined
        them (``Action.after_dependents``), tried again after each wave as
        long as the last wave removed something: dependents go first."""
        tried = len(outcomes)
        pending = [i for i, o in enumerate(outcomes) if o.refused]
        while pending and len(pending) < tried:
            tried = len(pending)
            again = self._parallel(self._do,
                                   [outcomes[i].action for i in pending])
            for i, o in zip(pending, again):
                outcomes[i] = o
            pending = [i for i in pending if outcomes[i].refused]
        return outcomes

    def _parallel(self, func: Callable[[planning.Action], Outcome],
                  actions: Sequence[planning.Action]) -> List[Outcome]:
        if len(actions) == 1:
            return [self._guard(func, actions[0])]
        workers = max(1, min(self.settings.workers, len(actions)))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda a: self._guard(func, a), actions))

    @staticmethod
    def _guard(func, action: planning.Action) -> Outcome:
        try:
            return func(action)
        except errors.HookError as exc:
            return Outcome(action, error=f'{action.name}: {exc}')
        except Exception as exc:  # one broken action must not hide others
            LOG.exception('%s failed', action)
            return Outcome(action, error=f'{action.name}: unexpected '
                           f'{type(exc).__name__}: {errors.first_line(exc)}')

    def _do(self, action: planning.Action) -> Outcome:
        verb = action.verb
        if verb is planning.Verb.REMOVE:
            return self._remove(action)
        if verb is planning.Verb.PROMOTE:
            self.engine.rename(action.observed.id, action.name)
            return Outcome(action, [f'promoted {action.name} '
                                    f'({action.reason})'])
        if verb is planning.Verb.CREATE:
            return self._create(action)
        if verb is planning.Verb.REPLACE:
            return self._replace(action)
        if verb is planning.Verb.RUN:
            if action.exec_in:
                return self._exec(action)
            return self._task(action)
        raise errors.DeploymentFailed(f'unknown action {verb}')

    def _take_down(self, action: planning.Action) -> None:
        """Stop (as ``action.stop`` says) and remove ``action.observed``."""
        o = action.observed
        if action.stop is planning.Stop.GRACEFUL:
            # The container's own StopTimeout applies (stop_grace_period).
            try:
                self._stop_gracefully(action)
            except errors.EngineNotFound:
                pass   # gone meanwhile: nothing left to remove
        self.engine.remove(o.id, force=True)

    def _stop_gracefully(self, action: planning.Action) -> None:
        """Stop ``action.observed`` with the stop timeout the plan read
        from its label (else the engine reads it)."""
        self.engine.stop(action.observed.id, action.stop_timeout,
                         engine_default=action.stop_default)

    @staticmethod
    def _timeout(action: planning.Action) -> float:
        """Seconds the action's run or start may take (its own, as
        planned; an action built by hand: the plan's default)."""
        if action.timeout is not None:
            return action.timeout
        if action.verb is planning.Verb.RUN:
            return planning.DEFAULT_TASK_TIMEOUT
        return planning.DEFAULT_START_TIMEOUT

    def _labels(self, c: model.Container) -> Dict[str, str]:
        return planning.labels_for(self.plan.deployment, self.plan.config_id,
                                   c)

    # -- verbs --------------------------------------------------------------
    def _remove(self, action: planning.Action) -> Outcome:
        try:
            self._take_down(action)
        except errors.EngineConflict as exc:
            if not action.after_dependents:
                raise
            why = errors.first_line(exc)
            if action.may_stay:
                return Outcome(action, [
                    f'kept {action.name} ({action.reason}): the engine '
                    f'refuses to remove it yet ({why}); a later run '
                    f'removes it'], refused=True)
            return Outcome(action, error=(
                f'{action.name}: the engine refuses to remove it ({why})'),
                refused=True)
        return Outcome(action, [f'removed {action.name} ({action.reason})'])

    def _create(self, action: planning.Action) -> Outcome:
        c = action.container
        hostpath.prepare(c, self.settings.host_root)
        self.engine.create(c, c.name, self._labels(c))
        self.engine.start(c.name)
        return Outcome(action, [f'created {c.name}'], started=c.name)

    def _replace(self, action: planning.Action) -> Outcome:
        c, old = action.container, action.observed
        tmp = planning.temp_name(c.name)
        hostpath.prepare(c, self.settings.host_root)
        # Nothing is stopped until the new container exists: a create
        # failure (bad mount, unknown user...) leaves the old one serving.
        # (A stale temporary container was removed as a plan leftover.)
        self.engine.create(c, tmp, self._labels(c))
        try:
            # A stop that fails or times out rolls back like a failed
            # start: the new container goes, the old one is started.
            if action.stop is planning.Stop.GRACEFUL:
                self._stop_gracefully(action)
            self.engine.start(tmp)
            problem = self._wait_started(
                {tmp: self._timeout(action)}).get(tmp, '')
        except errors.HookError as exc:
            problem = str(exc)
        if problem:
            logs = self._logs(tmp)
            try:
                self.engine.remove(tmp, force=True)
                if action.rollback_to:
                    self.engine.start(action.rollback_to)
            except errors.HookError as exc:
                return Outcome(action, logs, error=(
                    f'{c.name}: replacement failed ({problem}) and so did '
                    f'the rollback ({exc}); the next apply retries'))
            if not action.rollback_to:
                return Outcome(action, logs, error=(
                    f'{c.name}: replacement failed ({problem}); the '
                    f'previous container joined a container this run '
                    f'replaced, so it stays stopped; the next apply '
                    f'retries'))
            return Outcome(action, logs, error=(
                f'{c.name}: replacement failed ({problem}); rolled back, '
                f'the previous container is running again'
                f'{self._config_of(action.rollback_to)}'))
        line = f'replaced {c.name} ({action.reason})'
        if action.defer_removal:
            # its dependents, recreated later in this plan, still join it
            self.engine.rename(old.id, action.retire_as)
            line += f'; the previous one waits as {action.retire_as}'
        else:
            try:
                self.engine.remove(old.id, force=True)
            except errors.EngineConflict as exc:
                if not action.retire_as:
                    raise
                # containers this plan does not recreate still join it
                self.engine.rename(old.id, action.retire_as)
                line += (f'; the previous one is kept as '
                         f'{action.retire_as} ({errors.first_line(exc)}); '
                         f'a later run removes it')
        self.engine.rename(tmp, c.name)
        return Outcome(action, [line])

    def _config_of(self, name_or_id: str) -> str:
        """`` on its own config (TRIPLEO_CONFIG_HASH=...)`` for the report:
        it binds the config generation it was created with."""
        try:
            env = self.engine.inspect(name_or_id).get('Config', {}).get(
                'Env') or ()
        except errors.HookError:
            return ''
        for item in env:
            if item.startswith('TRIPLEO_CONFIG_HASH='):
                return f' on its previous config ({item})'
        return ''

    def _task(self, action: planning.Action) -> Outcome:
        c = action.container
        if action.observed is not None:
            self._take_down(action)
        hostpath.prepare(c, self.settings.host_root)
        self.engine.create(c, c.name, self._labels(c))
        self.engine.start(c.name)
        timeout = self._timeout(action)
        try:
            code = self.engine.wait(c.name, timeout)
        except errors.EngineTimeout as exc:
            logs = self._logs(c.name)
            self.engine.stop(c.name, timeout=0)
            self._finish_task(action, None)
            return Outcome(action, [f'ran {c.name} ({action.reason})'] + logs,
                           error=str(exc))
        lines = [f'ran {c.name} ({action.reason}): exit code {code}']
        lines += self._logs(c.name, output=True)
        self._finish_task(action, code)
        if code not in c.exit_codes:
            return Outcome(action, lines, error=(
                f'{c.name}: exited with code {code}, allowed: '
                f'{", ".join(map(str, c.exit_codes))}'))
        return Outcome(action, lines)

    def _finish_task(self, action: planning.Action,
                     code: Optional[int]) -> None:
        """``record_and_remove`` (``remove: true``): the container goes
        only now, after its exit code and output were collected; a record
        replaces it (see :func:`plan._plan_removed_task`)."""
        if not action.record_and_remove:
            return
        c = action.container
        try:
            image_id = self.engine.inspect(c.name).get('Image', '')
        except errors.EngineError:
            image_id = ''
        self.exec_records[c.name] = {
            'hash': planning.container_hash(c), 'kind': c.kind.value,
            'ok': code is not None and code in c.exit_codes,
            'exit_code': code, 'image_id': image_id,
            'time': int(time.time())}
        self.engine.remove(c.name, force=True)

    def _exec(self, action: planning.Action) -> Outcome:
        c, target = action.container, action.exec_in
        key = planning.container_hash(c)
        record: Dict[str, Any] = {'hash': key, 'ok': False,
                                  'exit_code': None, 'target_id': '',
                                  'time': int(time.time())}
        self.exec_records[c.name] = record
        env = [f'{k}={v}' for k, v in c.environment] or None
        code, output, target_id = self.engine.exec_run(
            target, list(c.command or ()), user=c.user,
            privileged=c.privileged, environment=env,
            timeout=self._timeout(action))
        ok = code in c.exit_codes
        record.update(ok=ok, exit_code=code, target_id=target_id)
        lines = [f'ran {c.name} in {target} ({action.reason}): '
                 f'exit code {code}'] + _cap(output, self.report.masker)
        self.report.outputs[c.name] = output
        if not ok:
            return Outcome(action, lines, error=(
                f'{c.name}: exec in {target} exited with code {code}, '
                f'allowed: {", ".join(map(str, c.exit_codes))}'))
        return Outcome(action, lines)

    # -- waiting ------------------------------------------------------------
    def _logs(self, name: str, output: bool = False) -> List[str]:
        """The tail of a container's log as report lines; ``output``: also
        the value of a declared output of that name (masked and capped by
        the report)."""
        try:
            text = self.engine.logs(name, tail=TASK_OUTPUT_LINES)
        except errors.HookError:
            return []
        if output:
            self.report.outputs[name] = text
        return _cap(text, self.report.masker)

    def _verify_started(self, outcomes: List[Outcome]) -> None:
        problems = self._wait_started({o.started: self._timeout(o.action)
                                       for o in outcomes})
        for o in outcomes:
            problem = problems.get(o.started)
            if problem:
                o.lines += self._logs(o.started)
                o.error = f'{o.action.name}: {problem}'

    def _wait_started(self, timeouts: Dict[str, float]) -> Dict[str, str]:
        """Poll ONE label-filtered list until every container (name →
        its planned start timeout, seconds) runs (and is healthy when
        Docker reports a health status).  Name → problem."""
        if self.settings.start_settle > 0:
            time.sleep(self.settings.start_settle)
        begin = time.monotonic()
        pending = set(timeouts)
        problems: Dict[str, str] = {}
        delay = 0.05
        while pending:
            seen = {o.name: o for o in self.engine.list_containers(
                self.plan.deployment) if o.name in pending}
            for name in list(pending):
                o = seen.get(name)
                if o is None:
                    problems[name] = 'container vanished'
                elif o.state == 'restarting':
                    # Docker restarts only after the process exited.
                    problems[name] = 'container exited and is restarting'
                elif o.state != 'running':
                    code = '' if o.exit_code is None else \
                        f' with code {o.exit_code}'
                    problems[name] = f'container {o.state}{code} at start'
                elif o.health == 'unhealthy':
                    problems[name] = 'health check failed'
                elif o.health in ('', 'healthy'):
                    pass
                else:
                    continue
                pending.discard(name)
            now = time.monotonic()
            for name in sorted(pending):
                if now >= begin + timeouts[name]:
                    problems[name] = (f'not running and healthy after '
                                      f'{timeouts[name]} s')
                    pending.discard(name)
            if not pending:
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        return problems


def execute(plan: planning.Plan, engine, report, conf=None,
            exec_records: Optional[Dict[str, Dict[str, Any]]] = None,
            units=None) -> None:
    """Run ``plan``; raises :class:`errors.DeploymentFailed` on failure.

    ``exec_records`` is updated in place, also when a step fails, so the
    caller can persist it either way.  ``units`` (a
    :class:`host_units.UnitExecutor`) takes host units over before the
    ``start_order`` group of their container and gives them back if that
    step fails.
    """
    Applier(plan, engine, report, conf, exec_records, units).execute()


def pull(refs: Sequence[str], engine, conf=None) -> Dict[str, str]:
    """Pull images in parallel, before any container is touched.

    Each pull follows the engine's one retry policy
    (:meth:`engine.Engine.pull`, ``pull_retries``).  Reference → image ID;
    raises DeploymentFailed.
    """
    retries = int(getattr(conf, 'pull_retries', 3) or 0) if conf else 3
    workers = max(1, min(Settings.from_conf(conf).workers, len(refs)))

    def one(ref: str) -> str:
        try:
            return engine.pull(ref, retries)
        except errors.EngineError as exc:
            raise errors.DeploymentFailed(
                f'image {ref} is missing and cannot be pulled: '
                f'{exc}; nothing was changed') from exc

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {ref: pool.submit(one, ref) for ref in refs}
        result, failures = {}, []
        for ref, fut in futures.items():
            try:
                result[ref] = fut.result()
            except errors.HookError as exc:
                failures.append(str(exc))
    if failures:
        raise errors.DeploymentFailed('; '.join(failures))
    return result
