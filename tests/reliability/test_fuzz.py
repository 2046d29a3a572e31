"""Property-based fuzzing of the whole hook entry: stdin bytes → answer.

``hook.run`` is what ``main`` runs after setting stdout aside; here it is
called in-process (thousands of examples in the budget) with an engine
URL that cannot answer and private directories, so that a document which
validates stops at the engine with nothing done.  Properties of every
answer: one JSON object of the contract's shape, a documented status,
``2`` exactly when the document is invalid, no sentinel secret, bounded
time; and nothing written but the lock in ``state_dir``.

Budget: ``TDH_FUZZ_EXAMPLES`` examples per strategy (default 500, a
fixed seed so CI is repeatable; set ``TDH_FUZZ_SEED`` for another).
"""

import json
import logging
import os
import time

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests import helpers
from tests.reliability import sentinels
from tests.reliability.conftest import budget

EXAMPLES = budget('fuzz_examples', 500)
SEED = budget('fuzz_seed', 20261129)
#: bounded time for bad input: CPU seconds the hook may spend on one
#: document (what the code controls), and a wall-clock bound only to catch
#: a hang, wide enough that a loaded 2-core machine cannot trip it
CPU_SECONDS_PER_RUN = 5
WALL_SECONDS_PER_RUN = 60

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
SEEDS = sorted(os.path.join(CORPUS, n) for n in os.listdir(CORPUS)
               if n.endswith('.in') and os.path.getsize(
                   os.path.join(CORPUS, n)) < 20000)

FIELDS = ['image', 'net', 'command', 'environment', 'env_file', 'volumes',
          'detach', 'exit_codes', 'timeout', 'healthcheck', 'ulimit',
          'restart', 'cpu_shares', 'mem_limit', 'stop_grace_period',
          'user', 'privileged', 'start_order', 'action', 'labels',
          'apiVersion', 'kind', 'metadata', 'spec', 'containers', 'name',
          'args', 'env', 'value', 'valueFrom', 'resources', 'limits',
          'livenessProbe', 'periodSeconds', 'activeDeadlineSeconds',
          'puppet_config', 'kolla_config', 'docker_config', 'step_1',
          'step_2', 'config_volume', 'config_image', 'step_config',
          'config_files', 'source', 'dest', 'perm', 'owner', '_note',
          'step_0', 'step_6', 'step_' + '9' * 5000, 'annotations',
          'tripleo.org/start-order', 'tripleo.org/step',
          'tripleo.org/docker-options']
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(),
    st.text(max_size=30), st.sampled_from([
        'tdh/busybox:latest', 'host', '10s', '100000000000h', '1e20s',
        '99999999p', 'on-failure:99999999999', '/dev/zero', '/etc/passwd',
        'nofile=99999999999999999999', 'quote"é', 'exec',
        'v1', 'Pod', 'List', 'Secret', '../etc', '\ud800', '9' * 5000,
        '-' + '9' * 30, '1e400', '{"a": 1, "a": 2}']))
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8),
                        children, max_size=5)),
    max_leaves=40)


def envelope(config, name='tdh-fuzz'):
    doc = helpers.make_doc(name, config, inputs=[
        dict(i) for i in sentinels.INPUTS])
    doc['outputs'] = [{'name': 'result', 'error_output': True}]
    return doc


@pytest.fixture(scope='module')
def fuzz_env(tmp_path_factory):
    base = tmp_path_factory.mktemp('fuzz')
    dirs = {k: base / k for k in ('state_dir', 'config_data_dir',
                                  'kolla_config_dir')}
    for d in dirs.values():
        d.mkdir()
    conf = helpers.write_conf(
        base / 'hook.conf', docker_url=f'unix://{base}/no-engine.sock',
        docker_timeout=2, lock_timeout=5,
        **{k: str(v) for k, v in dirs.items()})
    old = os.environ.get('TRIPLEO_DOCKER_HOOK_CONFIG')
    os.environ['TRIPLEO_DOCKER_HOOK_CONFIG'] = str(conf)
    yield dirs
    if old is None:
        del os.environ['TRIPLEO_DOCKER_HOOK_CONFIG']
    else:
        os.environ['TRIPLEO_DOCKER_HOOK_CONFIG'] = old


STATS = {'runs': 0, 'status': {}, 'max_s': 0.0}


