"""state_dir: lock, current/previous/attempted definitions, exec records."""

import json
import multiprocessing
import os
import stat
import time

import pytest

from tripleo_docker_hook import cleanup
from tripleo_docker_hook import errors
from tripleo_docker_hook import state


def rec(config, doc_id='id'):
    return {'name': 'd', 'id': doc_id, 'group': 'g', 'config': config}


def test_life_cycle_and_rollback_target(tmp_path):
    st = state.DeploymentState(str(tmp_path), 'a/b..c')
    assert st.rollback_target() is None
    st.attempt(rec({'v': 1}, 'i1'))
    assert st.active
    st.succeeded(rec({'v': 1}, 'i1'))
    assert st.rollback_target() is None
    st.attempt(rec({'v': 2}, 'i2'))
    st.succeeded(rec({'v': 2}, 'i2'))
    assert st.rollback_target()['config'] == {'v': 1}
    # same config with a new Heat id does not lose the previous one
    st.succeeded(rec({'v': 2}, 'i3'))
    assert st.rollback_target()['config'] == {'v': 1}
    # a failed apply: roll back to the last good one
    st.attempt(rec({'v': 3}, 'i4'))
    assert st.rollback_target()['config'] == {'v': 2}
    assert state.deployments(str(tmp_path)) == ['a/b..c']
    mode = stat.S_IMODE(os.stat(st._file(state.CURRENT)).st_mode)
    assert mode == 0o600
    st.deleted()
    assert not st.active
    assert st.read(state.PREVIOUS)['config'] == {'v': 2}


# -- rollback_choice: which kept definition a rollback applies (pure) -----

def _kept(**kw):
    return state.Kept(path='/state/d', **kw)


TAKEN = {'unit': 'nova.service', 'taken_over': True}
CLAIMED = {'unit': 'absent.service', 'taken_over': False}


def _refused(kept, generation=None, held_units=()):
    with pytest.raises(errors.DeploymentFailed) as info:
        state.rollback_choice('d', kept, generation, held_units)
    return str(info.value)


def test_rollback_choice_previous_or_last_good():
    cur, prev, att = rec({'v': 2}), rec({'v': 1}), rec({'v': 3})
    choose = state.rollback_choice
    assert choose('d', _kept(current=cur, previous=prev)) is prev
    # a failed apply left 'attempted': back to the last good one
    assert choose('d', _kept(current=cur, previous=prev,
                             attempted=att)) is cur
    # failed before any success: the one before, if any
    assert choose('d', _kept(previous=prev, attempted=att)) is prev
    assert _refused(_kept(current=cur)) == (
        'deployment d: no previous definition in /state/d to roll back to')
    assert _refused(_kept()) == _refused(_kept(attempted=att))


def test_rollback_choice_baremetal_only_when_nothing_is_kept():
    prev = rec({'v': 1})
    assert state.rollback_choice('d', _kept(), held_units=[TAKEN]) == \
        state.BAREMETAL == {'id': 'baremetal', 'group': '', 'config': {}}
    # a copy: the caller may change it
    assert state.rollback_choice('d', _kept(), held_units=[TAKEN]) is not \
        state.BAREMETAL
    assert state.rollback_choice('d', _kept(previous=prev),
                                 held_units=[TAKEN]) is prev
    assert state.rollback_choice('d', _kept(), held_units=[CLAIMED,
                                                           TAKEN]) == \
        state.BAREMETAL


def test_rollback_choice_claim_only_units_make_no_target():
    # nothing was stopped or disabled: nothing to give back
    assert _refused(_kept(), held_units=[CLAIMED]) == (
        'deployment d: no previous definition in /state/d to roll back '
        'to; its host units (absent.service) were claimed but never '
        'taken over: nothing to give back')


def test_rollback_choice_generation():
    one, two = rec({'v': 1}), rec({'v': 2})
    kept = _kept(current=two, previous=one, generations=((1, one), (2, two)))
    assert state.rollback_choice('d', kept, 1) is one
    assert state.rollback_choice('d', kept, 2) is two
    assert _refused(kept, 3) == 'deployment d: no generation 3 (kept: 1, 2)'
    # a generation is asked for: no fallback to held units
    assert _refused(_kept(), 1, held_units=[TAKEN]) == (
        'deployment d: no generation 1 (kept: none)')


