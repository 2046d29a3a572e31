"""Bad input of issue 11, unit level: bounded loading, duplicate keys,
value bounds, env files, the identity rule.  The whole-hook corpus (with
rlimits, a real engine and host checks) is tests/reliability."""

import json
import os
import threading
import time

import pytest

from tripleo_docker_hook import definitions
from tripleo_docker_hook import document
from tripleo_docker_hook import errors
from tripleo_docker_hook import hook
from tripleo_docker_hook import loading
from tripleo_docker_hook.definitions import docker_config


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for i in range(1, levels):
        refs = ', '.join([f'*a{i - 1}'] * 10)
        lines.append(f'a{i}: &a{i} [{refs}]')
    return '\n'.join(lines)


def _errors(config):
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    return [str(e) for e in info.value.errors]


def test_alias_bomb_in_ignored_key_is_refused_fast():
    config = 'svc:\n  image: busybox\n  _note:\n' + '\n'.join(
        '    ' + line for line in _bomb().splitlines())
    # CPU time of this process: what the bomb would cost, whatever else
    # runs on the machine (wall time failed by chance under load).
    start = time.process_time()
    errs = _errors(config)
    assert time.process_time() - start < 2
    assert len(errs) == 1
    assert errs[0].startswith('svc._note.a')
    assert 'YAML aliases' in errs[0]


def test_alias_bomb_as_exit_codes_formats_bounded():
    config = 'svc:\n  image: busybox\n  exit_codes: *a8\n' + '\n'.join(
        '_' + line for line in _bomb().replace('*a', '*_a').replace(
            '&a', '&_a').splitlines()).replace('_a8: &_a8', '_a8: &a8')
    start = time.process_time()   # CPU time: independent of the load
    with pytest.raises(errors.ValidationError):
        definitions.parse(config)
    assert time.process_time() - start < 2


def test_scalar_alias_is_fine():
    d = definitions.parse('svc:\n  image: &img busybox\n'
                          'other:\n  image: *img\n')
    assert {c.image for c in d.containers} == {'busybox'}


def test_scalar_alias_bomb_is_refused_before_expansion():
    """Aliases of a scalar expanding past 32 MiB are refused (3000 of one
    4 MiB string, a 4 MiB document, were 12 GB once serialised for the
    config hash: a MemoryError; the corpus runs a 1.9 GB one under
    rlimits)."""
    import tracemalloc
    config = (f'_a: &a "{"x" * (1 << 20)}"\nsvc:\n  image: busybox\n'
              '  command: [' + ', '.join(['*a'] * 40) + ']\n')
    tracemalloc.start()
    try:
        errs = _errors(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(errs) == 1 and errs[0].startswith('svc.command['), errs
    assert 'once its aliases are expanded' in errs[0]
    assert peak < 100 << 20


@pytest.mark.parametrize('text,path', [
    ('svc:\n  image: a\n  image: b\n', 'svc.image'),
    ('step_1:\n  svc: {image: a}\n  svc: {image: b}\n', 'step_1.svc'),
    ('docker_config:\n  step_1: {}\ndocker_config: {}\n', 'docker_config'),
])
def test_duplicate_yaml_keys(text, path):
    errs = _errors(text)
    assert errs == [f'{path}: Duplicate value: the key is given more than '
                    f'once in this mapping']


def test_duplicate_json_keys_on_stdin():
    text = ('{"id": "1", "name": "n", "config": {"svc": {"image": "a", '
            '"image": "b"}}, "inputs": []}')
    report = hook.run(text)
    assert report.status == 2
    assert 'config.svc.image: Duplicate value' in report.dumps()


def test_duplicate_json_keys_in_docker_options():
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': 'p', 'annotations': {
            'tripleo.org/docker-options': '{"ipc": "host", "ipc": "host"}'}},
        'spec': {'containers': [{'name': 'c', 'image': 'busybox'}]}}
    assert any('docker-options].ipc: Duplicate value' in e
               for e in _errors(json.dumps(pod)))


