"""The memo of oslo.config's answer (confcache) and the deferred oslo.log.

A no-op hook run must not import oslo.config or oslo.log, yet every value
must still be oslo.config's: any change of the config file, the ``OS_*``
environment or the command line re-parses.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tripleo_docker_hook import confcache


@pytest.fixture
def env(tmp_path, monkeypatch):
    conf = tmp_path / 'hook.conf'
    conf.write_text('[DEFAULT]\nworkers = 5\n[puppet]\nworkers = 2\n')
    cache = tmp_path / 'cache'
    monkeypatch.setenv(confcache.ENV_CONFIG, str(conf))
    monkeypatch.setenv(confcache.ENV_DIR, str(cache))
    for key in list(os.environ):
        if key.startswith('OS_'):
            monkeypatch.delenv(key)
    return conf, cache


def test_second_load_is_a_snapshot_with_oslo_values(env):
    first = confcache.load_options([])
    assert not isinstance(first, confcache.Snapshot)
    second = confcache.load_options([])
    assert isinstance(second, confcache.Snapshot)
    assert second.workers == first.workers == 5
    assert second.puppet.workers == first.puppet.workers == 2
    assert second.state_dir == first.state_dir
    assert second.debug is False  # oslo.log's options are there too
    # Every option of every group, same value.
    top, groups = confcache.values_of(first)
    for name, value in top.items():
        assert getattr(second, name) == value, name
    for group, values in groups.items():
        for name, value in values.items():
            assert getattr(getattr(second, group), name) == value
    assert second.real().workers == 5


def test_unknown_option_is_an_attribute_error(env):
    confcache.load_options([])
    snap = confcache.load_options([])
    with pytest.raises(AttributeError):
        snap.no_such_option  # noqa: B018
    assert getattr(snap, 'no_such_option', 'dflt') == 'dflt'


def test_config_file_change_reparses(env):
    conf, _ = env
    confcache.load_options([])
    conf.write_text('[DEFAULT]\nworkers = 7\n')
    again = confcache.load_options([])
    assert not isinstance(again, confcache.Snapshot)
    assert again.workers == 7
    assert confcache.load_options([]).workers == 7


def test_environment_change_reparses(env, monkeypatch):
    confcache.load_options([])
    monkeypatch.setenv('OS_DEFAULT__WORKERS', '3')
    again = confcache.load_options([])
    assert not isinstance(again, confcache.Snapshot)
    assert again.workers == 3
    assert confcache.load_options([]).workers == 3
    monkeypatch.delenv('OS_DEFAULT__WORKERS')
    assert confcache.load_options([]).workers == 5


def test_argv_is_part_of_the_key(env, tmp_path):
    confcache.load_options([])
    other = tmp_path / 'other.conf'
    other.write_text('[DEFAULT]\nworkers = 9\n')
    got = confcache.load_options(['--config-file', str(other)])
    assert got.workers == 9


def test_open_directory_or_foreign_memo_is_never_trusted(env):
    conf, cache = env
    confcache.load_options([])
    memo = next(cache.iterdir())
    # Someone else could have written it: group/world-writable directory.
    os.chmod(cache, 0o777)
    assert not isinstance(confcache.load_options([]), confcache.Snapshot)
    os.chmod(cache, 0o700)
    assert isinstance(confcache.load_options([]), confcache.Snapshot)
    os.chmod(memo, 0o644)
    assert not isinstance(confcache.load_options([]), confcache.Snapshot)


def test_tampered_or_corrupt_memo_reparses(env):
    conf, cache = env
    confcache.load_options([])
    memo = next(cache.iterdir())
    data = json.loads(memo.read_text())
    data['key'] = '0' * 64
    data['values']['workers'] = 99
    memo.write_text(json.dumps(data))
    assert confcache.load_options([]).workers == 5
    memo.write_text('{not json')
    assert confcache.load_options([]).workers == 5
    assert isinstance(confcache.load_options([]), confcache.Snapshot)


def test_memos_are_bounded(env, tmp_path, monkeypatch):
    conf, cache = env
    monkeypatch.setattr(confcache, 'MAX_MEMOS', 3)
    for i in range(6):
        other = tmp_path / f'c{i}.conf'
        other.write_text(f'[DEFAULT]\nworkers = {i + 1}\n')
        monkeypatch.setenv(confcache.ENV_CONFIG, str(other))
        confcache.load_options([])
        os.utime(confcache._memo_path(str(cache), str(other)),
                 (1000 + i, 1000 + i))
    assert len(list(cache.iterdir())) == 3
    assert isinstance(confcache.load_options([]), confcache.Snapshot)


def test_symlinked_memo_is_not_followed(env, tmp_path):
    conf, cache = env
    confcache.load_options([])
    memo = next(cache.iterdir())
    target = tmp_path / 'elsewhere.json'
    target.write_text(memo.read_text())
    memo.unlink()
    memo.symlink_to(target)
    assert not isinstance(confcache.load_options([]), confcache.Snapshot)


SCRIPT = textwrap.dedent('''
    import logging, sys
    from tripleo_docker_hook import confcache, hook
    from tripleo_docker_hook.masking import Masker
    from tripleo_docker_hook.report import Report
    confcache.load_options([])            # writes the memo
    for mod in [m for m in sys.modules if m.startswith(('oslo_', 'netaddr'))]:
        del sys.modules[mod]
    conf = confcache.load_options([])
    assert isinstance(conf, confcache.Snapshot), conf
    masker = Masker(); masker.add(['s3cret'])
    report = Report(masker)
    hook._setup_logging(conf, masker, report)
    log = logging.getLogger('tripleo_docker_hook.deploy')
    log.debug('a no-op: nothing written')
    deferred = [h for h in logging.getLogger().handlers
                if isinstance(h, hook.DeferredOsloLog)][0]
    deferred.finish()                     # a no-op's end: loads nothing
    print('after debug:', sorted(m for m in sys.modules
                                 if m in ('oslo_config.cfg', 'oslo_log.log',
                                          'docker')))
    log.info('first line worth writing, password s3cret')
    log.warning('a warning')
    deferred.finish()                     # what hook.run does at the end
    print('after info:', sorted(m for m in sys.modules
                                if m in ('oslo_config.cfg', 'oslo_log.log')))
    print('report:', report.answer()['deploy_stderr'].strip())
    log.info('after the set-up')
''')


def test_noop_logging_imports_no_oslo_and_first_record_sets_it_up(env):
    conf, cache = env
    proc = subprocess.run([sys.executable, '-c', SCRIPT], text=True,
                          capture_output=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == 'after debug: []'
    assert out[1] == "after info: ['oslo_config.cfg', 'oslo_log.log']"
    assert 'a warning' in out[2]
    # oslo.log's format (pid, level, logger, context marker), masked.
    lines = [x for x in proc.stderr.splitlines() if 'first line' in x]
    assert len(lines) == 1, proc.stderr
    assert ' INFO tripleo_docker_hook.deploy [-] first line' in lines[0]
    assert 's3cret' not in proc.stderr
    assert 'a no-op' not in proc.stderr
    assert sum('a warning' in x for x in proc.stderr.splitlines()) == 1
    # Queued while oslo.log was being imported: written in order, once.
    marks = ('first line', 'a warning', 'after the set-up')
    seen = [m for x in proc.stderr.splitlines() for m in marks if m in x]
    assert seen == list(marks), proc.stderr


BROKEN_LOG = textwrap.dedent('''
    import logging
    from tripleo_docker_hook import confcache, hook
    from tripleo_docker_hook.masking import Masker
    from tripleo_docker_hook.report import Report
    conf = confcache.load_options([])
    masker = Masker()
    report = Report(masker)
    deferred = hook._setup_logging(conf, masker, report)
    logging.getLogger('tripleo_docker_hook.deploy').info('first')
    logging.getLogger('tripleo_docker_hook.deploy').warning('second')
    deferred.finish()
    print(report.answer()['deploy_stderr'])
''')


def test_operator_log_that_cannot_be_set_up_is_reported(env, tmp_path):
    conf, cache = env
    conf.write_text(f'[DEFAULT]\nlog_file = {tmp_path}/missing/dir/x.log\n')
    proc = subprocess.run([sys.executable, '-c', BROKEN_LOG], text=True,
                          capture_output=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert 'the operator log could not be set up' in proc.stdout
    assert 'second' in proc.stdout  # the report still gets warnings


BLOCKED_PREFETCH = textwrap.dedent('''
    import logging, sys, threading
    from tripleo_docker_hook import confcache, hook
    from tripleo_docker_hook.masking import Masker
    from tripleo_docker_hook.report import Report
    confcache.load_options([])            # writes the memo
    for mod in [m for m in sys.modules if m.startswith(('oslo_', 'netaddr'))]:
        del sys.modules[mod]
    conf = confcache.load_options([])
    report = Report(Masker())
    release = threading.Event()
    real_prepare = hook.DeferredOsloLog._prepare
    def held(self):                       # the imports, held back
        release.wait(60)
        real_prepare(self)
    hook.DeferredOsloLog._prepare = held
    deferred = hook._setup_logging(conf, Masker(), report)
    log = logging.getLogger('tripleo_docker_hook.deploy')
    log.info('one')                       # must not wait for the imports
    log.warning('two')
    print('queued:', [r.getMessage() for r in deferred.pending],
          'oslo' if 'oslo_log.log' in sys.modules else 'no oslo')
    print('report:', report.answer()['deploy_stderr'].strip())
    release.set()
    deferred.finish()
    print('after finish:', deferred.pending, deferred.prefetch.is_alive())
    log.info('three')                     # from now on written at once
''')


def test_first_record_queues_while_oslo_log_loads_off_thread(env):
    proc = subprocess.run([sys.executable, '-c', BLOCKED_PREFETCH],
                          text=True, capture_output=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "queued: ['one', 'two'] no oslo"
    assert 'two' in out[1]                # deploy_stderr gets it at once
    assert out[2] == 'after finish: [] False'
    seen = [m for x in proc.stderr.splitlines()
            for m in ('one', 'two', 'three') if x.endswith(f'[-] {m}')]
    assert seen == ['one', 'two', 'three'], proc.stderr
