"""The pure parts behind tripleo-docker-hook-ctl: export formats (checked
by kubernetes-validate, strict, and against Quadlet's documented keys),
the docker run line, check's findings, run-debug's copy, masking."""

import dataclasses
import glob
import json
import os
import shlex

import kubernetes_validate
import pytest
import yaml

from tripleo_docker_hook import check
from tripleo_docker_hook import debug
from tripleo_docker_hook import definitions
from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import errors
from tripleo_docker_hook import export
from tripleo_docker_hook import masking
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import quadlet
from tests.unit.test_export import EXAMPLES, RICH_POD

#: Kubernetes version the Pods are validated against (strict: unknown
#: fields fail).
K8S_VERSION = kubernetes_validate.latest_version()


def examples():
    """(id, config) of every definition shape we have."""
    found = [('rich-pod', RICH_POD)]
    names = sorted(glob.glob(os.path.join(EXAMPLES,
                                          'tripleo-startup-config-*.json')))
    names += [os.path.join(EXAMPLES, 'paunch-start-order-and-exec.yaml')]
    for name in names:
        if os.path.exists(name):
            with open(name) as f:
                text = f.read()
            data = yaml.safe_load(text)
            if isinstance(data, dict) and 'config' in data:
                text = data['config']
            found.append((os.path.basename(name), text))
    return found


EXAMPLES_ALL = examples()


def parsed(config):
    try:
        return definitions.parse(config)
    except errors.ValidationError as exc:
        pytest.skip(f'example not parseable here: {exc}')


@pytest.mark.parametrize('name,config', EXAMPLES_ALL,
                         ids=[n for n, _ in EXAMPLES_ALL])
def test_kubernetes_export_validates_strictly(name, config):
    for doc in yaml.safe_load_all(export.dumps(parsed(config))):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_validate_is_strict():
    """The check above can fail: an unknown field is an error."""
    (pod,) = yaml.safe_load_all(export.dumps(parsed(RICH_POD)))
    pod['spec']['containers'][0]['enviroment'] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


# -- Quadlet ----------------------------------------------------------------
#: podman-systemd.unit(5), "[Container] options" table (podman 5.x/6.x).
CONTAINER_KEYS = set('''
AddCapability AddDevice AddHost Annotation AutoUpdate CgroupsMode
ContainerName ContainersConfModule DNS DNSOption DNSSearch DropCapability
Entrypoint Environment EnvironmentFile EnvironmentHost Exec ExposeHostPort
GIDMap GlobalArgs Group GroupAdd HealthCmd HealthInterval
HealthLogDestination HealthMaxLogCount HealthMaxLogSize HealthOnFailure
HealthRetries HealthStartPeriod HealthStartupCmd HealthStartupInterval
HealthStartupRetries HealthStartupSuccess HealthStartupTimeout HealthTimeout
HostName Image IP IP6 Label LogDriver LogOpt Mask Memory Mount Network
NetworkAlias NoNewPrivileges Notify PidsLimit Pod PodmanArgs PublishPort
Pull ReadOnly ReadOnlyTmpfs ReloadCmd ReloadSignal Retry RetryDelay Rootfs
RunInit SeccompProfile Secret SecurityLabelDisable SecurityLabelFileType
SecurityLabelLevel SecurityLabelNested SecurityLabelType ShmSize
StartWithPod StopSignal StopTimeout SubGIDMap SubUIDMap Sysctl Timezone
Tmpfs UIDMap Ulimit Unmask User UserNS Volume WorkingDir'''.split())
#: podman-pod.unit(5): the keys written here.
POD_KEYS = {'PodName', 'Network', 'AddHost', 'DNS', 'HostName',
            'ExitPolicy', 'Volume', 'PodmanArgs'}
#: systemd.unit(5) / systemd.service(5) / the [Install] keys Quadlet
#: applies (podman-systemd.unit(5), "Enabling unit files").
OTHER_KEYS = {
    'Unit': {'Description', 'Requires', 'After', 'Wants', 'Before'},
    'Service': {'Type', 'RemainAfterExit', 'SuccessExitStatus',
                'TimeoutStartSec', 'TimeoutStopSec', 'Restart'},
    'Install': {'WantedBy', 'RequiredBy', 'Alias', 'UpheldBy'}}