def test_read_kept_feeds_the_chooser(tmp_path):
    st = state.DeploymentState(str(tmp_path), 'd')
    assert st.read_kept() == state.Kept(path=st.path)
    for v in (1, 2):
        st.attempt(rec({'v': v}, f'i{v}'))
        st.succeeded(rec({'v': v}, f'i{v}'))
    st.attempt(rec({'v': 3}, 'i3'))
    kept = st.read_kept()
    assert [n for n, _ in kept.generations] == [1, 2]
    assert kept.attempted['config'] == {'v': 3}
    assert state.rollback_choice('d', kept) == st.rollback_target() == \
        st.read(state.CURRENT)


def test_record_keeps_no_inputs():
    class Doc:
        name, id, group, config = 'd', 'i', 'g', {'x': 1}
        inputs = {'deploy_password': 'secret'}
    assert 'secret' not in repr(state.record(Doc()))


def test_exec_records_roundtrip(tmp_path):
    st = state.DeploymentState(str(tmp_path), 'd')
    assert st.execs() == {}
    st.save_execs({'e': {'ok': True}})
    assert st.execs() == {'e': {'ok': True}}


def _hold(path, seconds, ready):
    with state.host_lock(path, 1):
        ready.set()
        time.sleep(seconds)


def test_lock_waits_then_times_out(tmp_path):
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold,
                                   args=(str(tmp_path), 3, ready))
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(errors.LockTimeout):
            with state.host_lock(str(tmp_path), 0.2):
                pass
        with state.host_lock(str(tmp_path), 20):
            assert proc.exitcode is not None or not proc.is_alive()
    finally:
        proc.join()


def test_lock_released_when_holder_is_killed(tmp_path):
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold,
                                   args=(str(tmp_path), 60, ready))
    proc.start()
    assert ready.wait(10)
    proc.kill()
    proc.join()
    with state.host_lock(str(tmp_path), 5):
        pass


GOOD = ('[{"name": "keep", "group": "tripleo-docker-hook", "id": "1"},'
        ' {"name": "other", "group": "script", "id": "2"},'
        ' {"group": "tripleo-docker-hook", "id": "3", "inputs":'
        '  [{"name": "deploy_resource_name", "value": "byres"}]},'
        ' {"name": "comp", "group": "component", "id": "4", "config":'
        '  {"configs": [{"tool": "tripleo-docker-hook"}]}}]')


@pytest.mark.parametrize('text', [
    None, '', '  \n', '[]', '{}', '[{"name": "x"', 'garbage', '[1, 2]',
    '[{"group": "tripleo-docker-hook", "id": "nameless"}]', '"[]"',
    # issue 11: only other groups' items; a group ours but for case; a
    # name the hook would refuse; a key given twice.
    '[{"name": "x", "group": "script", "id": "1"}]',
    '[{"name": "x", "group": "tripleo-docker-hook", "id": "1"},'
    ' {"name": "y", "group": "TripleO-Docker-Hook", "id": "2"}]',
    '[{"name": true, "group": "tripleo-docker-hook", "id": "1"}]',
    '[{"name": "x", "name": "y", "group": "tripleo-docker-hook"}]',
    '[{"name": "' + 'x' * 300 + '", "group": "tripleo-docker-hook"}]'])
def test_cleanup_distrusts_bad_input(text):
    assert cleanup.wanted_deployments(text, cleanup.DEFAULT_GROUPS) is None


def test_cleanup_reads_names_of_our_groups():
    assert cleanup.wanted_deployments(GOOD, cleanup.DEFAULT_GROUPS) == {
        'keep', 'byres', 'comp'}


@pytest.mark.parametrize('item', [
    {'name': 12, 'id': '1'},
    {'name': '', 'id': '1', 'inputs': [
        {'name': 'deploy_resource_name', 'value': 'first'},
        {'name': 'deploy_resource_name', 'value': 'last'}]},
    {'id': '1', 'inputs': [{'name': 'deploy_resource_name', 'value': 7}]},
    {'name': 'plain', 'id': '1'},
])
def test_cleanup_uses_the_hooks_identity(item):
    """One rule for both: the name the cleanup keeps is the hook's."""
    from tripleo_docker_hook import document
    item = dict(item, group='tripleo-docker-hook')
    text = json.dumps([item])
    assert cleanup.wanted_deployments(text, cleanup.DEFAULT_GROUPS) == {
        document.parse(dict(item, config={})).name}


