"""The planner is pure: desired model + one container list → actions."""

import dataclasses
import json
import os

import pytest

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning

DEP = 'dep'
IMG = 'tdh/busybox:latest'


def svc(name, step=1, order=0, h='h1', kind=model.Kind.SERVICE, **kw):
    return model.Container(name=name, image=kw.pop('image', IMG), kind=kind,
                           step=step, start_order=order, source_hash=h, **kw)


def task(name, **kw):
    return svc(name, kind=model.Kind.TASK, **kw)


def exec_(name, target, **kw):
    return svc(name, kind=model.Kind.EXEC, image='', exec_target=target,
               command=('true',), **kw)


def deployment(*containers):
    steps = {}
    for c in containers:
        steps.setdefault(c.step, []).append(c)
    return model.Deployment(steps=tuple(
        model.Step(n, tuple(sorted(cs, key=lambda c: (c.start_order,
                                                      c.name))))
        for n, cs in sorted(steps.items())))


def seen(c, state='running', deployment=DEP, name=None, exit_code=None,
         image_id='sha256:img', health='', cid=None):
    labels = planning.labels_for(deployment, 'old-id', c)
    return model.Observed(id=cid or f'id-{name or c.name}',
                          name=name or c.name, image_id=image_id,
                          state=state, labels=labels, exit_code=exit_code,
                          health=health)


def foreign(name):
    return model.Observed(id='f-' + name, name=name, image_id='x',
                          state='running', labels={})


def verbs(plan):
    return [(a.verb, a.name) for a in plan.actions]


def compute(desired, observed, images=None, records=None, **kw):
    return planning.compute(DEP, 'new-id', desired, observed,
                            images if images is not None else
                            {IMG: 'sha256:img'}, records, **kw)


def test_fresh_creates_in_start_order_groups():
    d = deployment(svc('b', order=1), svc('a', order=1), svc('z'),
                   svc('s2', step=2))
    plan = compute(d, [])
    assert [s.number for s in plan.steps] == [1, 2]
    groups = plan.steps[0].groups
    assert [[a.name for a in g] for g in groups] == [['z'], ['a', 'b']]
    assert {a.verb for a in plan.actions} == {planning.CREATE}
    assert plan.pulls == ()


def test_same_definition_new_config_id_is_a_noop():
    a, b = svc('a'), svc('b')
    plan = compute(deployment(a, b), [seen(a), seen(b)])
    assert {a.verb for a in plan.actions} == {planning.KEEP}
    assert plan.changes == ()
    assert 'nothing to do' not in plan.summary()  # it reports the keeps
    assert '2 keep' in plan.summary()


def test_definition_change_replaces_only_that_one():
    a, b = svc('a'), svc('b')
    plan = compute(deployment(a, svc('b', h='h2')), [seen(a), seen(b)])
    assert verbs(plan) == [('keep', 'a'), ('replace', 'b')]
    assert plan.actions[1].reason == 'definition changed'


def test_hash_version_is_part_of_the_container_hash(monkeypatch):
    a = svc('a')
    before = planning.container_hash(a)
    monkeypatch.setattr(planning, 'HASH_VERSION', 99)
    assert planning.container_hash(a) != before


@pytest.mark.parametrize('recreate,verb', [(True, 'replace'),
                                           (False, 'keep')])
def test_image_drift(recreate, verb):
    a = svc('a')
    plan = compute(deployment(a), [seen(a, image_id='sha256:old')],
                   recreate_on_image_change=recreate)
    assert verbs(plan) == [(verb, 'a')]
    if recreate:
        assert plan.actions[0].reason == 'image changed'


def test_unknown_local_image_is_no_drift():
    a = svc('a')
    plan = compute(deployment(a), [seen(a)], images={IMG: None})
    assert verbs(plan) == [('keep', 'a')]
    assert plan.pulls == ()  # a kept container needs no pull


@pytest.mark.parametrize('state,verb', [
    ('running', 'keep'), ('restarting', 'keep'), ('paused', 'keep'),
    ('exited', 'replace'), ('created', 'replace'), ('dead', 'replace')])
