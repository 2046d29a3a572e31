"""Host units a container replaces: definitions, the pure unit plan, the
executor's branches (against a fake systemd; the real one is in
tests/functional/test_baremetal_upgrade.py) and the records."""

import pytest

from tripleo_docker_hook import apply as applying
from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import host_units
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import unit_plan
from tripleo_docker_hook.masking import Masker
from tripleo_docker_hook.report import Report
from tripleo_docker_hook.unit_plan import UnitState

NOVA = 'openstack-nova-compute.service'
RUNNING = UnitState(NOVA, 'loaded', 'active', 'running', 'enabled')
STOPPED = UnitState(NOVA, 'loaded', 'inactive', 'dead', 'disabled')
ABSENT = UnitState(NOVA, 'not-found', 'inactive', 'dead', '')


def errors_of(config):
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    return [str(e) for e in info.value.errors]


def compute_config(**spec):
    return {'step_3': {'nova_compute': dict({'image': 'nova:1'}, **spec)}}


# -- definitions --
def test_docker_config_host_services_and_not_in_the_hash():
    plain = definitions.parse(compute_config()).containers[0]
    claimed = definitions.parse(compute_config(
        host_services=[NOVA, 'nova-api@1.socket'])).containers[0]
    assert claimed.host_services == (NOVA, 'nova-api@1.socket')
    assert plain.host_services == ()
    # Claiming a unit never recreates the container.
    assert claimed.source_hash == plain.source_hash
    one = definitions.parse(compute_config(host_services=NOVA))
    assert one.containers[0].host_services == (NOVA,)


@pytest.mark.parametrize('value, message', [
    (['openstack-nova-compute'], 'did you mean "openstack-nova-compute.'
     'service"'),
    (['nova@.service'], 'not a systemd unit name'),
    (['nova.mount'], 'not a systemd unit name'),
    (['a b.service'], 'not a systemd unit name'),
    (['-x.service'], 'not a systemd unit name'),
    (['x' * 250 + '.service'], 'not a systemd unit name'),
    ([3], 'must be a systemd unit name'),
    ({'a': 1}, 'must be a list of systemd unit names'),
    ([NOVA, NOVA], 'Duplicate value'),
])
def test_docker_config_bad_unit_names(value, message):
    errs = errors_of(compute_config(host_services=value))
    assert len(errs) == 1, errs
    assert errs[0].startswith('step_3.nova_compute.host_services')
    assert message in errs[0]


def test_one_shot_cannot_replace_a_host_service():
    errs = errors_of(compute_config(detach=False, host_services=[NOVA]))
    assert errs == ['step_3.nova_compute.host_services: Forbidden: only a '
                    'long-running container (detach: true) can replace a '
                    'host service']


def test_exec_has_no_host_services():
    errs = errors_of({'step_3': {'x_exec': {
        'action': 'exec', 'command': ['a', 'true'],
        'host_services': [NOVA]}}})
    assert any('host_services' in e for e in errs), errs


def test_one_unit_two_containers_of_a_deployment():
    config = compute_config(host_services=[NOVA])
    config['step_4'] = {'nova_other': {'image': 'nova:1',
                                       'host_services': [NOVA]}}
    errs = errors_of(config)
    assert errs == [
        'step_4.nova_other.host_services: Duplicate value: '
        '"openstack-nova-compute.service": already replaced by container '
        'nova_compute; a host unit can be replaced by one container only']


def pod(annotations, containers=('compute', 'api'), init=()):
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': 'nova', 'annotations': annotations},
            'spec': {'initContainers': [{'name': n, 'image': 'nova:1'}
                                        for n in init],
                     'containers': [{'name': n, 'image': 'nova:1'}
                                    for n in containers]}}


