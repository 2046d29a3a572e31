"""The executor's branches with a scripted engine (container behaviour
itself is proven against the real engine in tests/functional)."""

import types

import pytest

from tripleo_docker_hook import apply as applying
from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import report as reporting
from tripleo_docker_hook.masking import Masker

DEP = 'dep'


class ScriptedEngine:
    """Records calls; ``fail`` maps (method, target) to an exception."""

    def __init__(self, fail=None, running=()):
        self.calls = []
        #: (target, timeout, engine_default) of every stop
        self.stops = []
        self.fail = dict(fail or {})
        self.running = set(running)

    def _do(self, method, target, *rest):
        self.calls.append((method, target) + rest)
        exc = self.fail.get((method, target))
        if exc is not None:
            raise exc

    def create(self, container, name, labels):
        self._do('create', name)
        return 'id-' + name

    def start(self, name):
        self._do('start', name)
        self.running.add(name)

    def stop(self, name, timeout=None, engine_default=False):
        self.stops.append((name, timeout, engine_default))
        self._do('stop', name)
        self.running.discard(name)

    def remove(self, name, force=True, volumes=False):
        self._do('remove', name)
        self.running.discard(name)

    def rename(self, name, new):
        self._do('rename', name, new)

    def logs(self, name, tail=200, output=False):
        return 'last words\n'

    def inspect(self, name):
        self._do('inspect', name)
        return {'Config': {'Env': ['TRIPLEO_CONFIG_HASH=abc']}}

    def list_containers(self, deployment=None):
        return [model.Observed(id=n, name=n, image_id='i', state='running',
                               labels={}) for n in self.running]


def _replace_plan():
    c = model.Container(name='web', image='img', source_hash='new')
    old = model.Observed(id='old-id', name='web', image_id='i',
                         state='running', labels={})
    action = planning.Action(planning.REPLACE, 'web', c, old, 'changed',
                             stop=planning.Stop.GRACEFUL,
                             rollback_to='old-id')
    return planning.Plan(DEP, 'cfg', steps=(planning.StepPlan(
        1, ((action,),)),))


@pytest.mark.parametrize('failure', [
    errors.EngineTimeout('stop old-id: no answer within the client '
                         'timeout'),
    errors.EngineFailed('stop old-id: boom', 500),
])
def test_replace_rolls_back_when_stopping_the_old_one_fails(failure):
    """A stop timeout (or failure) used to leave ``web.tdh-new`` behind
    with no rollback (issue 9, kind 5)."""
    eng = ScriptedEngine(fail={('stop', 'old-id'): failure},
                         running={'old-id'})
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_replace_plan(), eng, report)
    assert ('remove', 'web.tdh-new') in eng.calls
    assert ('start', 'old-id') in eng.calls
    assert eng.calls.index(('start', 'old-id')) > eng.calls.index(
        ('remove', 'web.tdh-new'))
    assert ('start', 'web.tdh-new') not in eng.calls
    text = '\n'.join(report.stderr)
    assert 'rolled back' in text and str(failure) in text


def test_removal_of_a_container_that_vanished_is_fine():
    gone = model.Observed(id='gone', name='old', image_id='i',
                          state='running', labels={})
    eng = ScriptedEngine(fail={('stop', 'gone'): errors.EngineNotFound(
        'stop gone: no such container', 404)})
    plan = planning.Plan(DEP, 'cfg', removals=(planning.Action(
        planning.REMOVE, 'old', observed=gone, reason='x',
        stop=planning.Stop.GRACEFUL),))
    applying.execute(plan, eng, reporting.Report(Masker()))
    assert eng.calls == [('stop', 'gone'), ('remove', 'gone')]


# -- every executor branch, from plans computed by plan.compute ----------

class RecordingEngine(ScriptedEngine):
    """ScriptedEngine plus the one-shot calls: ``codes`` maps a task or
    exec target name to its exit code."""

    def __init__(self, codes=None, **kw):
        super().__init__(**kw)
        self.codes = dict(codes or {})

    def wait(self, name, timeout):
        self._do('wait', name, timeout)
        return self.codes.get(name, 0)

    def exec_run(self, target, command, user='', privileged=False,
                 environment=None, timeout=None):
        self._do('exec', target, tuple(command), timeout)
        return self.codes.get(target, 0), 'exec said hi\n', 'id-' + target

    def inspect(self, name):
        self._do('inspect', name)
        return {'Image': 'sha256:img', 'Config': {'Env': []}}