def test_service_states(state, verb):
    a = svc('a')
    plan = compute(deployment(a), [seen(a, state=state, exit_code=(
        0 if state == 'exited' else None))])
    assert verbs(plan) == [(verb, 'a')]


def test_removed_from_definition_is_removed_after_leftovers():
    a, b = svc('a'), svc('b')
    plan = compute(deployment(a), [seen(a), seen(b)])
    assert verbs(plan) == [('remove', 'b'), ('keep', 'a')]
    assert plan.removals[0].reason == 'no longer defined'


def test_other_deployment_and_foreign_containers_are_ignored():
    a = svc('a')
    other = seen(svc('x'), deployment='other')
    plan = compute(deployment(a), [seen(a), other, foreign('y')])
    assert verbs(plan) == [('keep', 'a')]


@pytest.mark.parametrize('holder', [
    foreign('a'), seen(svc('a'), deployment='other'),
    foreign('a' + planning.TEMP_SUFFIX)])
def test_name_clash_is_an_error(holder):
    with pytest.raises(errors.ValidationError) as exc:
        compute(deployment(svc('a'), svc('ok')), [holder])
    text = str(exc.value)
    assert 'step_1.a: Duplicate value' in text
    assert ('does not manage' in text) or ('deployment "other"' in text)
    assert 'step_1.ok' not in text


def test_task_states():
    t = task('t', exit_codes=(0, 3))
    cases = [
        ([], 'run', 'new'),
        ([seen(t, state='exited', exit_code=0)], 'keep', 'done, code 0'),
        ([seen(t, state='exited', exit_code=3)], 'keep', 'done, code 3'),
        ([seen(t, state='exited', exit_code=1)], 'run',
         'failed before with code 1'),
        ([seen(t, state='created')], 'run', 'never ran to completion '
         '(created)'),
        ([seen(t, state='running')], 'run',
         'interrupted: still running from an earlier apply'),
        ([seen(task('t', h='old'), state='exited', exit_code=0)], 'run',
         'definition changed'),
    ]
    for observed, verb, reason in cases:
        action = compute(deployment(t), observed).actions[-1]
        assert (action.verb, action.reason) == (verb, reason), observed


def test_exec_records():
    target = svc('web')
    e = exec_('web-ls', 'web', order=1)
    d = deployment(target, e)
    obs = [seen(target, cid='web-id')]
    good = {'web-ls': {'hash': planning.container_hash(e), 'ok': True,
                       'exit_code': 0, 'target_id': 'web-id'}}
    assert verbs(compute(d, obs, records=good))[-1] == ('keep', 'web-ls')
    for rec, reason in [
            ({}, 'new'),
            ({'web-ls': dict(good['web-ls'], ok=False, exit_code=2)},
             'failed before with code 2'),
            ({'web-ls': dict(good['web-ls'], hash='x')},
             'definition changed'),
            ({'web-ls': dict(good['web-ls'], target_id='other')},
             'target container is new')]:
        action = compute(d, obs, records=rec).actions[-1]
        assert (action.verb, action.reason) == ('run', reason)
    # the target is replaced in this plan: the exec runs again
    obs = [seen(svc('web', h='old'), cid='web-id')]
    action = compute(d, obs, records=good).actions[-1]
    assert (action.verb, action.reason) == ('run', 'target container is new')


def test_exec_never_into_foreign_or_missing_target():
    e = exec_('ls', 'web')
    with pytest.raises(errors.ValidationError) as exc:
        compute(deployment(e), [foreign('web')])
    assert 'Forbidden' in str(exc.value)
    with pytest.raises(errors.ValidationError) as exc:
        compute(deployment(e), [])
    assert 'step_1.ls.command[0]: Not found: "web"' in str(exc.value)


def test_exec_into_another_managed_deployment():
    web = seen(svc('web'), deployment='other')
    plan = compute(deployment(exec_('ls', 'web')), [web])
    assert plan.actions[0].target is web