def test_pod_annotations():
    d = definitions.parse(pod({
        'tripleo.org/host-services': f'{NOVA}, nova-x.socket',
        'tripleo.org/host-services.api': 'openstack-nova-api.service'},
        init=('setup',)))
    got = {c.pod_container: c.host_services for c in d.containers}
    assert got == {'setup': (), 'compute': (NOVA, 'nova-x.socket'),
                   'api': ('openstack-nova-api.service',)}
    plain = definitions.parse(pod({}, init=('setup',)))
    assert [c.source_hash for c in d.containers] == \
        [c.source_hash for c in plain.containers]


@pytest.mark.parametrize('annotations, message', [
    ({'tripleo.org/host-services.nope': NOVA}, 'Not found: "nope"'),
    ({'tripleo.org/host-services.setup': NOVA}, 'Forbidden: only a '
     'long-running app container'),
    ({'tripleo.org/host-services': 'nova'}, 'Invalid value: "nova"'),
    ({'tripleo.org/host-services': ' , '}, 'Required value'),
    ({'tripleo.org/host-services': NOVA,
      'tripleo.org/host-services.compute': 'x.service'},
     'already has its host services'),
    ({'tripleo.org/host-services': NOVA,
      'tripleo.org/host-services.api': NOVA}, 'Duplicate value'),
])
def test_pod_annotation_errors(annotations, message):
    errs = errors_of(pod(annotations, init=('setup',)))
    assert len(errs) == 1, errs
    assert errs[0].startswith('metadata.annotations[tripleo.org/host-'
                              'services'), errs
    assert message in errs[0]


# -- unit plan --
DEP = 'NovaCompute'


def desired(*units, name='nova_compute', order=2):
    others = model.Container(name='nova_libvirt', image='x', step=3)
    c = model.Container(name=name, image='nova:1', step=3,
                        start_order=order, host_services=tuple(units))
    steps = (model.Step(3, tuple(sorted([others, c], key=lambda x: (
        x.start_order, x.name)))),)
    return model.Deployment(steps=steps)


def container_plan(d):
    return planning.compute(DEP, 'cfg', d, [])


def test_plan_takes_over_a_running_enabled_unit_before_its_group():
    d = desired(NOVA)
    units = unit_plan.compute(DEP, d, {NOVA: RUNNING}, {})
    [a] = units.takeovers
    assert (a.verb, a.unit, a.container, a.step, a.start_order) == (
        'takeover', NOVA, 'nova_compute', 3, 2)
    assert a.stop and a.disable and a.before == RUNNING
    assert units.at(3, 2) == (a,) and units.at(3, 0) == ()
    assert units.describe() == [
        'step 3 start_order 2: stop and disable host unit '
        'openstack-nova-compute.service (replaced by nova_compute; now '
        'enabled, active)']
    assert units.to_data()['takeovers'][0]['before']['file_state'] == \
        'enabled'


@pytest.mark.parametrize('st, stop, disable', [
    (UnitState(NOVA, 'loaded', 'active', 'running', 'disabled'), True,
     False),
    (UnitState(NOVA, 'loaded', 'inactive', 'dead', 'enabled'), False, True),
    (UnitState(NOVA, 'loaded', 'activating', 'start', 'static'), True,
     False),
    (UnitState(NOVA, 'loaded', 'failed', 'failed', 'enabled-runtime'),
     False, True),
])
def test_plan_stops_and_disables_only_what_is_needed(st, stop, disable):
    d = desired(NOVA)
    [a] = unit_plan.compute(DEP, d, {NOVA: st}, {}).takeovers
    assert (a.stop, a.disable) == (stop, disable)


@pytest.mark.parametrize('st, note', [
    (STOPPED, 'already stopped and disabled'),
    (ABSENT, 'not present on this host'),
    (UnitState(NOVA, 'masked', 'inactive', 'dead', 'masked'),
     'already stopped and disabled'),
])
def test_plan_leaves_stopped_or_absent_units(st, note):
    d = desired(NOVA)
    units = unit_plan.compute(DEP, d, {NOVA: st}, {})
    assert units.takeovers == () and not units.changes
    assert note in units.notes[0]
    assert units.claims == ((NOVA, 'nova_compute'),)
    # left as it is: a claim-only record, saying what systemd said
    assert units.found == ((NOVA, st.describe()),)
    assert units.forget == ()