def parse_unit(text):
    """systemd unit syntax: sections, repeatable keys, # comments."""
    sections = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.startswith(('#', ';')):
            continue
        if line.startswith('['):
            assert line.endswith(']'), line
            current = line[1:-1]
            assert current not in sections, f'section {current} twice'
            sections[current] = []
            continue
        assert current is not None, f'key outside a section: {line}'
        key, eq, value = line.partition('=')
        assert eq and key == key.strip() and key, line
        sections[current].append((key, value))
    return sections


def check_unit(name, text):
    sections = parse_unit(text)
    main = {'.container': 'Container', '.pod': 'Pod'}[
        os.path.splitext(name)[1]]
    assert main in sections
    allowed = dict(OTHER_KEYS, Container=CONTAINER_KEYS, Pod=POD_KEYS)
    for section, keys in sections.items():
        assert section in allowed, f'{name}: [{section}]'
        unknown = {k for k, _ in keys} - allowed[section]
        assert not unknown, f'{name}: [{section}] {unknown}'
    if main == 'Container':
        keys = dict(sections['Container'])
        assert 'Image' in keys and 'ContainerName' in keys
        assert keys.get('Network') == 'host' or 'Pod' in keys
    return sections


@pytest.mark.parametrize('name,config', EXAMPLES_ALL,
                         ids=[n for n, _ in EXAMPLES_ALL])
def test_quadlet_units_use_documented_keys(name, config):
    dep = parsed(config)
    result = quadlet.units(dep)
    for fname, text in result.files.items():
        check_unit(fname, text)
    written = {n[:-len('.container')] for n in result.files
               if n.endswith('.container')}
    execs = {c.name for c in dep.containers if c.kind is model.Kind.EXEC}
    assert written == {c.name for c in dep.containers} - execs
    for name_ in execs:  # said, not dropped silently
        assert [n for n in result.notes if n.startswith(name_ + ':')]
    if dep.puppet_config:
        assert [n for n in result.notes if n.startswith('puppet_config')]


def test_quadlet_unit_checker_can_fail():
    with pytest.raises(AssertionError):
        check_unit('x.container', '[Container]\nImage=a\nContainerName=a\n'
                   'Network=host\nEnviroment=A=1\n')


def systemd_words(value):
    """Split an Exec= value as systemd does (double quotes, backslash
    escapes, $$ and %% for literal $ and %)."""
    words = shlex.split(value, posix=True)
    return [w.replace('$$', '$').replace('%%', '%') for w in words]


def test_quadlet_values_and_ordering():
    dep = definitions.parse({'docker_config': {
        'step_1': {
            'db': {'image': 'tdh/db:1', 'net': 'host', 'restart': 'always',
                   'privileged': True, 'security_opt': ['label=disable'],
                   'environment': {'MSG': 'a b "c" $HOME 100%'},
                   'command': ['sh', '-c', 'echo "$HOME" 100% & wait'],
                   'healthcheck': {'test': ['CMD', 'true'],
                                   'interval': '1500ms'},
                   'ulimit': ['nofile=1024:2048'], 'stop_grace_period': 5,
                   'volumes': ['/srv:/srv:ro,z']},
            'init': {'image': 'tdh/db:1', 'net': 'host', 'detach': False,
                     'start_order': 1, 'exit_codes': [0, 3]}},
        'step_2': {'api': {'image': 'tdh/api:1', 'net': 'host',
                           'restart': 'unless-stopped'}}}})
    result = quadlet.units(dep)
    db = parse_unit(result.files['db.container'])
    c = dict(db['Container'])
    assert systemd_words(c['Exec']) == ['sh', '-c',
                                        'echo "$HOME" 100% & wait']
    env = [v for k, v in db['Container'] if k == 'Environment']
    assert systemd_words(env[0]) == ['MSG=a b "c" $HOME 100%']
    assert c['PodmanArgs'] == '--privileged'
    assert c['SecurityLabelDisable'] == 'true'
    assert json.loads(c['HealthCmd']) == ['true']
    assert c['HealthInterval'] == '1500ms'
    assert c['Ulimit'] == 'nofile=1024:2048'
    assert c['Volume'] == '/srv:/srv:ro,z'
    assert dict(db['Service'])['Restart'] == 'always'
    init = parse_unit(result.files['init.container'])
    assert ('After', 'db.container') in init['Unit']
    assert dict(init['Service']) == {'Type': 'oneshot',
                                     'RemainAfterExit': 'yes',
                                     'SuccessExitStatus': '3'}
    api = parse_unit(result.files['api.container'])
    assert ('Requires', 'init.container') in api['Unit']
    assert ('Requires', 'db.container') not in api['Unit']
    assert [n for n in result.notes if 'unless-stopped' in n]
    # the one-text form: every file, each after its FileName line
    text = quadlet.dumps(result.files)
    parts = text.split('---\n')
    assert [p.splitlines()[0] for p in parts] == [
        f'# FileName={n}' for n in sorted(result.files)]