def _svc(name, h='h1', kind=model.Kind.SERVICE, **kw):
    return model.Container(name=name, image='img', kind=kind,
                           source_hash=h, **kw)


def _seen(c, state='running', name=None, exit_code=None, labels=None):
    return model.Observed(
        id=f'id-{name or c.name}', name=name or c.name, image_id='',
        state=state, exit_code=exit_code,
        labels=labels or planning.labels_for(DEP, 'old', c))


def _dep(*containers):
    return model.Deployment(steps=(model.Step(1, tuple(containers)),))


def _run(desired, observed, eng, records=None, **kw):
    plan = planning.compute(DEP, 'cfg', _dep(*desired), observed, {},
                            records, **kw)
    report = reporting.Report(Masker())
    records = {} if records is None else records
    applying.execute(plan, eng, report, exec_records=records)
    return plan, report, records


def test_create_starts_and_verifies():
    eng = RecordingEngine()
    _run([_svc('web')], [], eng)
    assert eng.calls == [('create', 'web'), ('start', 'web')]


def test_keep_does_nothing():
    c = _svc('web')
    eng = RecordingEngine(running={'web'})
    _run([c], [_seen(c)], eng)
    assert eng.calls == []


def test_replace_creates_new_first_then_swaps():
    old = _svc('web', h='old')
    eng = RecordingEngine(running={'id-web'})
    plan, report, _ = _run([_svc('web', h='new')], [_seen(old)], eng)
    action = plan.steps[0].groups[0][0]
    assert (action.verb, action.stop, action.rollback_to) == (
        planning.Verb.REPLACE, planning.Stop.GRACEFUL, 'id-web')
    assert eng.calls == [
        ('create', 'web.tdh-new'), ('stop', 'id-web'),
        ('start', 'web.tdh-new'), ('remove', 'id-web'),
        ('rename', 'web.tdh-new', 'web')]
    assert 'replaced web (definition changed)' in '\n'.join(report.stdout)


def test_replace_rolls_back_to_the_planned_target_when_start_fails():
    old = _svc('web', h='old')
    eng = RecordingEngine(fail={('start', 'web.tdh-new'): errors.EngineFailed(
        'start web.tdh-new: no such file', 500)}, running={'id-web'})
    with pytest.raises(errors.DeploymentFailed):
        _run([_svc('web', h='new')], [_seen(old)], eng)
    assert ('remove', 'web.tdh-new') in eng.calls
    assert eng.calls.index(('start', 'id-web')) > eng.calls.index(
        ('remove', 'web.tdh-new'))
    assert ('rename', 'web.tdh-new', 'web') not in eng.calls
    assert ('remove', 'id-web') not in eng.calls


def test_promote_renames_the_interrupted_replacement():
    c = _svc('web')
    tmp = _seen(c, name='web.tdh-new')
    eng = RecordingEngine(running={'web.tdh-new'})
    plan, _, _ = _run([c], [tmp], eng)
    assert plan.leftovers[0].verb is planning.Verb.PROMOTE
    assert eng.calls == [('rename', 'id-web.tdh-new', 'web')]


@pytest.mark.parametrize('old_kind,state,stop', [
    (model.Kind.SERVICE, 'running', planning.Stop.GRACEFUL),
    (model.Kind.TASK, 'running', planning.Stop.NONE),
    (model.Kind.TASK, 'exited', planning.Stop.NONE),
])
def test_task_rerun_takes_the_old_one_down_as_planned(old_kind, state, stop):
    old = _svc('init', h='old', kind=old_kind)
    new = _svc('init', h='new', kind=model.Kind.TASK, timeout=30)
    eng = RecordingEngine()
    plan, report, _ = _run([new], [_seen(old, state=state, exit_code=0)],
                           eng)
    action = plan.steps[0].groups[0][0]
    assert (action.verb, action.stop, action.timeout) == (
        planning.Verb.RUN, stop, 30)
    head = [('stop', 'id-init')] if stop is planning.Stop.GRACEFUL else []
    assert eng.calls == head + [
        ('remove', 'id-init'), ('create', 'init'), ('start', 'init'),
        ('wait', 'init', 30)]
    assert type(eng.calls[-1][-1]) is int   # "still running after 30 s"
    assert report.outputs['init'] == 'last words\n'