def test_plan_refuses_a_unit_of_another_deployment():
    records = {NOVA: {'deployment': 'Other', 'container': 'x',
                      'previous': RUNNING.to_data()}}
    with pytest.raises(errors.ValidationError) as info:
        unit_plan.compute(DEP, desired(NOVA), {NOVA: RUNNING}, records)
    assert str(info.value.errors[0]) == (
        'step_3.nova_compute.host_services: Duplicate value: '
        '"openstack-nova-compute.service": replaced by container x of '
        'deployment "Other"; a host unit can be replaced by one container '
        'only')
    # Once that deployment was deleted (released), the unit may move.
    records[NOVA]['released'] = 1
    units = unit_plan.compute(DEP, desired(NOVA), {NOVA: STOPPED},
                              records)
    assert units.claims == ((NOVA, 'nova_compute'),)


def test_release_only_when_asked_and_only_without_the_container():
    records = {NOVA: {'deployment': DEP, 'container': 'nova_compute',
                      'previous': RUNNING.to_data()},
               'b.service': {'deployment': DEP, 'container': 'nova_b',
                             'previous': RUNNING.to_data()},
               'o.service': {'deployment': 'Other', 'container': 'o',
                             'previous': RUNNING.to_data()}}
    before = model.Deployment(steps=(model.Step(1, (
        model.Container(name='nova_compute', image='x'),)),))
    assert unit_plan.units_to_query(DEP, before, records, True) == [
        'b.service', NOVA]
    plain = unit_plan.compute(DEP, before, {}, records)
    assert plain.releases == ()       # an ordinary apply never gives back
    states = {NOVA: STOPPED, 'b.service': UnitState(
        'b.service', 'loaded', 'inactive', 'dead', 'enabled')}
    units = unit_plan.compute(DEP, before, states, records,
                              release=True)
    [a] = units.releases
    assert (a.unit, a.enable, a.start) == ('b.service', False, True)
    assert 'stays stopped: container nova_compute is still deployed' in \
        units.notes[0]
    assert str(a) == 'start host unit b.service (no longer replaced by ' \
        'nova_b)'


def test_on_delete_lists_this_deployments_units():
    records = {NOVA: {'deployment': DEP}, 'x.service': {'deployment': 'O'},
               'y.service': {'deployment': DEP, 'released': 5}}
    assert unit_plan.on_delete(DEP, records) == [NOVA]


# -- executor (fake systemd, fake engine) --
class FakeSystemd:
    """Keeps unit states; ``stuck`` units ignore stop/disable."""

    def __init__(self, **states):
        self.states = {s.name: s for s in states.values()}
        self.calls = []
        self.stuck = set()
        self.closed = 0

    def state(self, unit):
        return self.states.get(unit) or UnitState(unit, 'not-found',
                                                  'inactive', 'dead', '')

    def _set(self, unit, **kw):
        import dataclasses
        self.calls.append((kw, unit))
        if unit not in self.stuck:
            self.states[unit] = dataclasses.replace(self.state(unit), **kw)

    def stop(self, unit):
        self._set(unit, active_state='inactive', sub_state='dead')

    def start(self, unit):
        self._set(unit, active_state='active', sub_state='running')

    def disable(self, unit):
        self._set(unit, file_state='disabled')

    def enable(self, unit):
        self._set(unit, file_state='enabled')

    def close(self):
        self.closed += 1


class FakeEngine:
    def __init__(self):
        self.stopped = []

    def stop(self, name, timeout=None):
        self.stopped.append(name)


def executor(tmp_path, units, sd):
    report = Report(Masker())
    ex = host_units.UnitExecutor(units, sd,
                                 host_units.Records(str(tmp_path)),
                                 FakeEngine(), report)
    return ex, report