def test_quadlet_pod_input_gets_a_pod_unit():
    dep = parsed(RICH_POD)
    result = quadlet.units(dep)
    pod = parse_unit(result.files['web.pod'])
    assert dict(pod['Pod']) == {'PodName': 'web', 'Network': 'host'}
    for name, text in result.files.items():
        if name.endswith('.container'):
            keys = dict(parse_unit(text)['Container'])
            assert keys['Pod'] == 'web.pod' and 'Network' not in keys


# -- docker run line ----------------------------------------------------------
def test_run_argv_covers_the_definition_and_masks():
    dep = definitions.parse({'docker_config': {'step_1': {'svc': {
        'image': 'tdh/a:1', 'net': 'host', 'restart': 'on-failure:3',
        'user': 'root', 'privileged': True, 'pid': 'host',
        'environment': ['DB_PASSWORD=hunter2', 'DEBUG=1'],
        'command': ['keystone-manage', '--bootstrap-password', 's3cret!',
                    'bootstrap'],
        'volumes': ['/a:/b:ro'], 'healthcheck': {'test': 'curl -f x'},
        'cap_add': ['NET_ADMIN'], 'mem_limit': '64m',
        'ulimit': ['nofile=10:20']}}}})
    c = dep.containers[0]
    labels = planning.labels_for('dep', 'id', c)
    argv, notes = docker_spec.run_argv(c, 'svc', labels)
    text = shlex.join(argv)
    assert 'hunter2' not in text and 's3cret!' not in text
    assert 'DB_PASSWORD=***' in argv and 'DEBUG=1' in argv
    assert argv[-5:] == ['tdh/a:1', 'keystone-manage',
                         '--bootstrap-password', '***', 'bootstrap']
    for flag in ('--network host', '--restart on-failure:3',
                 '--privileged', '--pid host', '--volume /a:/b:ro',
                 '--cap-add NET_ADMIN', '--memory 67108864',
                 '--ulimit nofile=10:20', "--health-cmd 'curl -f x'",
                 '--label tripleo-docker-hook.hash=' +
                 labels[model.LABEL_HASH]):
        assert flag in text, flag
    shown, _ = docker_spec.run_argv(c, 'svc', labels, mask_secrets=False)
    assert 'DB_PASSWORD=hunter2' in shown and 's3cret!' in shown
    assert notes == []


def test_run_argv_notes_what_the_cli_cannot_say_exactly():
    c = model.Container(name='x', image='i', entrypoint=('a', 'b'),
                        command=('c',), healthcheck=model.HealthCheck(
                            ('CMD', 'true', 'x y'), interval=0.25))
    argv, notes = docker_spec.run_argv(c, 'x', {})
    i = argv.index('--entrypoint')
    assert argv[i + 1] == 'a' and argv[-3:] == ['i', 'b', 'c']
    assert "true 'x y'" in argv and '250ms' in argv
    assert len(notes) == 2


# -- check ----------------------------------------------------------------
def _svc(name, **kw):
    return model.Container(name=name, image='i', source_hash='h-' + name,
                           **kw)


def _seen(c, state='running', health='', exit_code=None, labels=None):
    return model.Observed(id='id-' + c.name, name=c.name, image_id='x',
                          state=state, health=health, exit_code=exit_code,
                          labels=labels or planning.labels_for('d', 'i', c))


DESIRED = model.Deployment(steps=(model.Step(1, (
    _svc('a'), _svc('b', kind=model.Kind.TASK),
    _svc('e', kind=model.Kind.EXEC, exec_target='a'))),))
A = DESIRED.containers[0]


@pytest.mark.parametrize('observed,code,problem', [
    ([_seen(A)], check.OK, None),
    ([], check.CRITICAL, check.MISSING),
    ([_seen(A, state='exited', exit_code=1)], check.CRITICAL,
     check.NOT_RUNNING),
    ([_seen(A, state='created')], check.CRITICAL, check.NOT_RUNNING),
    ([_seen(A, state='restarting', exit_code=2)], check.CRITICAL,
     check.RESTARTING),
    ([_seen(A, health='unhealthy')], check.CRITICAL, check.UNHEALTHY),
    ([_seen(A, health='starting')], check.WARNING, check.STARTING),
    ([_seen(dataclasses.replace(A, source_hash='other'))], check.WARNING,
     check.DRIFTED),
    ([_seen(A), _seen(DESIRED.containers[1], state='exited', exit_code=5)],
     check.WARNING, check.TASK_FAILED),
], ids=['ok', 'missing', 'exited', 'created', 'restarting', 'unhealthy',
        'starting', 'drifted', 'task-failed'])