@pytest.mark.parametrize('stdin,needle', [
    ('[' * 100000 + ']' * 100000, 'nested too deeply'),
    ('{"a":' * 150 + '1' + '}' * 150, 'nested more than 100'),
    (b'{"id": "\xff"}', 'not UTF-8'),
    ('{"id": "1", "name": "\\ud800", "config": {}}',
     'name: Invalid value: not valid Unicode'),
    (json.dumps({'id': '1', 'name': 'n' * 5000, 'config': {}}),
     'name: Too long'),
    (json.dumps({'id': '1', 'name': 'a\nb', 'config': {}}),
     'name: Invalid value'),
])
def test_envelope_status_2(stdin, needle, tmp_path):
    report = hook.run(stdin, ['--state_dir', str(tmp_path / 'state')])
    assert report.status == 2, report.dumps()
    assert needle in report.dumps()
    assert not (tmp_path / 'state').exists()


@pytest.mark.parametrize('spec,path', [
    ({'detach': False, 'timeout': '100000000000h'}, 'svc.timeout'),
    ({'timeout': 10 ** 30}, 'svc.timeout'),
    ({'stop_grace_period': '2h'}, 'svc.stop_grace_period'),
    ({'cpu_shares': 10 ** 30}, 'svc.cpu_shares'),
    ({'cpu_shares': 262145}, 'svc.cpu_shares'),
    ({'cpu_period': 2000000}, 'svc.cpu_period'),
    ({'cpu_quota': 10 ** 19}, 'svc.cpu_quota'),
    ({'mem_limit': '99999999p'}, 'svc.mem_limit'),
    ({'memory': 2 ** 64}, 'svc.memory'),
    ({'shm_size': '9999999999t'}, 'svc.shm_size'),
    ({'ulimit': ['nofile=99999999999999999999999']}, 'svc.ulimit[0]'),
    ({'ulimit': ['nofile=-5']}, 'svc.ulimit[0]'),
    ({'restart': 'on-failure:99999999999'}, 'svc.restart'),
    ({'healthcheck': {'test': 'true', 'retries': 10 ** 20}},
     'svc.healthcheck.retries'),
    ({'healthcheck': {'test': 'true', 'interval': '1e20s'}},
     'svc.healthcheck.interval'),
    ({'healthcheck': {'test': 'true', 'interval': 1e20}},
     'svc.healthcheck.interval'),
    ({'start_order': 10 ** 30}, 'svc.start_order'),
    ({'mem_swappiness': '9' * 5000}, 'svc.mem_swappiness'),
])
def test_docker_config_value_bounds(spec, path):
    errs = _errors({'svc': dict({'image': 'busybox'}, **spec)})
    assert errs and all(e.startswith(path + ':') for e in errs), errs


def _pod(spec=None, container=None):
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p'},
            'spec': dict({'containers': [dict(
                {'name': 'c', 'image': 'busybox'}, **(container or {}))]},
                **(spec or {}))}


@pytest.mark.parametrize('spec,container,path', [
    ({'activeDeadlineSeconds': 10 ** 20}, None,
     'spec.activeDeadlineSeconds'),
    ({'terminationGracePeriodSeconds': 10 ** 20}, None,
     'spec.terminationGracePeriodSeconds'),
    ({'terminationGracePeriodSeconds': 3601}, None,
     'spec.terminationGracePeriodSeconds'),
    (None, {'livenessProbe': {'exec': {'command': ['true']},
                              'periodSeconds': 10 ** 12}},
     'spec.containers[0].livenessProbe.periodSeconds'),
    (None, {'livenessProbe': {'exec': {'command': ['true']},
                              'failureThreshold': 2 ** 40}},
     'spec.containers[0].livenessProbe.failureThreshold'),
    (None, {'resources': {'limits': {'cpu': '1e15'}}},
     'spec.containers[0].resources.limits[cpu]'),
])
def test_pod_value_bounds(spec, container, path):
    errs = _errors(_pod(spec, container))
    assert errs and all(e.startswith(path + ':') for e in errs), errs