def nova_takeover(tmp_path, stuck=False):
    """``(executor, report, systemd)`` replacing a running, enabled nova
    unit by the nova_compute container (``stuck``: systemd ignores us)."""
    d = desired(NOVA)
    sd = FakeSystemd(nova=RUNNING)
    if stuck:
        sd.stuck.add(NOVA)
    units = unit_plan.compute(DEP, d, {NOVA: RUNNING}, {})
    ex, report = executor(tmp_path, units, sd)
    return ex, report, sd


def test_takeover_records_and_reports(tmp_path):
    ex, report, sd = nova_takeover(tmp_path)
    ex.before_group(3, 0)
    assert sd.calls == []
    ex.before_group(3, 2)
    assert [c[0] for c in sd.calls] == [{'file_state': 'disabled'},
                                        {'active_state': 'inactive',
                                         'sub_state': 'dead'}]
    assert report.stdout == ['stopped and disabled host unit '
                             'openstack-nova-compute.service (replaced by '
                             'nova_compute)']
    [rec] = host_units.replaced_units(str(tmp_path))
    assert rec['unit'] == NOVA and rec['deployment'] == DEP
    assert rec['container'] == 'nova_compute'
    assert rec['previous']['file_state'] == 'enabled'
    assert rec['previous']['active_state'] == 'active'
    ex.finished()
    assert sd.closed == 1


def test_takeover_that_does_not_take_fails(tmp_path):
    ex, _, _ = nova_takeover(tmp_path, stuck=True)
    with pytest.raises(host_units.HostUnitError,
                       match='did not take: systemd says it is still active '
                             'and it is still enabled'):
        ex.before_group(3, 2)
    assert host_units.replaced_units(str(tmp_path)) == []


def test_step_failure_restores_units_and_stops_the_container(tmp_path):
    ex, report, sd = nova_takeover(tmp_path)
    ex.before_group(3, 2)
    ex.step_failed(2, 'other step')
    assert sd.state(NOVA).file_state == 'disabled'   # not this step's
    ex.step_failed(3, 'nova_compute: health check failed')
    assert sd.state(NOVA) == RUNNING
    assert ex.engine.stopped == ['nova_compute']
    assert report.stdout[-1] == (
        'restored host unit openstack-nova-compute.service (enabled and '
        'active again) because nova_compute failed: nova_compute: health '
        'check failed; nova_compute is stopped')
    assert host_units.replaced_units(str(tmp_path)) == []


def test_restore_when_the_container_was_never_created(tmp_path):
    """The create failed (no container): the unit is given back all the
    same, whatever words the engine uses for "not found" (podman's differ
    from Docker's): the typed error decides, not its text."""
    ex, report, sd = nova_takeover(tmp_path)
    ex.before_group(3, 2)

    def gone(name, timeout=None):
        raise errors.EngineNotFound(f'stop {name}: no container with name '
                                    f'or ID "{name}" found')
    ex.engine.stop = gone
    ex.step_failed(3, 'nova_compute: image missing')
    assert sd.state(NOVA) == RUNNING
    assert report.stdout[-1].startswith(
        'restored host unit openstack-nova-compute.service'), report.stdout
    assert host_units.replaced_units(str(tmp_path)) == []


def test_restore_that_does_not_take_is_reported_not_raised(tmp_path):
    ex, report, sd = nova_takeover(tmp_path)
    ex.before_group(3, 2)
    sd.stuck.add(NOVA)
    ex.step_failed(3)
    assert 'could not restore host unit openstack-nova-compute.service' in \
        report.stderr[-1]
    assert 'systemctl enable --now' in report.stderr[-1]