def test_check_findings_per_state(observed, code, problem):
    findings = check.evaluate('d', DESIRED, observed)
    assert check.status(findings) == code
    assert [f.problem for f in findings] == ([problem] if problem else [])


def test_check_drift_says_what_differs_and_other_findings():
    old = dataclasses.replace(A, image='old:1', source_hash='old')
    (f,) = check.evaluate('d', DESIRED, [_seen(old)], previous=[old])
    assert f.problem == check.DRIFTED and 'image old:1 → i' in f.detail
    findings = check.evaluate('d', DESIRED, [_seen(A)], {'e': {'ok': False,
                                                             'exit_code': 7}},
                              last_error='boom')
    assert {f.problem for f in findings} == {check.EXEC_FAILED,
                                             check.APPLY_FAILED}
    stray = _svc('zz')
    findings = check.evaluate('d', DESIRED, [_seen(A), _seen(stray)])
    assert [(f.container, f.problem) for f in findings] == [
        ('zz', check.UNDEFINED)]
    assert check.evaluate('d', None, [_seen(A)])[0].problem == \
        check.NO_STATE
    # other deployments' and foreign containers are not looked at
    other = _seen(A, labels=planning.labels_for('other', 'i', A))
    assert check.evaluate('d', DESIRED, [other])[0].problem == check.MISSING


# -- run-debug ------------------------------------------------------------
def test_debug_copy_is_unmanaged_one_shot_with_overrides():
    c = _svc('a', restart_policy='always', environment=(('A', '1'),),
             labels=(('x', 'y'),))
    copy = debug.copy_of(c, ['environment.B=2', 'image=other:1',
                             'entrypoint=sh -c', 'privileged=true'],
                         ['ls', '-l'])
    assert copy.kind is model.Kind.TASK and copy.restart_policy == 'no'
    assert copy.environment == (('A', '1'), ('B', '2'))
    assert copy.image == 'other:1' and copy.privileged
    assert copy.entrypoint == ('ls',) and copy.command == ('-l',)
    assert copy.labels == ()
    assert debug.copy_of(c, ['entrypoint=sh -c "a b"'], []).entrypoint == \
        ('sh', '-c', 'a b')
    with pytest.raises(errors.ValidationError) as info:
        debug.copy_of(c, ['nope=1', 'privileged=maybe', 'bare'], [])
    assert len(info.value.errors) == 3
    assert model.LABEL_MANAGED_BY not in debug.labels('a')


def test_masked_container():
    c = model.Container(name='a', image='i', environment=(
        ('OS_PASSWORD', 'pw1234567'), ('URL', 'x://u:pw1234567@h')),
        command=('tool', '--token=tok999', '--db-pass', 'dbpw'),
        healthcheck=model.HealthCheck(('CMD-SHELL', 'check --token=tok999')))
    m = masking.masked_container(c)
    text = repr(m)
    for secret in ('pw1234567', 'tok999', 'dbpw'):
        assert secret not in text
    assert m.environment[0] == ('OS_PASSWORD', '***')


DEMO = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'demo')


@pytest.mark.parametrize('name', sorted(os.listdir(DEMO)))
def test_demo_definitions_of_the_guides_are_valid(name):
    """docs/source/deploying.rst applies these: they must stay valid."""
    with open(os.path.join(DEMO, name)) as f:
        data = yaml.safe_load(f)
    if isinstance(data, dict) and 'group' in data:
        data = data['config']
    assert definitions.parse(data).containers


QUADLET_GENERATORS = ('/usr/libexec/podman/quadlet',
                      '/usr/lib/systemd/system-generators/'
                      'podman-system-generator')


@pytest.mark.parametrize('name,config', EXAMPLES_ALL,
                         ids=[n for n, _ in EXAMPLES_ALL])