def test_grace_period_at_cap_is_fine():
    d = definitions.parse({'svc': {'image': 'busybox',
                                   'stop_grace_period': '1h'}})
    assert d.containers[0].stop_timeout == 3600


def test_huge_pod_cpu_request_is_clamped_like_the_kubelet():
    d = definitions.parse(_pod(container={'resources': {
        'requests': {'cpu': '100000'}}}))
    assert d.containers[0].resources.cpu_shares == 262144


# -- env_file ---------------------------------------------------------------
def _env_errors(path, host_root='/'):
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse({'svc': {'image': 'busybox', 'env_file': path}},
                          host_root)
    return [str(e) for e in info.value.errors]


def test_env_file_fifo_does_not_block(tmp_path):
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    # Opening a FIFO without a writer blocks forever: any finite bound
    # tells the two apart, and a generous one never fails by chance.
    start = time.monotonic()
    errs = _env_errors(str(fifo))
    assert time.monotonic() - start < 30
    assert errs == [f'svc.env_file: Invalid value: "{fifo}": cannot read '
                    f'env file: not a regular file']


def test_env_file_fifo_or_device_is_never_opened(tmp_path):
    """Opening is a side effect (a FIFO's waiting writer is released,
    ``/dev/watchdog`` is armed): a non-regular env file, named directly,
    through a symlink or through ``host_root``, is refused unopened."""
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    (tmp_path / 'link').symlink_to(fifo)
    released = threading.Event()

    def writer():   # blocks in open() until someone opens for reading
        os.close(os.open(fifo, os.O_WRONLY))
        released.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(0.3)     # the writer is waiting in open()
    try:
        for path, root in ((str(fifo), '/'), (str(tmp_path / 'link'), '/'),
                           ('/fifo', str(tmp_path))):
            assert 'not a regular file' in _env_errors(path, root)[0]
        assert not released.wait(0.5), 'the hook opened the FIFO'
    finally:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(5)
        os.close(fd)


def test_env_file_dev_zero_is_refused():
    assert 'not a regular file' in _env_errors('/dev/zero')[0]


def test_env_file_size_cap(tmp_path):
    big = tmp_path / 'big.env'
    big.write_text('A=' + 'x' * docker_config.MAX_ENV_FILE_BYTES + '\n')
    assert 'larger than' in _env_errors(str(big))[0]


def test_env_file_read_through_host_root(tmp_path):
    root = tmp_path / 'host'
    (root / 'etc').mkdir(parents=True)
    (root / 'etc' / 'svc.env').write_text('FROM_HOST=1\n')
    # An absolute symlink resolves inside the host root, not here.
    os.symlink('/etc/svc.env', root / 'etc' / 'link.env')
    d = definitions.parse({'svc': {'image': 'busybox',
                                   'env_file': '/etc/link.env'}}, str(root))
    assert dict(d.containers[0].environment) == {'FROM_HOST': '1'}
    assert definitions.environment_values(
        {'svc': {'env_file': '/etc/svc.env'}}, str(root)) == [
            ('FROM_HOST', '1')]
    # Without host_root the file is looked for in our own file system.
    assert 'Not found' in _env_errors('/etc/svc.env')[0]


def test_env_file_dotdot_stays_in_host_root(tmp_path):
    root = tmp_path / 'host'
    root.mkdir()
    (tmp_path / 'outside.env').write_text('X=1\n')
    assert 'Not found' in _env_errors('/../outside.env', str(root))[0]


# -- preview / error formatting ---------------------------------------------
def test_preview_is_bounded():
    huge = [[list(range(1000))] * 1000] * 1000
    start = time.process_time()   # CPU time: independent of the load
    text = errors.preview(huge)
    assert time.process_time() - start < 0.5
    assert len(text) < 300
    assert errors.preview(10 ** 5000).startswith('<integer of')