def test_release_gives_the_unit_back(tmp_path):
    records = host_units.Records(str(tmp_path))
    records.replaced(NOVA, DEP, 'nova_compute', RUNNING)
    sd = FakeSystemd(nova=STOPPED)
    units = unit_plan.compute(DEP, model.Deployment(),
                              {NOVA: STOPPED}, records.load(), release=True)
    ex, report = executor(tmp_path, units, sd)
    ex.after_removals()
    assert sd.state(NOVA) == RUNNING
    assert report.stdout == ['gave host unit openstack-nova-compute.service '
                             'back (enabled, active again; no longer '
                             'replaced by nova_compute)']
    assert records.load() == {}


def test_records_keep_the_first_previous_state_and_release(tmp_path):
    records = host_units.Records(str(tmp_path))
    records.replaced(NOVA, DEP, 'nova_compute', RUNNING)
    records.replaced(NOVA, DEP, 'nova_compute', STOPPED)
    assert records.load()[NOVA]['previous']['active_state'] == 'active'
    assert list(records.release(DEP)) == [NOVA]
    assert records.release(DEP) == {}
    assert host_units.replaced_units(str(tmp_path), DEP)[0]['released']
    records.claim({NOVA: 'nova2'}, 'Other')
    assert list(records.release(DEP)) == []
    rec = records.load()[NOVA]
    assert (rec['deployment'], rec['container']) == ('Other', 'nova2')
    assert 'released' not in rec
    assert host_units.replaced_units(str(tmp_path), DEP) == []


# -- the applier calls the executor at the right moments --
class Recorder(host_units.NoUnits):
    def __init__(self):
        self.events = []

    def after_removals(self):
        self.events.append('removals')

    def before_group(self, step, start_order):
        self.events.append(('group', step, start_order))

    def step_failed(self, step, why=''):
        self.events.append(('failed', step, why))

    def finished(self):
        self.events.append('finished')


def test_applier_hooks_on_success_and_failure():
    d = desired(NOVA)
    libvirt, compute = d.containers
    keep = planning.Plan(DEP, 'c', steps=(planning.StepPlan(3, (
        (planning.Action(planning.KEEP, 'nova_libvirt', libvirt),),
        (planning.Action(planning.KEEP, 'nova_compute', compute),))),))
    rec = Recorder()
    applying.execute(keep, None, Report(Masker()), units=rec)
    assert rec.events == ['removals', ('group', 3, 0), ('group', 3, 2),
                          'finished']

    class Broken:
        def create(self, *a):
            raise errors.EngineError('create nova_compute: boom')

    plan = container_plan(d)
    rec = Recorder()
    with pytest.raises(errors.DeploymentFailed):
        applying.execute(plan, Broken(), Report(Masker()), units=rec)
    assert rec.events[:2] == ['removals', ('group', 3, 0)]
    assert rec.events[-1][0:2] == ('failed', 3)
    assert 'finished' not in rec.events


def test_export_round_trip_keeps_host_services():
    from tripleo_docker_hook import export
    for config in (compute_config(host_services=[NOVA, 'x.socket']),
                   pod({'tripleo.org/host-services': NOVA,
                        'tripleo.org/host-services.api': 'a.service'})):
        d = definitions.parse(config)
        back = definitions.parse({'kind': 'List', 'apiVersion': 'v1',
                                  'items': export.to_pods(d)})
        assert [(c.name, c.host_services) for c in back.containers] == \
            [(c.name, c.host_services) for c in d.containers]
        assert any(c.host_services for c in back.containers)


def test_ctl_rollback_releases_units_and_rolls_a_first_upgrade_back(
        tmp_path, monkeypatch):
    from tripleo_docker_hook import deploy
    seen = []
    monkeypatch.setattr(deploy, 'run', lambda doc, *a, **kw: seen.append(
        (doc.config, kw)))

    class Conf:
        state_dir = str(tmp_path)

    report = Report(Masker())
    with pytest.raises(errors.DeploymentFailed, match='no previous'):
        deploy.rollback(DEP, Conf, report, Masker())
    host_units.Records(str(tmp_path)).replaced(NOVA, DEP, 'nova_compute',
                                               RUNNING)
    deploy.rollback(DEP, Conf, report, Masker())
    assert seen == [({}, {'release_units': True})]