def test_leftover_temp_is_removed_first():
    a = svc('a', h='new')
    old = seen(svc('a', h='old'), state='exited', exit_code=0)
    tmp = seen(a, name='a' + planning.TEMP_SUFFIX, state='created')
    plan = compute(deployment(a), [old, tmp])
    assert verbs(plan) == [('remove', 'a.tdh-new'), ('replace', 'a')]
    assert plan.leftovers[0].reason == 'leftover temporary container'


def test_leftover_running_new_container_is_promoted():
    a = svc('a', h='new')
    tmp = seen(a, name='a' + planning.TEMP_SUFFIX)
    plan = compute(deployment(a), [tmp])
    assert verbs(plan) == [('promote', 'a'), ('keep', 'a')]


def test_leftover_not_promoted_while_old_still_holds_the_name():
    a = svc('a', h='new')
    old = seen(svc('a', h='old'), state='exited', exit_code=0)
    tmp = seen(a, name='a' + planning.TEMP_SUFFIX)
    plan = compute(deployment(a), [old, tmp])
    assert verbs(plan) == [('remove', 'a.tdh-new'), ('replace', 'a')]


def test_pulls_missing_images_of_changes_and_always():
    a = svc('a', image='img/missing:1')
    b = svc('b', image='img/always:1', pull_policy='Always')
    plan = compute(deployment(a, b), [seen(b)],
                   images={'img/missing:1': None,
                           'img/always:1': 'sha256:img'})
    assert plan.pulls == ('img/missing:1', 'img/always:1')
    assert 'pull img/missing:1' in plan.describe()


def test_pull_policy_never_with_missing_image_fails():
    a = svc('a', image='img/missing:1', pull_policy='Never')
    with pytest.raises(errors.ValidationError) as exc:
        compute(deployment(a), [], images={'img/missing:1': None})
    assert 'step_1.a.image: Not found' in str(exc.value)


def test_delete_plans_every_container_of_the_deployment_only():
    a, b = svc('a'), svc('b')
    tmp = seen(a, name='a' + planning.TEMP_SUFFIX)
    plan = planning.delete(DEP, 'x', [seen(b), seen(a), tmp, foreign('a2'),
                                      seen(svc('c'), deployment='other')])
    assert verbs(plan) == [('remove', 'a'), ('remove', 'a.tdh-new'),
                           ('remove', 'b')]


def test_plan_data_is_json_serialisable():
    import json
    d = deployment(svc('a'), task('t', step=2))
    data = compute(d, []).to_data()
    json.dumps(data)
    assert data['steps'][1]['groups'][0][0]['verb'] == 'run'
    assert data['counts'] == {'create': 1, 'run': 1}


def test_labels_identify_by_name_not_config_id():
    labels = planning.labels_for(DEP, 'cfg', svc('a'))
    assert labels['deployment'] == DEP
    assert labels['container_name'] == 'a'
    assert labels['config_id'] == 'cfg'
    assert labels['managed_by'] == 'tripleo-docker-hook'



# -- issue 14: the stop timeout a stop needs, from a label ------------------

def test_stop_timeout_label_is_written_at_create_outside_the_hash():
    own = dataclasses.replace(svc('a'), stop_timeout=16)
    assert planning.labels_for(DEP, 'cfg', own)[
        model.LABEL_STOP_TIMEOUT] == '16'
    assert planning.labels_for(DEP, 'cfg', svc('a'))[
        model.LABEL_STOP_TIMEOUT] == model.STOP_TIMEOUT_DEFAULT
    # the label is not an input of the hash: same source, same hash
    assert planning.container_hash(own) == planning.container_hash(
        dataclasses.replace(own, labels=(('x', '1'),)))


@pytest.mark.parametrize('value,expected', [
    ('16', (16, False)), ('0', (0, False)),
    (model.STOP_TIMEOUT_DEFAULT, (None, True)),
    (None, (None, False)),          # created before the label: inspect
    ('', (None, False)), ('-1', (None, False)), ('1e3', (None, False)),
    ('9' * 12, (None, False)),
])
def test_recorded_stop_timeout(value, expected):
    labels = planning.labels_for(DEP, 'old-id', svc('a'))
    del labels[model.LABEL_STOP_TIMEOUT]
    if value is not None:
        labels[model.LABEL_STOP_TIMEOUT] = value
    o = model.Observed(id='x', name='a', image_id='', state='running',
                       labels=labels)
    assert planning.recorded_stop_timeout(o) == expected