def test_error_count_is_capped():
    config = {f'svc{i}': {'image': 'BAD IMAGE'} for i in range(1000)}
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    lines = info.value.lines()
    assert len(lines) == errors.ValidationError.MAX_SHOWN + 1
    assert lines[-1] == '... and 800 more errors'


# -- identity ---------------------------------------------------------------
@pytest.mark.parametrize('raw,name', [
    ({'name': 'a'}, 'a'),
    ({'name': 42}, '42'),
    ({'name': '', 'inputs': [{'name': 'deploy_resource_name', 'value': 'x'},
                             {'name': 'deploy_resource_name', 'value': 'y'}]},
     'y'),
    ({'inputs': [{'name': 'deploy_resource_name', 'value': 7}]}, '7'),
])
def test_identity(raw, name):
    assert document.identity(raw) == name


@pytest.mark.parametrize('raw', [
    {}, {'name': True}, {'name': ['a']}, {'name': 'x' * 300},
    {'inputs': [{'name': 'deploy_resource_name', 'value': None}]},
])
def test_identity_refused(raw):
    with pytest.raises(errors.ValidationError):
        document.identity(raw)


def test_loading_check_tree_iterative():
    deep = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    problems = loading.check_tree(deep, 'x')
    assert problems and 'nested more than' in str(problems[0])


# -- secrets in every encoding ---------------------------------------------
SENTINEL = 'Sëcret"Pw-8c1f'


@pytest.mark.parametrize('doc', [
    # A credential input's value quoted (JSON-escaped) in an error.
    {'inputs': [{'name': 'deploy_password', 'value': SENTINEL}],
     'config': {'svc': {'image': SENTINEL}}},
    # An input without a name: its value is masked and never quoted.
    {'inputs': [{'name': None, 'value': SENTINEL}],
     'config': {'svc': {'image': 'busybox'}}},
    {'inputs': [{'value': SENTINEL}], 'config': {}},
    # A Secret with a non-string value.
    {'inputs': [], 'config': [
        {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'},
         'stringData': {'password': 987654321012}},
        {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p'},
         'spec': {'containers': [{'name': 'c', 'image': 'BAD',
                                  'workingDir': '987654321012'}]}}]},
    # An environment value echoed by an error elsewhere.
    {'inputs': [], 'config': {'svc': {
        'image': 'busybox', 'environment': {'DB_PASSWORD': SENTINEL},
        'command': 5, 'user': SENTINEL}}},
])
def test_secrets_masked_in_errors(doc):
    config = doc['config']
    if isinstance(config, list):
        import yaml
        config = yaml.safe_dump_all(config)
    raw = {'id': '1', 'name': 'n', 'group': 'tripleo-docker-hook',
           'config': config, 'inputs': doc['inputs']}
    report = hook.run(json.dumps(raw))
    assert report.status == 2, report.dumps()
    out = report.dumps([document.Output('err', True)])
    for needle in (SENTINEL, json.dumps(SENTINEL)[1:-1], '987654321012',
                   'Sëcret', 'S\\u00ebcret'):
        assert needle not in out, out


def test_hook_validate_masks(tmp_path, capsys):
    path = tmp_path / 'def.json'
    path.write_text(json.dumps({
        'id': '1', 'name': 'n', 'group': 'tripleo-docker-hook',
        'inputs': [{'name': 'deploy_password', 'value': SENTINEL}],
        'config': {'svc': {'image': SENTINEL,
                           'environment': ['A_TOKEN=' + SENTINEL + 'x']}}}))
    assert hook.main(['--validate', str(path)]) == 2
    out = capsys.readouterr().out
    assert 'svc.image: Invalid value' in out
    assert 'Sëcret' not in out and 'S\\u00ebcret' not in out