def delete(tmp_path):
    """DELETE of deployment DEP (no containers) on ``tmp_path``; the
    report."""
    from tripleo_docker_hook import deploy

    class Conf:
        state_dir = str(tmp_path)
        lock_timeout = 5

    class Empty:
        def list_containers(self, deployment=None):
            return []

    report = Report(Masker())
    deploy.delete(DEP, 'cfg', Conf, report, Empty())
    return report


def test_delete_marks_units_released_and_says_so(tmp_path):
    host_units.Records(str(tmp_path)).replaced(NOVA, DEP, 'nova_compute',
                                               RUNNING)
    report = delete(tmp_path)
    assert report.stdout[-1] == (
        'host unit openstack-nova-compute.service stays stopped and disabled '
        '(its container was removed); to run it again: systemctl enable '
        '--now openstack-nova-compute.service')
    assert host_units.replaced_units(str(tmp_path), DEP)[0]['released']


@pytest.mark.parametrize('unit', [
    'docker.service', 'docker.socket', 'containerd.service',
    'dbus.service', 'dbus.socket', 'tripleo-docker-agents.service',
    'systemd-journald.service', 'systemd-fsck@sda1.service'])
def test_units_the_node_needs_cannot_be_claimed(unit):
    errs = errors_of(compute_config(host_services=[NOVA, unit]))
    assert len(errs) == 1, errs
    assert errs[0].startswith(
        'step_3.nova_compute.host_services[1]: Forbidden: '), errs


def test_a_claimed_alias_of_a_protected_unit_is_refused():
    """systemd's canonical name decides: an alias is no way around."""
    alias = 'dbus-org.freedesktop.login1.service'
    desired = definitions.parse(compute_config(host_services=[alias]))
    states = {alias: UnitState(alias, 'loaded', 'active', 'running',
                               'alias', 'systemd-logind.service')}
    with pytest.raises(errors.ValidationError) as info:
        unit_plan.compute('d', desired, states, {})
    (err,) = [str(e) for e in info.value.errors]
    assert err.startswith('step_3.nova_compute.host_services: Forbidden: '
                          f'{alias} is systemd-logind.service'), err
    # an ordinary unit's canonical name is itself: taken over
    states = {alias: UnitState(alias, 'loaded', 'active', 'running',
                               'enabled', alias)}
    units = unit_plan.compute('d', desired, states, {})
    assert [a.unit for a in units.takeovers] == [alias]


# -- claim-only records: a unit claimed but not taken over --
def apply_units(tmp_path, deployment, d, states, release=False, sd=None):
    """What one successful apply does to the records: plan, executor
    (fake systemd), finished.  The plan and the report."""
    records = host_units.Records(str(tmp_path))
    units = unit_plan.compute(deployment, d, states, records.load(),
                              release)
    sd = sd or FakeSystemd(**{u.split('.')[0]: s
                              for u, s in states.items()})
    ex, report = executor(tmp_path, units, sd)
    ex.after_removals()
    for step in d.steps:
        for c in step.containers:
            ex.before_group(step.number, c.start_order)
    ex.finished()
    return units, report, sd


@pytest.mark.parametrize('st, found', [
    (ABSENT, 'not present'), (STOPPED, 'disabled, inactive'),
    (UnitState(NOVA, 'masked', 'inactive', 'dead', 'masked'),
     'masked, inactive')])
def test_a_unit_left_as_it_is_gets_a_claim_only_record(tmp_path, st, found):
    units, _, sd = apply_units(tmp_path, DEP, desired(NOVA), {NOVA: st})
    assert units.takeovers == () and sd.calls == []
    [rec] = host_units.replaced_units(str(tmp_path))
    assert rec['unit'] == NOVA and rec['deployment'] == DEP
    assert rec['container'] == 'nova_compute'
    assert rec['previous'] is None and rec['taken_over'] is False
    assert rec['found'] == found and rec['time'] > 0
    assert 'released' not in rec
    assert host_units.replaced_units(str(tmp_path), taken_over=True) == []
    # A re-apply changes nothing, the record included.
    before = host_units.Records(str(tmp_path)).load()
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: st})
    assert host_units.Records(str(tmp_path)).load() == before