def test_delete_and_replace_plans_carry_the_labelled_stop_timeout():
    """A DELETE, a removal and a replace need no inspect of a labelled
    container: the plan carries its stop timeout; an unlabelled one is
    left to the engine (stop_timeout None, not the default)."""
    long = dataclasses.replace(svc('long'), stop_timeout=140)
    plain = svc('plain')
    old = seen(plain, name='old')
    old.labels.pop(model.LABEL_STOP_TIMEOUT)
    observed = [seen(long), seen(plain), old,
                seen(svc('dead'), state='exited', exit_code=0)]
    removals = planning.delete(DEP, 'x', observed).removals
    assert [(a.name, a.stop, a.stop_timeout, a.stop_default)
            for a in removals] == [
        ('dead', planning.Stop.NONE, None, False),
        ('long', planning.Stop.GRACEFUL, 140, False),
        ('old', planning.Stop.GRACEFUL, None, False),
        ('plain', planning.Stop.GRACEFUL, None, True)]
    changed = dataclasses.replace(long, source_hash='other')
    replace = compute(deployment(changed), [seen(long)]).actions[0]
    assert (replace.verb, replace.stop_timeout, replace.stop_default) == (
        planning.REPLACE, 140, False)


# -- issue 9: namespace dependents and remove: true tasks --------------------

def _pair(parent_h='p1'):
    parent = svc('parent', h=parent_h, ipc_mode='shareable')
    child = svc('child', order=1, pid_mode='container:parent',
                ipc_mode='container:parent')
    return parent, child


def _folded(*containers):
    return planning.with_dependency_hashes(
        deployment(*containers), [], errors.ErrorList())


def test_a_dependents_hash_covers_what_it_names():
    parent, child = _pair('p1')
    one = _folded(parent, child).container('child')
    two = _folded(dataclasses.replace(parent, source_hash='p2'),
                  child).container('child')
    assert one.source_hash != two.source_hash != child.source_hash
    assert _folded(parent, child).container('parent') == parent


def test_replacing_a_container_replaces_its_dependents_after_it():
    parent, child = _pair()
    old = _folded(parent, child)
    observed = [seen(old.container('parent')), seen(old.container('child'))]
    assert verbs(compute(deployment(parent, child), observed)) == [
        ('keep', 'parent'), ('keep', 'child')]
    changed = dataclasses.replace(parent, source_hash='p2')
    plan = compute(deployment(changed, child), observed)
    assert verbs(plan) == [('replace', 'parent'), ('replace', 'child'),
                           ('remove', 'parent.tdh-old.id-parent')]
    assert [len(group) for group in plan.steps[0].groups] == [1, 1]


def test_a_recreated_parent_recreates_a_kept_dependent():
    """Same definitions, but the parent exited: it is recreated, so is the
    child that joined its namespaces."""
    parent, child = _pair()
    old = _folded(parent, child)
    observed = [seen(old.container('parent'), state='exited', exit_code=0),
                seen(old.container('child'))]
    plan = compute(deployment(parent, child), observed)
    assert [(a.verb, a.name, a.reason) for a in plan.actions] == [
        ('replace', 'parent', 'container is exited with code 0'),
        ('replace', 'child', 'parent is recreated (pid)'),
        ('remove', 'parent.tdh-old.id-parent',
         'replaced; removed after child')]


# -- issue 17: removals ordered dependents first (podman) --------------------