def check(stdin: bytes, dirs) -> dict:
    from tripleo_docker_hook import hook
    start, cpu_start = time.monotonic(), time.process_time()
    report = hook.run(stdin)
    text = report.dumps(report.declared)
    elapsed = time.monotonic() - start
    cpu = time.process_time() - cpu_start
    # oslo.log set up by a valid document: leave the root logger clean.
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
    answer = json.loads(text)
    assert isinstance(answer, dict)
    assert isinstance(answer['deploy_stdout'], str)
    assert isinstance(answer['deploy_stderr'], str)
    status = answer['deploy_status_code']
    assert status in (1, 2), answer        # no engine: never 0
    if status == 2:
        assert answer['deploy_stderr'].startswith(
            ('invalid deployment:', 'invalid command line')), answer
    else:
        # valid: it got as far as the engine, and no further
        assert 'Docker engine' in answer['deploy_stderr'] or \
            'unexpected' not in answer['deploy_stderr'], answer
    assert 'unexpected error' not in answer['deploy_stderr'], answer
    assert len(text.encode()) < 1024 * 1024
    assert sentinels.scan(text) == [], text
    assert cpu < CPU_SECONDS_PER_RUN, cpu
    assert elapsed < WALL_SECONDS_PER_RUN, elapsed
    for key in ('config_data_dir', 'kolla_config_dir'):
        assert os.listdir(dirs[key]) == []
    assert set(os.listdir(dirs['state_dir'])) <= {'lock'}
    STATS['runs'] += 1
    STATS['status'][status] = STATS['status'].get(status, 0) + 1
    STATS['max_s'] = round(max(STATS['max_s'], elapsed), 3)
    return answer


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=list(HealthCheck), database=None)


@seed(SEED)
@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes(fuzz_env, data):
    check(data, fuzz_env)


@seed(SEED + 1)
@FUZZ
@given(TREES)
def test_any_config_tree(fuzz_env, config):
    check(json.dumps(envelope(config)).encode(), fuzz_env)


@seed(SEED + 2)
@FUZZ
@given(TREES)
def test_any_config_tree_as_yaml(fuzz_env, config):
    import yaml
    try:
        text = yaml.safe_dump(config)
    except Exception:  # noqa: BLE001 - e.g. a lone surrogate
        text = json.dumps(config)
    check(json.dumps(envelope(text)).encode(), fuzz_env)


@seed(SEED + 3)
@FUZZ
@given(st.sampled_from(SEEDS), st.lists(
    st.tuples(st.integers(0, 10 ** 6), st.binary(min_size=0, max_size=4)),
    min_size=1, max_size=6))
def test_mutated_corpus(fuzz_env, path, edits):
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    for pos, chunk in edits:
        pos = pos % (len(data) + 1)
        data[pos:pos + len(chunk)] = chunk
    check(bytes(data), fuzz_env)


@seed(SEED + 4)
@FUZZ
@given(st.dictionaries(st.sampled_from(
    ['id', 'name', 'group', 'inputs', 'outputs', 'options', 'config',
     'creation_time']), TREES, max_size=8))
def test_any_envelope(fuzz_env, raw):
    check(json.dumps(raw).encode(), fuzz_env)


STEPS = st.sampled_from(['step_1', 'step_2', 'step_5', 'step_0', 'step_6',
                         'step_01', 'step_x', 'step_\u0663',
                         'step_' + '9' * 5000])


@seed(SEED + 5)
@FUZZ
@given(STEPS, st.dictionaries(
    st.from_regex(r'\A[a-z][a-z0-9_-]{1,20}\Z'),
    st.dictionaries(st.sampled_from(FIELDS[:20]), SCALARS | TREES,
                    max_size=3),
    min_size=1, max_size=4))
def test_nearly_valid_docker_config(fuzz_env, step, services):
    config = {step: {name: dict(spec, image='tdh/busybox:latest')
                     for name, spec in services.items()}}
    check(json.dumps(envelope(config)).encode(), fuzz_env)


def test_fuzz_figures(figures):
    """Runs last in this module: the figures of the runs above."""
    if STATS['runs']:
        figures['fuzz'] = dict(STATS, examples_per_strategy=EXAMPLES,
                               strategies=6, seed=SEED)