def test_a_claim_only_unit_is_refused_to_another_deployment(tmp_path):
    """Exactly as a taken-over unit: a validation error (status 2) naming
    the field, whatever its state now (here: installed and running)."""
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: ABSENT})
    records = host_units.Records(str(tmp_path)).load()
    for states in ({}, {NOVA: RUNNING}, {NOVA: ABSENT}):
        with pytest.raises(errors.ValidationError) as info:
            unit_plan.compute('Other', desired(NOVA, name='nova_b'),
                              states, records)
        assert info.value.status == 2
        assert [str(e) for e in info.value.errors] == [
            'step_3.nova_b.host_services: Duplicate value: '
            '"openstack-nova-compute.service": claimed (not taken over: '
            'not present) by container nova_compute of deployment '
            '"NovaCompute"; a host unit can be replaced by one container '
            'only']
    # the same for a Pod's annotation
    pod_d = definitions.parse(pod({'tripleo.org/host-services': NOVA}))
    with pytest.raises(errors.ValidationError) as info:
        unit_plan.compute('Other', pod_d, {}, records)
    assert str(info.value.errors[0]).startswith(
        'metadata.annotations[tripleo.org/host-services]: Duplicate value')


def test_delete_releases_a_claim_only_unit_for_another_deployment(
        tmp_path):
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: ABSENT})
    released = host_units.Records(str(tmp_path)).release(DEP)
    assert list(released) == [NOVA] and released[NOVA]['released']
    assert unit_plan.on_delete_line(NOVA, released[NOVA]) == (
        'host unit openstack-nova-compute.service is no longer claimed (its '
        'container was removed; it was never taken over: nothing to give '
        'back); another deployment may claim it')
    # Another deployment claims it now (the unit is still absent) ...
    units, _, _ = apply_units(tmp_path, 'Other', desired(NOVA, name='nova_b'),
                              {NOVA: ABSENT})
    assert units.claims == ((NOVA, 'nova_b'),)
    [rec] = host_units.replaced_units(str(tmp_path))
    assert (rec['deployment'], rec['container'], rec['previous']) == (
        'Other', 'nova_b', None)
    assert 'released' not in rec
    # ... and the first one is refused in its turn.
    with pytest.raises(errors.ValidationError):
        unit_plan.compute(DEP, desired(NOVA), {},
                          host_units.Records(str(tmp_path)).load())


def test_rollback_gives_nothing_back_for_a_claim_only_record(tmp_path):
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: STOPPED})
    records = host_units.Records(str(tmp_path)).load()
    # not even asked of systemd: nothing to give back
    assert unit_plan.units_to_query(DEP, model.Deployment(), records,
                                    True) == []
    # ctl rollback to a definition without the container: forgotten,
    # nothing started or enabled
    units, report, sd = apply_units(tmp_path, DEP, model.Deployment(), {},
                                    release=True,
                                    sd=FakeSystemd(nova=STOPPED))
    assert units.releases == () and not units.changes
    assert units.forget == ((NOVA, 'nova_compute'),)
    assert units.describe() == [
        'host unit openstack-nova-compute.service is no longer claimed by '
        'nova_compute (it was never taken over: nothing to give back)']
    assert units.to_data()['forget'] == [NOVA]
    assert sd.calls == [] and sd.state(NOVA) == STOPPED
    assert not any('gave host unit' in line for line in report.stdout)
    assert host_units.Records(str(tmp_path)).load() == {}