def test_a_replaced_parent_is_set_aside_and_removed_after_its_dependents():
    """podman refuses to remove a container others still join: the old
    parent is renamed aside by its replace and removed after every step,
    once the old child went; the child has no rollback target (its old
    container joined the old parent)."""
    parent, child = _pair()
    old = _folded(parent, child)
    observed = [seen(old.container('parent')), seen(old.container('child'))]
    plan = compute(deployment(dataclasses.replace(parent, source_hash='p2'),
                              child), observed)
    p, c = (a for g in plan.steps[0].groups for a in g)
    assert (p.defer_removal, p.retire_as, p.rollback_to) == (
        True, 'parent.tdh-old.id-parent', 'id-parent')
    assert (c.defer_removal, c.retire_as, c.rollback_to) == (
        False, 'child.tdh-old.id-child', '')
    (r,) = plan.retirements
    assert (r.verb, r.name, r.observed.id, r.may_stay, r.stop) == (
        planning.REMOVE, 'parent.tdh-old.id-parent', 'id-parent', True,
        planning.Stop.NONE)
    assert plan.describe()[-1] == ('remove parent.tdh-old.id-parent '
                                   '(replaced; removed after child)')
    assert plan.to_data()['retirements'][0]['name'] == r.name
    assert plan.counts() == {'replace': 2, 'remove': 1}


@pytest.mark.parametrize('field', ['volumes_from', 'ipc_mode'])
def test_every_kind_of_dependent_defers_the_parents_removal(field):
    parent = svc('parent', h='p1')
    value = ('parent',) if field == 'volumes_from' else 'container:parent'
    child = svc('child', order=1, **{field: value})
    old = _folded(parent, child)
    observed = [seen(old.container('parent')), seen(old.container('child'))]
    plan = compute(deployment(dataclasses.replace(parent, source_hash='p2'),
                              child), observed)
    assert [a.name for a in plan.retirements] == ['parent.tdh-old.id-parent']


def test_a_replace_without_dependents_removes_the_old_one_at_once():
    """Nothing joins it: removed by the replace as before (``retire_as``
    only if the engine refuses: another deployment's container joins
    it); a new dependent (created, no old one) defers nothing."""
    parent, child = _pair()
    old = _folded(parent, child)
    plan = compute(deployment(dataclasses.replace(parent, source_hash='p2'),
                              child), [seen(old.container('parent'))])
    assert verbs(plan) == [('replace', 'parent'), ('create', 'child')]
    (p,) = plan.steps[0].groups[0]
    assert (p.defer_removal, p.retire_as, p.rollback_to) == (
        False, 'parent.tdh-old.id-parent', 'id-parent')
    assert plan.retirements == ()


def test_a_task_dependent_defers_the_parents_removal_too():
    parent = svc('parent', h='p1')
    job = task('job', order=1, pid_mode='container:parent')
    old = _folded(parent, job)
    observed = [seen(old.container('parent')),
                seen(old.container('job'), state='exited', exit_code=0)]
    plan = compute(deployment(dataclasses.replace(parent, source_hash='p2'),
                              job), observed)
    assert verbs(plan) == [('replace', 'parent'), ('run', 'job'),
                           ('remove', 'parent.tdh-old.id-parent')]


def test_a_set_aside_leftover_is_removed_last_and_may_stay():
    """An earlier run set ``parent`` aside (its dependents failed, or
    another deployment's still joined it): removed after the steps, never
    promoted, and an engine refusal leaves it for a later run."""
    parent, child = _pair()
    old = _folded(parent, child)
    observed = [seen(old.container('parent')), seen(old.container('child')),
                seen(old.container('parent'), state='exited', exit_code=0,
                     name='parent.tdh-old.0123456789ab')]
    plan = compute(deployment(parent, child), observed)
    assert plan.leftovers == ()
    assert [(a.verb, a.name, a.may_stay, a.reason)
            for a in plan.retirements] == [
        (planning.REMOVE, 'parent.tdh-old.0123456789ab', True,
         'set aside by an earlier run')]
    assert verbs(plan)[:2] == [('keep', 'parent'), ('keep', 'child')]