def test_task_timeout_default_comes_from_the_plan():
    eng = RecordingEngine()
    plan, _, _ = _run([_svc('init', kind=model.Kind.TASK)], [], eng,
                      task_timeout=77)
    assert plan.steps[0].groups[0][0].timeout == 77
    assert ('wait', 'init', 77) in eng.calls


def test_failed_task_fails_the_level():
    eng = RecordingEngine(codes={'init': 3})
    with pytest.raises(errors.DeploymentFailed, match='1 of 1'):
        _run([_svc('init', kind=model.Kind.TASK)], [], eng)


def test_removed_task_leaves_a_record_not_a_container():
    c = _svc('init', kind=model.Kind.TASK, auto_remove=True)
    eng = RecordingEngine()
    _, _, records = _run([c], [], eng)
    assert eng.calls[-2:] == [('inspect', 'init'), ('remove', 'init')]
    assert records['init']['ok'] is True
    assert records['init']['hash'] == planning.container_hash(c)
    assert records['init']['image_id'] == 'sha256:img'


def test_exec_records_its_run():
    target = _svc('web')
    ex = model.Container(name='ex', image='', kind=model.Kind.EXEC,
                         exec_target='web',
                         command=('true',), source_hash='e')
    eng = RecordingEngine(running={'web'})
    plan, report, records = _run([target, ex], [_seen(target)], eng)
    assert eng.calls == [('exec', 'web', ('true',), 3600)]
    rec = records['ex']
    assert (rec['ok'], rec['exit_code'], rec['target_id']) == (
        True, 0, 'id-web')
    assert rec['hash'] == planning.container_hash(ex)
    assert report.outputs['ex'] == 'exec said hi\n'


def test_failed_exec_is_recorded_as_failed():
    target = _svc('web')
    ex = model.Container(name='ex', image='', kind=model.Kind.EXEC,
                         exec_target='web',
                         command=('false',), source_hash='e')
    eng = RecordingEngine(codes={'web': 1}, running={'web'})
    records = {}
    with pytest.raises(errors.DeploymentFailed):
        _run([target, ex], [_seen(target)], eng, records)
    assert (records['ex']['ok'], records['ex']['exit_code']) == (False, 1)


@pytest.mark.parametrize('state,stop', [
    ('running', planning.Stop.GRACEFUL), ('paused', planning.Stop.GRACEFUL),
    ('exited', planning.Stop.NONE), ('created', planning.Stop.NONE)])
def test_removal_stops_only_what_the_plan_says(state, stop):
    gone = _svc('gone')
    eng = RecordingEngine()
    plan, _, _ = _run([_svc('web')], [_seen(gone, state=state)], eng)
    assert plan.removals[0].stop is stop
    head = [('stop', 'id-gone')] if stop is planning.Stop.GRACEFUL else []
    assert eng.calls[:len(head) + 1] == head + [('remove', 'id-gone')]


def test_leftover_temporary_container_is_removed():
    c = _svc('web')
    stale = _seen(_svc('web', h='other'), name='web.tdh-new')
    eng = RecordingEngine(running={'web'})
    plan, _, _ = _run([c], [_seen(c), stale], eng)
    assert plan.leftovers[0].verb is planning.Verb.REMOVE
    assert eng.calls == [('stop', 'id-web.tdh-new'),
                         ('remove', 'id-web.tdh-new')]


# -- the executor follows the action's fields, never the model -----------

def test_plan_carries_start_timeouts_exec_target_and_record():
    """Every "how" of issue 12 item 2 is a field of the planned action."""
    web, old = _svc('web', h='new'), _svc('old', h='o1')
    once = _svc('once', kind=model.Kind.TASK, auto_remove=True)
    keep = _svc('keep', kind=model.Kind.TASK)
    ex = model.Container(name='ex', image='', kind=model.Kind.EXEC,
                         exec_target='old', command=('true',),
                         source_hash='e', timeout=7)
    plan = planning.compute(
        DEP, 'cfg', _dep(web, _svc('old', h='o2'), once, keep, ex),
        [_seen(old)], {}, None, task_timeout=50, start_timeout=11)
    by = {a.name: a for a in plan.actions}
    assert (by['web'].verb, by['web'].timeout) == (planning.CREATE, 11)
    assert (by['old'].verb, by['old'].timeout) == (planning.REPLACE, 11)
    assert (by['once'].timeout, by['once'].record_and_remove,
            by['once'].exec_in) == (50, True, '')
    assert (by['keep'].record_and_remove, by['keep'].exec_in) == (
        False, '')
    assert (by['ex'].timeout, by['ex'].exec_in,
            by['ex'].record_and_remove) == (7, 'old', False)