def test_offline_validate_and_plan_mask(tmp_path, capsys):
    from tripleo_docker_hook import offline
    good = tmp_path / 'good.yaml'
    good.write_text('svc:\n  image: busybox\n')
    lines = []
    assert offline.validate_files([str(good)], out=lines.append) == 0
    assert lines == [f'{good}: OK (1 containers in 1 steps)']
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({
        'id': '1', 'name': 'n', 'group': 'g',
        'inputs': [{'name': 'deploy_password', 'value': SENTINEL}],
        'config': {'svc': {'image': 'busybox', 'user': SENTINEL}}}))
    lines = []
    assert offline.validate_files([str(bad)], out=lines.append) == 2
    assert lines and all('Sëcret' not in line and 'S\\u00ebcret' not in line
                         for line in lines), lines
    assert lines[0].startswith(f'{bad}: svc.user: Invalid value: "***"')
    status, text = offline.plan_file(str(bad), None, conf=None)
    assert status == 2
    assert 'svc.user' in text and 'Sëcret' not in text and \
        'S\\u00ebcret' not in text


@pytest.mark.parametrize('config, path', [
    ({'svc': {'image': 'busybox', 'environment': {'A': 'x\x00y'}}},
     'svc.environment.A'),
    ({'svc': {'image': 'busybox', 'environment': ['A=x\x00y']}},
     'svc.environment[0]'),
    ({'svc': {'image': 'busybox', 'command': ['sh', '-c', 'a\x00b']}},
     'svc.command[2]'),
    ({'svc': {'image': 'busybox', 'volumes': ['/tmp/a\x00b:/x']}},
     'svc.volumes[0]'),
    ({'svc': {'image': 'busybox', 'labels': {'k': 'v\x00'}}},
     'svc.labels.k'),
    ('svc:\n  image: busybox\n  user: "root\\0"\n', 'svc.user'),
    ('---\nsvc: {image: busybox}\n---\nb: {image: busybox, '
     'command: "a\\0"}\n', 'documents[1].b.command'),
])
def test_nul_anywhere_is_refused_with_its_path(config, path):
    """No value Docker or the kernel takes can hold NUL: refused at
    validation, not at create or start after other containers changed."""
    errs = _errors(config)
    assert errs[0].startswith(f'{path}: Invalid value: '), errs
    assert errs[0].endswith('must not contain NUL')


def test_nul_in_a_key_is_escaped_in_the_path():
    errs = _errors({'svc': {'image': 'busybox',
                            'environment': {'A\x00B': 'x'}}})
    assert errs[0].startswith('svc.environment.A\\u0000B: ')
    assert '\x00' not in '\n'.join(errs)


# -- regular expressions run in linear time ----------------------------------
def _within(seconds, code):
    """Run ``code`` in a fresh interpreter; fail (not hang) if it takes
    longer than ``seconds`` (a backtracking ``re`` call holds the GIL, so
    a thread could not be timed out)."""
    import subprocess
    import sys
    try:
        proc = subprocess.run([sys.executable, '-c', code], timeout=seconds,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f'still running after {seconds} s')
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_image_reference_check_is_linear():
    """The reference grammar's ``[-]*`` separator made ``(a+)+`` of it in
    Python: 26 letters and a ``!`` took 6 s, 40 would take hours."""
    out = _within(10, 'from tripleo_docker_hook.definitions import common\n'
                      'print(common.IMAGE_REF.match("a" * 200 + "!"))')
    assert out.strip() == 'None'
    d = definitions.parse({'svc': {'image': 'reg.example:5000/a--b__c.d/e'
                                            ':tag@sha256:' + '0' * 64}})
    assert d.containers[0].image.startswith('reg.example:5000/a--b__c.d/e')


def test_secret_option_scan_is_linear():
    """A command word of 4 MiB (``--passpass...!``): the option pattern
    backtracked quadratically (64 KiB took 7 s)."""
    from tripleo_docker_hook import masking
    out = _within(10, 'from tripleo_docker_hook import masking\n'
                      'print(masking.argv_secrets(["--" + "pass" * (1 << 20)'
                      ' + "!", "x"]))')
    assert out.strip() == '[]'
    assert masking.argv_secrets(['--db-password', 'pw1', '--token=t2']) == \
        ['pw1', 't2']