def test_a_dependent_older_than_its_parent_is_recreated():
    """The parent was replaced by an interrupted run (or by another
    deployment) after the child joined it."""
    parent, child = _pair()
    old = _folded(parent, child)
    p = dataclasses.replace(seen(old.container('parent')), created=200)
    c = dataclasses.replace(seen(old.container('child')), created=100)
    plan = compute(deployment(parent, child), [p, c])
    assert [(a.verb, a.reason) for a in plan.actions] == [
        ('keep', ''), ('replace', 'joined an older parent (pid)')]
    c = dataclasses.replace(c, created=200)
    assert verbs(compute(deployment(parent, child), [p, c])) == [
        ('keep', 'parent'), ('keep', 'child')]


def test_a_parent_in_another_deployment():
    other = svc('db', h='d1')
    child = svc('child', volumes_from=('db:ro',))
    held = seen(other, deployment='other-dep')
    plan = compute(deployment(child), [held])
    assert verbs(plan) == [('create', 'child')]
    # the other deployment changes db: the child's hash follows
    first = plan.actions[0].container
    again = compute(deployment(child), [held, seen(first)])
    assert verbs(again) == [('keep', 'child')]
    moved = seen(dataclasses.replace(other, source_hash='d2'),
                 deployment='other-dep')
    assert verbs(compute(deployment(child), [moved, seen(first)])) == [
        ('replace', 'child')]


@pytest.mark.parametrize('holder, message', [
    (None, 'step_1.child.volumes_from[0]: Not found: "db": no container '
           'of this deployment or another one managed by '
           'tripleo-docker-hook has this name'),
    ('foreign', 'step_1.child.volumes_from[0]: Forbidden: db belongs to a '
                'container this tool does not manage'),
])
def test_a_parent_that_is_not_ours_or_missing_is_an_error(holder, message):
    child = svc('child', volumes_from=('db',))
    observed = [foreign('db')] if holder else []
    with pytest.raises(errors.ValidationError) as err:
        compute(deployment(child), observed)
    assert str(err.value) == message


def test_removed_task_keeps_its_record():
    t = task('once', auto_remove=True)
    assert verbs(compute(deployment(t), [])) == [('run', 'once')]
    record = {'hash': planning.container_hash(t), 'ok': True,
              'exit_code': 0, 'image_id': 'sha256:img'}
    plan = compute(deployment(t), [], records={'once': record})
    assert [(a.verb, a.reason) for a in plan.actions] == [
        ('keep', 'done, code 0 (container removed)')]
    failed = dict(record, ok=False, exit_code=3)
    assert [a.reason for a in compute(deployment(t), [], records={
        'once': failed}).actions] == ['failed before with code 3']
    moved = compute(deployment(t), [], images={IMG: 'sha256:new'},
                    records={'once': record})
    assert [a.reason for a in moved.actions] == ['image changed']
    changed = compute(deployment(dataclasses.replace(t, source_hash='h2')),
                      [], records={'once': record})
    assert [a.reason for a in changed.actions] == ['definition changed']


def test_unknown_dependency_fails_before_anything_changes():
    """check_clashes runs before config rendering: a dependent naming no
    managed container fails there."""
    child = svc('child', pid_mode='container:gone')
    with pytest.raises(errors.ValidationError, match=r'step_1\.child\.pid: '
                       'Not found: "gone"'):
        planning.check_clashes(DEP, deployment(child), [])
    planning.check_clashes(DEP, deployment(child), [
        seen(svc('gone'), deployment='other')])


GOLDEN_PLAN = os.path.join(os.path.dirname(__file__), 'golden-plan',
                           'plan.txt')