def _one(action):
    return planning.Plan(DEP, 'cfg', steps=(planning.StepPlan(
        1, ((action,),)),))


def test_exec_or_task_is_the_actions_exec_in_not_the_kind():
    c = model.Container(name='ex', image='img', kind=model.Kind.EXEC,
                        exec_target='web', command=('true',),
                        source_hash='e')
    eng = RecordingEngine()
    applying.execute(_one(planning.Action(planning.RUN, 'ex', c,
                                          reason='new', timeout=4)),
                     eng, reporting.Report(Masker()))
    assert eng.calls == [('create', 'ex'), ('start', 'ex'),
                         ('wait', 'ex', 4)]
    eng = RecordingEngine()
    task = _svc('t', kind=model.Kind.TASK, command=('true',))
    applying.execute(_one(planning.Action(planning.RUN, 't', task,
                                          reason='new', timeout=4,
                                          exec_in='web')),
                     eng, reporting.Report(Masker()), exec_records={})
    assert eng.calls == [('exec', 'web', ('true',), 4)]


@pytest.mark.parametrize('record', [True, False])
def test_record_and_remove_is_the_actions_not_the_containers(record):
    c = _svc('once', kind=model.Kind.TASK, auto_remove=not record)
    eng = RecordingEngine()
    records = {}
    applying.execute(_one(planning.Action(planning.RUN, 'once', c,
                                          reason='new', timeout=3,
                                          record_and_remove=record)),
                     eng, reporting.Report(Masker()), exec_records=records)
    assert (('remove', 'once') in eng.calls) is record
    assert ('once' in records) is record


class TimeoutEngine(RecordingEngine):
    """``wait`` never sees the task end; containers stay 'starting'."""

    def wait(self, name, timeout):
        self._do('wait', name, timeout)
        raise errors.EngineTimeout(f'{name}: still running after '
                                   f'{timeout} s')

    def list_containers(self, deployment=None):
        return [model.Observed(id=n, name=n, image_id='i', state='running',
                               health='starting', labels={})
                for n in self.running]


@pytest.mark.parametrize('record', [True, False])
def test_task_timeout_kills_collects_and_records(record):
    c = _svc('slow', kind=model.Kind.TASK, auto_remove=record)
    eng = TimeoutEngine()
    records = {}
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_one(planning.Action(
            planning.RUN, 'slow', c, reason='new', timeout=2,
            record_and_remove=record)), eng, report, exec_records=records)
    assert eng.calls[:4] == [('create', 'slow'), ('start', 'slow'),
                             ('wait', 'slow', 2), ('stop', 'slow')]
    assert 'still running after 2 s' in '\n'.join(report.stderr)
    if record:
        assert (records['slow']['ok'], records['slow']['exit_code']) == (
            False, None)
        assert eng.calls[-1] == ('remove', 'slow')
    else:
        assert records == {}


def test_create_waits_for_the_planned_start_timeout():
    eng = TimeoutEngine()
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_one(planning.Action(
            planning.CREATE, 'web', _svc('web'), reason='new', timeout=0)),
            eng, report)
    assert 'web: not running and healthy after 0 s' in '\n'.join(
        report.stderr)


def test_replace_waits_for_the_planned_start_timeout_then_rolls_back():
    old = model.Observed(id='old-id', name='web', image_id='i',
                         state='running', labels={})
    eng = TimeoutEngine(running={'old-id'})
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_one(planning.Action(
            planning.REPLACE, 'web', _svc('web'), old, 'changed',
            stop=planning.Stop.GRACEFUL, rollback_to='old-id', timeout=0)),
            eng, report)
    assert eng.calls[:3] == [('create', 'web.tdh-new'), ('stop', 'old-id'),
                             ('start', 'web.tdh-new')]
    assert eng.calls[3:5] == [('remove', 'web.tdh-new'), ('start', 'old-id')]
    text = '\n'.join(report.stderr)
    assert 'not running and healthy after 0 s' in text
    assert 'rolled back' in text