def test_quadlet_units_pass_podmans_generator(name, config, tmp_path):
    """When podman's Quadlet generator is installed (podman >= 4.4; Debian
    bookworm's 4.3 has none): it accepts every unit."""
    import subprocess
    generator = next((g for g in QUADLET_GENERATORS
                      if os.access(g, os.X_OK)), None)
    if generator is None:
        pytest.skip('no Quadlet generator here (podman < 4.4): the key '
                    'check above stands in')
    for fname, text in quadlet.units(parsed(config)).files.items():
        (tmp_path / fname).write_text(text)
    proc = subprocess.run([generator, '-dryrun'], capture_output=True,
                          text=True, timeout=60,
                          env=dict(os.environ, QUADLET_UNIT_DIRS=str(
                              tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert 'unsupported key' not in proc.stderr, proc.stderr
    assert '[Service]' in proc.stdout


def test_engine_stream_methods_call_the_client():
    """The wiring of logs/exec for the ctl (their behaviour against the
    real engine is in tests/functional/test_ctl.py)."""
    from tripleo_docker_hook import engine as engine_mod
    calls = []

    class Client:
        def logs(self, *args, **kwargs):
            calls.append(('logs', args, kwargs))
            return iter([b'a\n'])

        def exec_create(self, *args, **kwargs):
            calls.append(('exec_create', args, kwargs))
            return {'Id': 'e1'}

        def exec_start(self, *args, **kwargs):
            calls.append(('exec_start', args, kwargs))
            return iter([(b'out', None)])

        def exec_inspect(self, *args, **kwargs):
            return {'ExitCode': 7}

    eng = engine_mod.Engine('unix:///nonexistent')
    eng._client = Client()
    assert list(eng.logs_stream('c', tail=2, follow=True)) == [b'a\n']
    assert calls[0] == ('logs', ('c',), {
        'stdout': True, 'stderr': True, 'stream': True, 'follow': True,
        'tail': 2})
    chunks, code = eng.exec_stream('c', ['ls'], user='u')
    assert list(chunks) == [(b'out', None)] and code() == 7
    assert calls[1] == ('exec_create', ('c', ['ls']), {'user': 'u'})


@pytest.mark.parametrize('cls,extra', [
    ('Delete', []), ('Show', []), ('Rollback', ['--to', '3'])])
def test_deployment_argument_is_declared_once(cls, extra):
    """delete, show and rollback share one DEPLOYMENT declaration."""
    from tripleo_docker_hook import cli
    command = getattr(cli, cls)
    assert issubclass(command, cli._OneDeployment)
    assert 'get_parser' not in vars(command) or cls == 'Rollback'
    parser = command(None, None).get_parser(cls.lower())
    args = parser.parse_args(['overcloud-a'] + extra)
    assert args.name == 'overcloud-a'
    with pytest.raises(SystemExit):
        parser.parse_args(extra)


@pytest.mark.parametrize('cls', ['Plan', 'Apply'])
def test_document_arguments_are_declared_once(cls):
    from tripleo_docker_hook import cli
    parser = getattr(cli, cls)(None, None).get_parser(cls.lower())
    args = parser.parse_args(['-', '--name', 'dep'])
    assert (args.file, args.name) == ('-', 'dep')
    assert 'heat-config item' in parser.format_help()


def test_status_is_list_and_only_formats_what_inventory_rows_returns(
        monkeypatch):
    """``status`` and ``list`` are one command (two names); its data
    comes from the core (``inventory.rows``), the CLI only formats."""
    import configparser
    import dataclasses
    import os
    from tripleo_docker_hook import cli
    from tripleo_docker_hook import inventory
    setup = configparser.ConfigParser()
    setup.read(os.path.join(os.path.dirname(__file__), '..', '..',
                            'setup.cfg'))
    ctl = dict(line.split(' = ') for line in setup['entry_points'][
        'tripleo_docker_hook.ctl'].strip().splitlines())
    assert ctl['status'] == ctl['list'] == \
        'tripleo_docker_hook.cli:ListContainers'
    row = inventory.ContainerRow(**{
        f.name: f'v-{f.name}' for f in
        dataclasses.fields(inventory.ContainerRow)})
    seen = []
    monkeypatch.setattr(cli, '_conf', lambda: 'conf')
    monkeypatch.setattr(cli, '_engine', lambda conf: 'engine')
    monkeypatch.setattr(cli, '_masker', lambda: 'masker')
    monkeypatch.setattr(inventory, 'rows', lambda *a: seen.append(a) or
                        [row])
    parser = cli.ListContainers(None, None).get_parser('status')
    columns, data = cli.ListContainers(None, None).take_action(
        parser.parse_args(['--deployment', 'a', 'b']))
    assert seen == [('conf', 'engine', 'masker', ['a', 'b'])]
    assert data == [tuple(getattr(row, c) for c in columns)]