def test_cleanup_group_as_heat_config_finds_hooks():
    text = json.dumps([{'name': 'x', 'group': 'tripleo-docker-hook!',
                        'id': '1'}])
    assert cleanup.wanted_deployments(text, cleanup.DEFAULT_GROUPS) == {'x'}


def test_cleanup_keeps_deployments_of_the_old_hook_groups():
    """The agents image runs the hook as docker-cmd and kubelet too: their
    still-listed deployments must count as wanted by default (issue 13)."""
    text = ('[{"name": "dc", "group": "docker-cmd", "id": "1"},'
            ' {"name": "kl", "group": "kubelet", "id": "2"}]')
    assert cleanup.wanted_deployments(text, cleanup.DEFAULT_GROUPS) == {
        'dc', 'kl'}
    from oslo_config import cfg

    from tripleo_docker_hook import opts
    conf = cfg.ConfigOpts()
    opts.register(conf)
    conf([], default_config_files=[])
    assert tuple(conf.hook_groups) == cleanup.DEFAULT_GROUPS


def test_vanished_only_among_active_known_deployments(tmp_path):
    for name in ('keep', 'gone', 'deleted'):
        state.DeploymentState(str(tmp_path), name).attempt(rec({}))
    state.DeploymentState(str(tmp_path), 'deleted').deleted()
    assert cleanup.vanished(str(tmp_path), {'keep'}) == ['gone']


def test_recovery_clears_only_leftover_shapes(tmp_path):
    sd = tmp_path / 'state'
    (sd / 'deployments' / 'x').mkdir(parents=True)
    leftovers = [sd / '.tmp-abcd_123',
                 sd / 'deployments' / 'x' / '.tmp-zzzzzzzz',
                 sd / 'deployments' / 'x' / 'execs.json.tmp-0a1b2c3d']
    kept = [sd / 'lock', sd / 'deployments' / 'x' / 'current.json',
            sd / 'deployments' / 'x' / '.tmp-short']
    for path in leftovers + kept:
        path.write_text('x')
    removed = state.clear_leftovers(str(sd))
    assert sorted(removed) == sorted(map(str, leftovers))
    assert not any(p.exists() for p in leftovers)
    assert all(p.exists() for p in kept)


def test_generations_grow_only_on_change_and_are_capped(tmp_path):
    st = state.DeploymentState(str(tmp_path), 'dep')
    for i in range(state.GENERATIONS_KEPT + 3):
        rec = {'name': 'dep', 'id': f'id{i}', 'config': {'n': i}}
        st.attempt(rec)
        st.succeeded(rec)
        st.attempt(dict(rec, id=f'again{i}'))   # same config, new id
        st.succeeded(dict(rec, id=f'again{i}'))
    numbers = [n for n, _ in st.generations()]
    assert numbers == list(range(4, state.GENERATIONS_KEPT + 4))
    assert st.generation(4)['config'] == {'n': 3}
    assert st.generation(1) is None
    st.forget()
    assert not st.exists


def test_a_killed_write_leaves_a_shape_recovery_removes(tmp_path,
                                                        monkeypatch):
    """The one atomic write (atomicfile) and state's recovery agree on
    the temporary name."""
    from tripleo_docker_hook import atomicfile
    st = state.DeploymentState(str(tmp_path), 'd')
    st.save_execs({'a': {'ok': True}})

    def killed(src, dst):
        raise KeyboardInterrupt   # stands for kill -9 between the two
    monkeypatch.setattr(atomicfile.os, 'replace', killed)
    monkeypatch.setattr(atomicfile.os, 'unlink', lambda p: None)
    with pytest.raises(KeyboardInterrupt):
        st.save_execs({'a': {'ok': False}})
    monkeypatch.undo()
    assert len(state.clear_leftovers(str(tmp_path))) == 1
    assert st.execs() == {'a': {'ok': True}}


def test_corrupt_state_file_is_a_warning_not_silently_absent(tmp_path,
                                                             caplog):
    st = state.DeploymentState(str(tmp_path), 'd')
    st.save_execs({'a': {'ok': True}})
    path = st._file(state.EXECS)
    with open(path, 'w') as f:
        f.write('{"a": {"ok": tr')    # torn by a disk full, say
    with caplog.at_level('WARNING'):
        assert st.execs() == {}
    assert path in caplog.text and 'corrupt' in caplog.text
    st.save_execs({'a': {'ok': True}})   # the next write replaces it
    assert st.execs() == {'a': {'ok': True}}