def test_replace_whose_rollback_fails_says_so():
    old = model.Observed(id='old-id', name='web', image_id='i',
                         state='running', labels={})
    boom = errors.EngineFailed('start: boom', 500)
    eng = RecordingEngine(fail={('start', 'web.tdh-new'): boom,
                                ('start', 'old-id'): boom})
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_one(planning.Action(
            planning.REPLACE, 'web', _svc('web'), old, 'changed',
            stop=planning.Stop.GRACEFUL, rollback_to='old-id')),
            eng, report)
    assert 'and so did the rollback' in '\n'.join(report.stderr)


def test_delete_many_removes_each_deployments_containers_in_one_plan():
    a, b = _svc('a'), _svc('b')
    other = model.Observed(id='id-b', name='b', image_id='', state='exited',
                           labels=planning.labels_for('two', 'x', b))
    plan = planning.delete_many(['dep', 'two'], 'cfg',
                                [other, _seen(a)], 'gone')
    assert plan.deployment == 'dep,two'
    assert [(r.name, r.stop, r.reason) for r in plan.removals] == [
        ('a', planning.Stop.GRACEFUL, 'gone'),
        ('b', planning.Stop.NONE, 'gone')]
    eng = RecordingEngine()
    applying.execute(plan, eng, reporting.Report(Masker()))
    assert sorted(eng.calls) == [('remove', 'id-a'), ('remove', 'id-b'),
                                 ('stop', 'id-a')]


def test_a_failed_group_is_named_by_its_start_order():
    eng = RecordingEngine(fail={('create', 'web'): errors.EngineFailed(
        'create web: boom', 500)})
    with pytest.raises(errors.DeploymentFailed,
                       match=r'^step 1 start_order 3: 1 of 1 actions'):
        _run([_svc('web', start_order=3)], [], eng)


# -- issue 17: a replaced parent goes after its dependents -------------------

def _family(parent_h='new'):
    """``parent`` changed; ``child`` joins its PID namespace (its folded
    hash changes with the parent's)."""
    parent = _svc('parent', h='old')
    child = _svc('child', start_order=1, pid_mode='container:parent')
    folded = planning.with_dependency_hashes(
        _dep(parent, child), [], errors.ErrorList())
    observed = [_seen(c) for c in folded.containers]
    return [_svc('parent', h=parent_h), child], observed


def test_a_parent_is_set_aside_and_removed_after_its_dependents():
    desired, observed = _family()
    eng = RecordingEngine(running={'id-parent', 'id-child'})
    plan, report, _ = _run(desired, observed, eng)
    assert eng.calls == [
        ('create', 'parent.tdh-new'), ('stop', 'id-parent'),
        ('start', 'parent.tdh-new'),
        ('rename', 'id-parent', 'parent.tdh-old.id-parent'),
        ('rename', 'parent.tdh-new', 'parent'),
        ('create', 'child.tdh-new'), ('stop', 'id-child'),
        ('start', 'child.tdh-new'), ('remove', 'id-child'),
        ('rename', 'child.tdh-new', 'child'),
        ('remove', 'id-parent')]
    out = '\n'.join(report.stdout)
    assert ('replaced parent (definition changed); the previous one waits '
            'as parent.tdh-old.id-parent') in out
    assert ('removed parent.tdh-old.id-parent (replaced; removed after '
            'child)') in out


def test_a_failed_parent_rolls_back_and_nothing_is_set_aside():
    desired, observed = _family()
    boom = errors.EngineFailed('start parent.tdh-new: boom', 500)
    eng = RecordingEngine(fail={('start', 'parent.tdh-new'): boom},
                          running={'id-parent', 'id-child'})
    with pytest.raises(errors.DeploymentFailed):
        _run(desired, observed, eng)
    assert eng.calls == [
        ('create', 'parent.tdh-new'), ('stop', 'id-parent'),
        ('start', 'parent.tdh-new'), ('remove', 'parent.tdh-new'),
        ('start', 'id-parent'), ('inspect', 'id-parent')]


def test_a_failed_dependent_is_not_rolled_back_into_the_old_parent():
    """Its old container joined the old parent (podman would start that
    again with it): it stays stopped, and so does the set-aside parent,
    removed by a later run once the old child went."""
    desired, observed = _family()
    boom = errors.EngineFailed('start child.tdh-new: boom', 500)
    eng = RecordingEngine(fail={('start', 'child.tdh-new'): boom},
                          running={'id-parent', 'id-child'})
    report = reporting.Report(Masker())
    plan = planning.compute(DEP, 'cfg', _dep(*desired), observed, {})
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(plan, eng, report)
    assert eng.calls[-2:] == [('start', 'child.tdh-new'),
                              ('remove', 'child.tdh-new')]
    assert ('start', 'id-child') not in eng.calls
    assert ('remove', 'id-parent') not in eng.calls
    assert ('rename', 'parent.tdh-new', 'parent') in eng.calls
    assert ('child: replacement failed (start child.tdh-new: boom); the '
            'previous container joined a container this run replaced, so '
            'it stays stopped') in '\n'.join(report.stderr)