def test_printed_plan_is_golden():
    """What ``tripleo-docker-hook-ctl plan`` prints for a representative
    deployment (every verb, leftovers, removals, start_order groups,
    pulls).  Regenerate deliberately with ``TDH_UPDATE_GOLDEN=1``."""
    db = svc('db', order=0, h='db2')
    web = svc('web', order=1, h='w1')
    api = svc('api', step=2, h='a1', image='tdh/new:1')
    boot = task('bootstrap', step=2, order=1, h='b1', image='tdh/new:1')
    init = task('db_init', step=1, order=0, h='i2')
    hook = exec_('reload', 'web', step=3, h='r1')
    desired = deployment(db, web, api, boot, init, hook)
    observed = [
        seen(svc('db', order=0, h='db1')),                  # replace
        seen(web),                                          # keep
        seen(task('db_init', step=1, h='i2'), state='exited',
             exit_code=1),                                  # run (failed)
        seen(svc('old_svc', h='o')),                        # remove
        seen(api, name='api.tdh-new'),                      # promote
        seen(svc('web', h='zz'), name='web.tdh-new'),       # leftover
    ]
    plan = compute(desired, observed, images={IMG: 'sha256:img',
                                              'tdh/new:1': None},
                   records={'reload': {'hash': 'stale', 'ok': True}})
    text = '\n'.join([plan.summary()] + plan.describe() + [
        json.dumps(plan.to_data(), indent=1, sort_keys=True)]) + '\n'
    if os.environ.get('TDH_UPDATE_GOLDEN'):
        with open(GOLDEN_PLAN, 'w') as f:
            f.write(text)
    with open(GOLDEN_PLAN) as f:
        assert text == f.read()


def test_actions_carry_how_they_are_carried_out():
    """Stop mode, timeout and rollback target are the plan's decisions."""
    old = svc('a', h='old')
    was_service = svc('t', h='old')
    plan = compute(deployment(svc('a', h='new'), task('t', timeout=9)),
                   [seen(old), seen(was_service),
                    seen(svc('gone'), state='exited')], task_timeout=5)
    by_name = {a.name: a for a in plan.actions}
    assert (by_name['a'].stop, by_name['a'].rollback_to) == (
        planning.Stop.GRACEFUL, 'id-a')
    assert (by_name['t'].stop, by_name['t'].timeout) == (
        planning.Stop.GRACEFUL, 9)
    assert by_name['gone'].stop is planning.Stop.NONE


def test_pulled_images_are_not_pulled_again():
    c = svc('a', image='tdh/x:1', pull_policy='Always')
    assert compute(deployment(c), [], images={'tdh/x:1': 'sha256:x'}
                   ).pulls == ('tdh/x:1',)
    assert compute(deployment(c), [], images={'tdh/x:1': 'sha256:x'},
                   pulled=['tdh/x:1']).pulls == ()


def test_clashes_are_checked_once_when_the_caller_did():
    c = svc('a')
    with pytest.raises(errors.ValidationError):
        compute(deployment(c), [foreign('a')])
    # deploy.run checks before rendering and tells compute so
    compute(deployment(c), [], clashes_checked=True)


def test_start_order_groups_are_named_by_their_start_order():
    """One term: a group is "start_order N" with the value the operator
    wrote (not a position), in the plan, the executor and host units."""
    plan = compute(deployment(svc('b', order=10), svc('a', order=-5),
                              svc('c', order=10)), [])
    assert [(order, [a.name for a in group]) for order, group in
            plan.steps[0].by_start_order()] == [(-5, ['a']),
                                                 (10, ['b', 'c'])]
    assert plan.describe() == ['step 1 start_order -5: create a (new)',
                               'step 1 start_order 10: create b (new)',
                               'step 1 start_order 10: create c (new)']
    assert [[a['name'] for a in g] for g in
            plan.to_data()['steps'][0]['groups']] == [['a'], ['b', 'c']]


def test_image_refs_and_needs_explaining_are_the_plans():
    """What the shell looks up and whether it reads old definitions are
    decided here, not in deploy."""
    d = deployment(svc('a', image='tdh/b:1'), svc('b', image='tdh/a:1'),
                   svc('c', image='tdh/a:1'), exec_('x', 'a', step=2))
    assert planning.image_refs(d) == ['tdh/a:1', 'tdh/b:1']
    old = svc('a', h='old', image='tdh/b:1')
    assert planning.needs_explaining(compute(
        deployment(svc('a', h='new', image='tdh/b:1')), [seen(old)]))
    assert not planning.needs_explaining(compute(deployment(old),
                                                 [seen(old)]))
