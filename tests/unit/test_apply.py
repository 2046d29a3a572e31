"""The executor's branches with a scripted engine (container behaviour
itself is proven against the real engine in tests/functional)."""

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

    def stop(self, name, timeout=None):
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
    action = planning.Action(planning.REPLACE, 'web', c, old, 'changed')
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
        planning.REMOVE, 'old', observed=gone, reason='x'),))
    applying.execute(plan, eng, reporting.Report(Masker()))
    assert eng.calls == [('stop', 'gone'), ('remove', 'gone')]