def test_a_set_aside_parent_still_joined_stays_for_a_later_run():
    """A retirement the engine refuses (podman: containers this plan does
    not recreate still join it) is left, not a failure."""
    desired, observed = _family()
    eng = RecordingEngine(fail={('remove', 'id-parent'): errors.EngineConflict(
        'remove id-parent: has dependent containers', 409)},
        running={'id-parent', 'id-child'})
    _, report, _ = _run(desired, observed, eng)
    assert eng.calls[-1] == ('remove', 'id-parent')
    assert ('kept parent.tdh-old.id-parent (replaced; removed after child): '
            'the engine refuses to remove it yet (remove id-parent: has '
            'dependent containers); a later run removes it'
            ) in '\n'.join(report.stdout)


def test_a_set_aside_leftover_goes_after_the_steps():
    c = _svc('web')
    aside = _seen(c, state='exited', exit_code=0,
                  name='web.tdh-old.0123456789ab')
    eng = RecordingEngine(running={'id-web'})
    plan, report, _ = _run([c], [_seen(c), aside], eng)
    assert eng.calls == [('remove', 'id-web.tdh-old.0123456789ab')]
    assert 'removed web.tdh-old.0123456789ab (set aside by an earlier run)' \
        in '\n'.join(report.stdout)


@pytest.mark.parametrize('failure, kept', [
    (errors.EngineConflict('remove id-web: has dependent containers', 409),
     True),
    (errors.EngineFailed('remove id-web: boom', 500), False),
])
def test_an_old_container_the_engine_will_not_remove_is_set_aside(
        failure, kept):
    """Another deployment's container joins it (the plan cannot know):
    podman refuses the removal; the replace sets it aside under its
    planned name and goes on.  Any other failure fails the replace."""
    old = _svc('web', h='old')
    eng = RecordingEngine(fail={('remove', 'id-web'): failure},
                          running={'id-web'})
    if kept:
        _, report, _ = _run([_svc('web', h='new')], [_seen(old)], eng)
        assert eng.calls[-3:] == [
            ('remove', 'id-web'), ('rename', 'id-web', 'web.tdh-old.id-web'),
            ('rename', 'web.tdh-new', 'web')]
        assert ('the previous one is kept as web.tdh-old.id-web (remove '
                'id-web: has dependent containers); a later run removes it'
                ) in '\n'.join(report.stdout)
    else:
        with pytest.raises(errors.DeploymentFailed):
            _run([_svc('web', h='new')], [_seen(old)], eng)
        assert eng.calls[-1] == ('remove', 'id-web')


def test_a_conflict_without_a_planned_name_fails_the_replace():
    old = model.Observed(id='old-id', name='web', image_id='i',
                         state='running', labels={})
    eng = RecordingEngine(fail={('remove', 'old-id'): errors.EngineConflict(
        'remove old-id: in use', 409)}, running={'old-id'})
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(_one(planning.Action(
            planning.REPLACE, 'web', _svc('web'), old, 'changed',
            stop=planning.Stop.GRACEFUL, rollback_to='old-id')),
            eng, reporting.Report(Masker()))
    assert not [c for c in eng.calls if c[0] == 'rename']


class JoinedEngine(RecordingEngine):
    """Refuses to remove a container while a container joining it is
    still there, as podman does ("has dependent containers")."""

    def __init__(self, joins, **kw):
        super().__init__(**kw)
        self.joins = dict(joins)      # dependent id -> parent id
        self.gone = set()

    def remove(self, name, force=True, volumes=False):
        left = [d for d, p in self.joins.items()
                if p == name and d not in self.gone]
        if left:
            self.calls.append(('refused', name))
            raise errors.EngineConflict(
                f'remove {name}: has dependent containers which must be '
                f'removed before it: {left[0]}', 409)
        super().remove(name, force, volumes)
        self.gone.add(name)


ONE_WORKER = types.SimpleNamespace(workers=1)   # waves in a known order