@pytest.mark.parametrize('spec, path, detail', [
    ({'command': ['sh', '-c', 'x' * 140000]}, 'step_1.svc.command[2]',
     'MAX_ARG_STRLEN'),
    ({'entrypoint': 'x' * 140000}, 'step_1.svc.entrypoint[0]',
     'MAX_ARG_STRLEN'),
    ({'environment': {'BIG': 'x' * 140000}}, 'step_1.svc.environment[BIG]',
     'MAX_ARG_STRLEN'),
    ({'environment': {f'E{i}': 'x' * 100000 for i in range(25)}},
     'step_1.svc', 'ARG_MAX'),
])
def test_arguments_the_kernel_cannot_exec_are_refused(spec, path, detail):
    """Created, then "argument list too long" at start, after earlier
    containers changed: refused at validation, without quoting them."""
    errs = _errors({'svc': dict({'image': 'busybox'}, **spec)})
    assert len(errs) == 1 and errs[0].startswith(f'{path}: Too long: ')
    assert detail in errs[0] and 'xxxx' not in errs[0]


def test_arguments_up_to_the_kernel_limit_pass():
    d = definitions.parse({'svc': {'image': 'busybox',
                                   'command': ['x' * 131071]}})
    assert len(d.containers[0].command[0]) == 131071


def test_stdin_size_cap(monkeypatch):
    monkeypatch.setattr(document, 'MAX_DOCUMENT_BYTES', 100)
    report = hook.run(b' ' * 101)
    assert report.status == 2
    assert 'larger than 100 bytes' in report.dumps()


def test_refused_command_line_still_answers(capsys):
    report = hook.run(json.dumps({'id': '1', 'name': 'n', 'config': {}}),
                      ['--no-such-option'])
    assert report.status == 2
    assert 'invalid command line' in report.dumps()


def test_ctl_validate_and_export_load_and_mask_like_the_hook(tmp_path, capsys):
    """The ctl's validate masks before any cut (a credential reused in a
    field longer than the 200-character quote), and its loading is the
    hook's bounded one (a collection alias is refused, not expanded)."""
    from tripleo_docker_hook import cli
    secret = 'Sëcret-' + 'x' * 300 + '-TAIL'
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({
        'id': '1', 'name': 'n', 'group': 'g',
        'inputs': [{'name': 'deploy_password', 'value': secret}],
        'config': {'svc': {'image': 'busybox', 'user': secret}}}))
    assert cli.main(['validate', str(bad)]) == 2
    out = capsys.readouterr().out
    assert 'svc.user' in out
    for piece in ('Sëcret', 'S\\u00ebcret', 'xxxxxxxxxx', 'TAIL'):
        assert piece not in out, out
    bomb = tmp_path / 'bomb.yaml'
    bomb.write_text('a: &a [x, x, x, x, x, x, x, x, x]\n'
                    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n'
                    'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n')
    for argv in (['validate', str(bomb)], ['export', str(bomb)]):
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        assert 'alias' in (captured.out + captured.err).lower(), captured


def test_labels_are_capped():
    """Labels ride on every container list call: at most MAX_LABEL_BYTES
    per container, keys and values together (Kubernetes' cap on a Pod's
    annotations); docker_config and Pods alike."""
    cap = definitions.MAX_LABEL_BYTES
    ok = {'svc': {'image': 'busybox', 'labels': {'k': 'v' * (cap - 1)}}}
    definitions.parse({'step_1': ok})
    big = {'svc': {'image': 'busybox', 'labels': {
        f'k{i}': 'v' * 1000 for i in range(300)}}}
    errs = _errors({'step_1': big})
    assert len(errs) == 1, errs
    assert errs[0].startswith('step_1.svc.labels: Too long: '), errs
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': 'p', 'labels': {f'k{i}': 'v' * 63 for i in range(5000)}},
        'spec': {'containers': [{'name': 'c', 'image': 'busybox'}]}}
    errs = _errors(pod)
    assert len(errs) == 1, errs
    assert errs[0].startswith('metadata.labels: Too long: '), errs
