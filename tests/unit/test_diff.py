"""Which fields changed (diff.py) and how the plan carries them."""

import dataclasses

from tripleo_docker_hook import definitions
from tripleo_docker_hook import diff
from tripleo_docker_hook import masking
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning

IMG = 'tdh/a:1'


def parse(**spec):
    base = {'image': IMG, 'net': 'host', 'command': ['sleep', '1']}
    base.update(spec)
    return definitions.parse({'docker_config': {'step_1': {'svc_a': base}}}
                             ).containers[0]


def test_image_environment_volumes_healthcheck():
    old = parse(environment=['DEBUG=0', 'KEEP=1', 'GONE=x'],
                volumes=['/a:/a:ro', '/b:/b:ro', '/c:/c:ro'],
                healthcheck={'test': 'true'})
    new = parse(image='tdh/a:2', environment=['DEBUG=1', 'KEEP=1',
                                              'NEW=y'],
                volumes=['/a:/a:ro', '/b:/b:ro', '/c2:/c:rw'],
                healthcheck={'test': 'false'})
    lines = diff.container_changes(old, new)
    assert 'image tdh/a:1 → tdh/a:2' in lines
    assert 'environment.DEBUG: "0" → "1"' in lines
    assert 'environment.GONE: removed' in lines
    assert 'environment.NEW: added "y"' in lines
    assert 'volumes[2]: /c:/c:ro → /c2:/c:rw' in lines
    assert 'healthcheck.test ["CMD-SHELL", "true"] → ' \
        '["CMD-SHELL", "false"]' in lines
    assert not [line for line in lines if 'KEEP' in line]
    assert diff.container_changes(old, old) == ()


def test_a_mount_added_in_front_changes_one_line():
    old = parse(volumes=['/b:/b:ro', '/c:/c:ro'])
    new = parse(volumes=['/a:/a:ro', '/b:/b:ro', '/c:/c:ro'])
    assert diff.container_changes(old, new) == ('volumes[0]: added '
                                               '/a:/a:ro',)
    assert diff.container_changes(new, old) == (
        'volumes[0]: removed /a:/a:ro (index in the previous definition)',)


def test_secret_values_are_masked_on_both_sides():
    old = parse(environment=['DB_PASSWORD=hunter2', 'X=1'])
    new = parse(environment=['DB_PASSWORD=swordfish', 'X=1'])
    (line,) = diff.container_changes(old, new)
    assert line == 'environment.DB_PASSWORD: *** → ***'
    assert 'hunter2' not in line and 'swordfish' not in line


def test_config_volume_and_scalars():
    old = dataclasses.replace(parse(), config_hashes=(
        ('config volume keystone', 'h1'), ('config volume mysql', 'm1')))
    new = dataclasses.replace(parse(privileged=True, restart='always'),
                              config_hashes=(
        ('config volume keystone', 'h2'), ('config volume mysql', 'm1')))
    lines = diff.container_changes(old, new)
    assert 'config volume keystone: content changed' in lines
    assert 'privileged false → true' in lines
    assert 'restart_policy no → always' in lines
    assert not [line for line in lines if 'mysql' in line]


def test_long_values_are_cut():
    old = parse(command=['sh', '-c', 'x' * 500])
    new = parse(command=['sh', '-c', 'y' * 500])
    (line,) = diff.container_changes(old, new)
    assert len(line) < 2 * diff.MAX_VALUE + 20 and '…' in line


def test_equal_settings_say_why_the_hash_moved():
    a = parse()
    b = dataclasses.replace(a, source_hash='other')
    assert 'settings equal' in diff.explain_hash_change(a, b)[0]
    assert 'not on record' in diff.explain_hash_change(None, b)[0]


def _observed(c, name=None):
    return model.Observed(id='id-' + c.name, name=name or c.name,
                          image_id='sha256:x', state='running',
                          labels=planning.labels_for('dep', 'id', c))


def _deployment(*containers):
    return model.Deployment(steps=(model.Step(1, tuple(containers)),))


def test_plan_explain_uses_the_definition_the_container_runs():
    old = parse(environment=['LEVEL=info'])
    other = parse(environment=['LEVEL=warn'])  # an older, different one
    new = parse(environment=['LEVEL=debug'])
    plan = planning.compute('dep', 'id', _deployment(new),
                            [_observed(old)])
    (action,) = plan.changes
    assert action.reason == planning.DEFINITION_CHANGED
    explained = planning.explain(plan, [other, old])
    (action,) = explained.changes
    assert action.details == ('environment.LEVEL: "info" → "debug"',)
    assert '    environment.LEVEL: "info" → "debug"' in explained.describe()
    step = explained.to_data()['steps'][0]['groups'][0][0]
    assert step['changes'] == ['environment.LEVEL: "info" → "debug"']
    # without the running definition on record: said so, no guess
    (action,) = planning.explain(plan, [other]).changes
    assert 'not on record' in action.details[0]


def test_plan_explain_leaves_other_reasons_alone():
    c = parse()
    stopped = dataclasses.replace(_observed(c), state='exited', exit_code=1)
    plan = planning.compute('dep', 'id', _deployment(c), [stopped])
    assert planning.explain(plan, [c]) == plan


def test_masker_masks_explained_environment():
    old = parse(environment=['CONNECTION=mysql://u:longsecret@db/x'])
    new = parse(environment=['CONNECTION=mysql://u:othersecret@db/x'])
    masker = masking.Masker()
    masker.add_environment(old.environment + new.environment)
    text = masker.mask('\n'.join(diff.container_changes(old, new)))
    assert 'secret' not in text and '***' in text


def test_kept_definitions_are_parsed_only_until_the_running_one(
        monkeypatch):
    """deploy.explained reads kept records likeliest first and stops once
    every changed container's running definition is found; one never
    found reads them all (then said "not on record")."""
    from tripleo_docker_hook import deploy
    old = parse(environment=['LEVEL=info'])
    other = parse(environment=['LEVEL=warn'])
    new = parse(environment=['LEVEL=debug'])
    records = {'current': old, 'attempted': new, 'gen1': other}
    parsed = []

    def stored(rec, conf, masker, observed=None):
        parsed.append(rec)
        return _deployment(records[rec])
    monkeypatch.setattr(deploy, 'stored_definition', stored)

    class State:
        def kept(self):
            return ['current', 'attempted', 'gen1']

    plan = planning.compute('dep', 'id', _deployment(new), [_observed(old)])
    (action,) = deploy.explained(plan, State(), None, None).changes
    assert action.details == ('environment.LEVEL: "info" → "debug"',)
    assert parsed == ['current']

    parsed.clear()
    unknown = parse(environment=['LEVEL=none'])
    plan = planning.compute('dep', 'id', _deployment(new),
                            [_observed(unknown)])
    (action,) = deploy.explained(plan, State(), None, None).changes
    assert parsed == ['current', 'attempted', 'gen1']
    assert 'not on record' in action.details[0]