@pytest.mark.parametrize('plan_of', ['delete', 'undefined'])
def test_removals_go_dependents_first_in_waves(plan_of):
    """DELETE (or a definition dropping them) removes a grandparent,
    parent and child in one group; the engine refuses each one still
    joined and it is tried again once the wave before removed something."""
    top, mid, leaf = _svc('a-top'), _svc('b-mid'), _svc('c-leaf')
    observed = [_seen(c) for c in (top, mid, leaf)]
    eng = JoinedEngine({'id-b-mid': 'id-a-top', 'id-c-leaf': 'id-b-mid'},
                       running={'id-a-top', 'id-b-mid', 'id-c-leaf'})
    report = reporting.Report(Masker())
    if plan_of == 'delete':
        plan = planning.delete_many([DEP], 'cfg', observed)
    else:
        plan = planning.compute(DEP, 'cfg', _dep(), observed, {})
    assert all(a.after_dependents for a in plan.removals)
    applying.execute(plan, eng, report, conf=ONE_WORKER)
    assert [c[:2] for c in eng.calls if c[0] in ('remove', 'refused')] == [
        ('refused', 'id-a-top'), ('refused', 'id-b-mid'),
        ('remove', 'id-c-leaf'),
        ('refused', 'id-a-top'), ('remove', 'id-b-mid'),
        ('remove', 'id-a-top')]
    out = '\n'.join(report.stdout)
    for name in ('a-top', 'b-mid', 'c-leaf'):
        assert f'removed {name} (' in out
    assert not report.stderr


def test_a_removal_refused_in_every_wave_fails_after_one_retry():
    """Another deployment's container still joins it: the wave that
    removes nothing ends the retries, and the failure names it."""
    gone, held = _svc('gone'), _svc('held')
    eng = JoinedEngine({'id-theirs': 'id-held'},
                       running={'id-gone', 'id-held'})
    plan = planning.delete_many([DEP], 'cfg', [_seen(gone), _seen(held)])
    report = reporting.Report(Masker())
    with pytest.raises(errors.DeploymentFailed,
                       match=r'removals: 1 of 2 actions failed \(held\)'):
        applying.execute(plan, eng, report, conf=ONE_WORKER)
    assert [c[:2] for c in eng.calls if c[0] in ('remove', 'refused')] == [
        ('remove', 'id-gone'), ('refused', 'id-held'),
        ('refused', 'id-held')]
    assert ('held: the engine refuses to remove it (remove id-held: has '
            'dependent containers which must be removed before it: '
            'id-theirs)') in '\n'.join(report.stderr)


def test_any_other_removal_failure_is_not_retried():
    web = _svc('web')
    eng = RecordingEngine(fail={('remove', 'id-web'): errors.EngineFailed(
        'remove id-web: boom', 500)}, running={'id-web'})
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(planning.delete_many([DEP], 'cfg', [_seen(web)]),
                         eng, reporting.Report(Masker()))
    assert [c for c in eng.calls if c[0] == 'remove'] == [('remove',
                                                           'id-web')]


# -- the stop timeout comes from the plan (the stop-timeout label) ----------

@pytest.mark.parametrize('stop_timeout,expected', [
    (16, ('id-web', 16, False)),       # labelled 16: no inspect
    (None, ('id-web', None, True)),    # labelled "default"
    ('absent', ('id-web', None, False)),  # created before the label
])
def test_removal_and_replace_stop_with_the_planned_timeout(stop_timeout,
                                                           expected):
    """The executor passes on what the plan read from the label; only an
    unlabelled container leaves the engine to read it (inspect)."""
    c = _svc('web', stop_timeout=16 if stop_timeout == 16 else None)
    labels = planning.labels_for(DEP, 'old', c)
    if stop_timeout == 'absent':
        del labels[model.LABEL_STOP_TIMEOUT]
    seen = _seen(c, labels=labels)
    removal = planning.compute(DEP, 'new', _dep(), [seen])
    eng = RecordingEngine(running={'id-web'})
    applying.execute(removal, eng, reporting.Report(Masker()))
    assert eng.stops == [expected]
    assert ('inspect', 'id-web') not in eng.calls

    changed = _svc('web', h='h2', stop_timeout=c.stop_timeout)
    replace = planning.compute(DEP, 'new', _dep(changed), [seen])
    eng = RecordingEngine(running={'id-web'})
    applying.execute(replace, eng, reporting.Report(Masker()))
    assert eng.stops == [expected]