def test_an_apply_forgets_claim_only_units_it_no_longer_claims(tmp_path):
    """Nothing was stopped for it, so nothing keeps it: the unit is free
    for another deployment.  A taken-over unit stays recorded (an ordinary
    apply never gives a unit back)."""
    both = model.Deployment(steps=(model.Step(3, (
        model.Container(name='nova_compute', image='x', step=3,
                        host_services=(NOVA,)),
        model.Container(name='nova_b', image='x', step=3,
                        host_services=('b.service',)))),))
    b_running = UnitState('b.service', 'loaded', 'active', 'running',
                          'enabled')
    apply_units(tmp_path, DEP, both, {NOVA: ABSENT, 'b.service': b_running})
    assert [(r['unit'], r['taken_over']) for r in host_units.replaced_units(
        str(tmp_path))] == [('b.service', True), (NOVA, False)]
    units, _, sd = apply_units(tmp_path, DEP, model.Deployment(), {})
    assert units.forget == ((NOVA, 'nova_compute'),)
    assert units.releases == ()
    assert [r['unit'] for r in host_units.replaced_units(str(tmp_path))] == [
        'b.service']
    assert sd.calls == []
    unit_plan.compute('Other', desired(NOVA, name='x'), {},
                      host_units.Records(str(tmp_path)).load())


def test_a_claimed_unit_that_appears_later_is_taken_over_and_given_back(
        tmp_path):
    """The package is installed (running, enabled) after the claim: the
    owner's re-apply takes it over and the record then keeps the state to
    give back; ctl rollback gives it back."""
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: ABSENT})
    units, report, sd = apply_units(tmp_path, DEP, desired(NOVA),
                                    {NOVA: RUNNING})
    [a] = units.takeovers
    assert (a.stop, a.disable) == (True, True)
    assert sd.state(NOVA) == STOPPED
    [rec] = host_units.replaced_units(str(tmp_path))
    assert rec['taken_over'] is True
    assert rec['previous'] == RUNNING.to_data()
    assert 'found' not in rec
    assert host_units.replaced_units(str(tmp_path), taken_over=True)
    units, report, sd = apply_units(tmp_path, DEP, model.Deployment(),
                                    {NOVA: STOPPED}, release=True, sd=sd)
    assert sd.state(NOVA) == RUNNING
    assert report.stdout[-1].startswith('gave host unit '
                                        'openstack-nova-compute.service back')
    assert host_units.Records(str(tmp_path)).load() == {}


def test_ctl_rollback_invents_no_baremetal_target_for_claims_only(
        tmp_path, monkeypatch):
    from tripleo_docker_hook import deploy
    monkeypatch.setattr(deploy, 'run', lambda *a, **kw: pytest.fail(
        'nothing to roll back to'))

    class Conf:
        state_dir = str(tmp_path)

    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: ABSENT})
    with pytest.raises(errors.DeploymentFailed) as info:
        deploy.rollback(DEP, Conf, Report(Masker()), Masker())
    assert str(info.value).endswith(
        'to roll back to; its host units (openstack-nova-compute.service) '
        'were claimed but never taken over: nothing to give back')
    # another deployment's take-over does not make one either
    host_units.Records(str(tmp_path)).replaced('b.service', 'Other', 'b',
                                               RUNNING)
    with pytest.raises(errors.DeploymentFailed):
        deploy.rollback(DEP, Conf, Report(Masker()), Masker())


def test_delete_says_a_claim_only_unit_was_never_stopped(tmp_path):
    apply_units(tmp_path, DEP, desired(NOVA), {NOVA: ABSENT})
    report = delete(tmp_path)
    assert report.stdout[-1] == (
        'host unit openstack-nova-compute.service is no longer claimed (its '
        'container was removed; it was never taken over: nothing to give '
        'back); another deployment may claim it')
    assert not any('systemctl enable' in line for line in report.stdout)
    [rec] = host_units.replaced_units(str(tmp_path), DEP)
    assert rec['released'] and rec['previous'] is None
