"""docker_config and deployment-level parsing, on the reference examples."""

import json
import os

import pytest
import yaml

from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

EXAMPLES = os.environ.get('TDH_EXAMPLES',
                          '/work/shared/reference/examples')


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        pytest.skip(f'{path} missing')
    with open(path, encoding='utf-8') as f:
        return f.read()


def problems(config):
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    return [str(e) for e in info.value.errors]


def one(spec, name='svc'):
    return definitions.parse({name: spec}).containers[0]


@pytest.mark.parametrize('name', [
    'tripleo-startup-config-compute-step3.json',
    'tripleo-startup-config-compute-step3-hashed.json',
    'tripleo-startup-config-compute-step4.json',
    'tripleo-startup-config-controller-step2.json',
    'tripleo-startup-config-controller-step3.json',
    'tripleo-startup-config-controller-step4.json',
])
def test_startup_configs_parse(name):
    dep = definitions.parse(example(name))
    assert dep.containers and dep.source_format == 'docker_config'


def test_keystone_step3_order_kinds_and_empty_volumes():
    config = json.loads(example('heat-docker-cmd-keystone-step3-update.json')
                        )['config']
    dep = definitions.parse(config)
    names = [(c.name, c.kind, c.start_order) for c in dep.containers]
    assert names == [
        ('keystone_init_log', model.Kind.SERVICE, 0),
        ('keystone_db_sync', model.Kind.TASK, 1),
        ('keystone', model.Kind.SERVICE, 2),
        ('keystone_bootstrap', model.Kind.EXEC, 3)]
    boot = dep.container('keystone_bootstrap')
    assert boot.exec_target == 'keystone'
    assert boot.command[:2] == ('/usr/bin/bootstrap_host_exec', 'keystone')
    assert boot.image == ''
    sync = dep.container('keystone_db_sync')
    assert '' not in [m.source for m in sync.mounts]
    assert sync.restart_policy == 'no'
    assert dep.container('keystone').restart_policy == 'always'


def test_start_order_ties_by_name_not_dict_order():
    a = definitions.parse({'bb': {'image': 'x'}, 'aa': {'image': 'x'},
                           'cc': {'image': 'x', 'start_order': -1}})
    assert [c.name for c in a.containers] == ['cc', 'aa', 'bb']
    assert [len(group) for group in a.steps[0].groups()] == [1, 2]


def test_steps_and_sections():
    dep = definitions.parse({'docker_config': {
        'step_2': {'aa': {'image': 'x'}}, 'step_1': {'bb': {'image': 'x'}},
        'step_4': None}})
    assert [(s.number, [c.name for c in s.containers]) for s in dep.steps] \
        == [(1, ['bb']), (2, ['aa'])]
    assert problems({'docker_config': {'step_6': {}}}) == [
        'step_6: Unsupported value: "step_6": supported values: "step_1", '
        '"step_2", "step_3", "step_4", "step_5"']
    assert problems({'docker_config': {}, 'extra': 1}) == [
        'extra: Forbidden: unknown field']
    assert problems({'step_1': {}, 'xx': {}}) == [
        'xx: Forbidden: mix of step_N keys and container names; put '
        'containers under a step_N key']


def test_paunch_all_options(tmp_path):
    (tmp_path / 'foo.env').write_text('# comment\n\nFOO=from-file\nX=1\n')
    (tmp_path / 'bar.env').write_text('BAR=file\n')
    text = example('paunch-all-options.json').replace('/srv/env',
                                                      str(tmp_path))
    # paunch's fixture has "two" take volumes from itself: a cycle Docker
    # refuses too (issue 9); it is an error naming the field.
    with pytest.raises(errors.ValidationError) as err:
        definitions.parse(text)
    assert str(err.value) == ('step_1.two.volumes_from[0]: Invalid value: '
                              '"two": dependency cycle: two → two')
    dep = definitions.parse(text.replace(
        '"volumes_from": ["two", "three"]',
        '"volumes_from": ["three", "four"]'))
    one_, two = dep.container('one'), dep.container('two')
    assert one_.privileged and one_.user == 'bar'
    assert (one_.ipc_mode, one_.pid_mode, one_.uts_mode) == (
        'host', 'container:bar', 'host')
    assert one_.restart_policy == 'always'
    assert one_.healthcheck == model.HealthCheck(
        ('CMD-SHELL', '/bin/true'), 30.0, 10.0, 3)
    assert one_.environment == (('FOO', 'from-file'), ('X', '1'))
    assert one_.log_tag == '{{.ImageName}}/{{.Name}}/{{.ID}}'
    assert one_.resources.cpu_shares == 600
    assert one_.resources.cpuset_cpus == ''    # "all": no pinning
    assert one_.resources.mem_limit == one_.resources.memswap_limit == 1 << 30
    assert one_.resources.mem_swappiness == 60
    assert one_.security_opt == ('label=disable',)
    assert one_.cap_add == ('SYS_ADMIN', 'SETUID')
    assert one_.cap_drop == ('NET_RAW',)
    assert one_.hostname == 'foohostname'
    assert one_.extra_hosts == ('foohost:127.0.0.1', 'barhost:127.0.0.2')
    assert two.kind is model.Kind.TASK
    assert two.command == ('ls', '-l', '/foo')
    assert two.auto_remove and two.tty and two.stdin_open
    # env files first, then environment (which wins, keeping position)
    assert two.environment == (('FOO', 'BAR'), ('X', '1'), ('BAR', 'BAZ'),
                               ('SINGLE', ''))
    assert two.ulimits == (model.Ulimit('nofile', 1024, 1024),
                           model.Ulimit('nproc', 1024, 1024))
    assert [(m.source, m.target, m.read_only) for m in two.mounts] == [
        ('/foo', '/foo', False), ('/bar', '/bar', True)]
    assert two.volumes_from == ('three', 'four')
    assert two.group_add == ('docker', 'zuul')
    assert two.resources.cpuset_cpus == '0-2'


def test_paunch_start_order_and_exec():
    dep = definitions.parse(example('paunch-start-order-and-exec.yaml'))
    assert [c.name for c in dep.containers] == ['one', 'two', 'three',
                                                'four', 'four_ls']
    four_ls = dep.container('four_ls')
    assert four_ls.kind is model.Kind.EXEC
    assert (four_ls.exec_target, four_ls.command) == ('four',
                                                      ('ls', '-l', '/'))


@pytest.mark.parametrize('spec,expected', [
    ({'image': 'x', 'command': 'bash -c "a b"'}, ('bash', '-c', 'a b')),
    ({'image': 'x', 'command': '/bin/webserver start'},
     ('/bin/webserver', 'start')),
    ({'image': 'x', 'command': ['sleep', 60]}, ('sleep', '60')),
])
def test_command_forms(spec, expected):
    assert one(spec).command == expected


@pytest.mark.parametrize('value,seconds', [('10s', 10), ('1m30s', 90),
                                           (5, 5), ('10.5s', 11),
                                           ('500ms', 1)])
def test_stop_grace_period(value, seconds):
    assert one({'image': 'x', 'stop_grace_period': value}).stop_timeout == \
        seconds


def test_volumes_forms():
    c = one({'image': 'x', 'volumes': [
        '/a:/a', '/b:/b:ro,z', 'named:/n', '/c:/c:rw,rshared', '', None]})
    assert [(m.type, m.source, m.read_only, m.propagation,
             m.selinux_relabel) for m in c.mounts] == [
        ('bind', '/a', False, '', ''), ('bind', '/b', True, '', 'z'),
        ('volume', 'named', False, '', ''),
        ('bind', '/c', False, 'rshared', '')]


def test_environment_mapping_and_values():
    c = one({'image': 'x', 'environment': {'A': 1, 'B': True, 'C': None}})
    assert c.environment == (('A', '1'), ('B', 'True'), ('C', ''))


def test_restart_and_misc():
    c = one({'image': 'x', 'restart': 'on-failure:3', 'ulimit': 'nofile=1:2',
             'security_opt': ['no-new-privileges:true'], 'memory': '512m',
             'timeout': '2m', 'exit_codes': [2, 0], 'entrypoint': 'sh -c',
             'working_dir': '/w', 'labels': {'a': 'b'}})
    assert (c.restart_policy, c.restart_max_retries) == ('on-failure', 3)
    assert c.ulimits == (model.Ulimit('nofile', 1, 2),)
    assert c.security_opt == ('no-new-privileges',)
    assert c.resources.mem_limit == 512 << 20
    assert c.timeout == 120 and c.exit_codes == (0, 2)
    assert c.entrypoint == ('sh', '-c') and c.working_dir == '/w'
    assert c.labels == (('a', 'b'),)


def test_user_forms():
    assert one({'image': 'x', 'user': 42}).user == '42'
    assert one({'image': 'x', 'user': 'nova:nova'}).user == 'nova:nova'
    assert problems({'svc': {'image': 'x', 'user': 'a b'}}) == [
        'svc.user: Invalid value: "a b": must be USER[:GROUP] (names or '
        'numeric IDs)']


def test_comment_keys_ignored_everywhere():
    dep = definitions.parse({'_note': 'x', 'aa': {'image': 'x', '_c': 1}})
    assert [c.name for c in dep.containers] == ['aa']


ERRORS = [
    ({'aa': {'net': 'host'}}, 'aa.image: Required value'),
    ({'aa': {'image': 'x', 'net': 'bridge'}},
     'aa.net: Unsupported value: "bridge": supported values: "host"'),
    ({'aa': {'image': 'x', 'privileged': 'yes'}},
     'aa.privileged: Invalid value: "yes": must be a boolean, not string'),
    ({'aa': {'image': 'x', 'privilged': True}},
     'aa.privilged: Forbidden: unknown field; did you mean "privileged"?'),
    ({'aa': {'image': 'Bad Image'}}, 'aa.image: Invalid value: "Bad Image": '
     'not a valid image reference ([registry/]name[:tag][@digest], '
     'lower-case name)'),
    ({'aa': {'image': 'x', 'volumes': ['relative:/x', '/a:b']}},
     'aa.volumes[1]: Invalid value: "/a:b": the container path must be '
     'absolute'),
    ({'aa': {'image': 'x', 'volumes': ['/a:/x', '/b:/x/']}},
     'aa.volumes[1]: Duplicate value: "/x/"'),
    ({'aa': {'image': 'x', 'volumes': ['/a:/x:rx']}},
     'aa.volumes[0]: Unsupported value: "rx": supported values: "Z", '
     '"private", "ro", "rprivate", "rshared", "rslave", "rw", "shared", '
     '"slave", "z"'),
    ({'aa': {'image': 'x', 'volumes': ['a/b:/x']}},
     'aa.volumes[0]: Invalid value: "a/b:/x": the source must be an absolute '
     'host path or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)'),
    ({'aa': {'image': 'x', 'environment': ['NOVALUE']}},
     'aa.environment[0]: Invalid value: "NOVALUE": must be NAME=VALUE'),
    ({'aa': {'image': 'x', 'command': 'sh -c "a'}},
     'aa.command: Invalid value: "sh -c \\"a": unbalanced quotes (a string '
     'command is split like a POSIX shell would)'),
    ({'aa': {'image': 'x', 'stop_grace_period': 'soon'}},
     'aa.stop_grace_period: Invalid value: "soon": must be a duration (10s, '
     '1m30s) or seconds'),
    ({'aa': {'image': 'x', 'restart': 'sometimes'}},
     'aa.restart: Unsupported value: "sometimes": supported values: "no", '
     '"always", "unless-stopped", "on-failure[:N]"'),
    ({'aa': {'image': 'x', 'detach': False, 'restart': 'always'}},
     'aa.restart: Forbidden: a one-shot (detach: false) container is never '
     'restarted'),
    ({'aa': {'image': 'x', 'memory': '1m'}},
     'aa.memory: Invalid value: "1m": must be at least 6291456 bytes'),
    ({'aa': {'image': 'x', 'ulimit': ['nofile=2:1']}},
     'aa.ulimit[0]: Invalid value: "nofile=2:1": soft limit must not exceed '
     'hard limit'),
    ({'aa': {'image': 'x', 'ulimit': ['bogus=1']}},
     'aa.ulimit[0]: Unsupported value: "bogus": supported values: "core", '
     '"cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", '
     '"nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"'),
    ({'aa': {'image': 'x', 'exit_codes': [256]}},
     'aa.exit_codes: Invalid value: [256]: must be a non-empty list of exit '
     'codes (0-255)'),
    ({'aa': {'image': 'x', 'healthcheck': {'interval': '1s'}}},
     'aa.healthcheck.test: Required value'),
    ({'aa': {'image': 'x', 'env_file': 'rel.env'}},
     'aa.env_file: Invalid value: "rel.env": env files must be absolute paths '
     '(they are read by the hook, not by Docker)'),
    ({'aa': {'image': 'x', 'env_file': '/nonexistent/x.env'}},
     'aa.env_file: Not found: "/nonexistent/x.env"'),
    ({'bad name': {'image': 'x'}},
     'bad name: Invalid value: "bad name": not a valid Docker container '
     'name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)'),
    ({'aa': {'image': 'x', 'name': 'b'}},
     'aa.name: Invalid value: "b": the container name is the key ("aa"); drop '
     '"name" or make it equal'),
    ({'aa': {'action': 'exec', 'command': ['t']}},
     'aa.command: Required value: an exec needs the target container name '
     'and a command: [target, cmd, ...]'),
    ({'aa': {'action': 'exec', 'command': ['tt', 'ls'], 'image': 'x'}},
     'aa.image: Forbidden: unknown field'),
    ({'aa': {'image': 'x', 'labels': {'managed_by': 'me'}}},
     "aa.labels[managed_by]: Forbidden: reserved for the hook's own labels"),
    ({'tt': {'image': 'x', 'start_order': 5},
      'ee': {'action': 'exec', 'command': ['tt', 'ls'], 'start_order': 1}},
     'step_1.ee: Invalid value: "tt": the exec target must start before the '
     'exec: give it an earlier step or a lower start_order'),
    ({'tt': {'image': 'x', 'detach': False},
      'ee': {'action': 'exec', 'command': ['tt', 'ls'], 'start_order': 1}},
     'step_1.ee: Invalid value: "tt": the exec target must be a long-running '
     'container, not a one-shot'),
    ({'step_1': {'aa': {'image': 'x'}}, 'step_2': {'aa': {'image': 'x'}}},
     'step_2.aa: Duplicate value: "aa": Docker container names must be unique '
     'in a deployment'),
    ('a: [', None),
    ('- 1\n', 'config: Invalid value: "array": must be a mapping, not array'),
]


@pytest.mark.parametrize('config,message', ERRORS)
def test_error_messages(config, message):
    found = problems(config)
    if message is None:
        assert found[0].startswith('config: Invalid value: "<string>": not '
                                   'YAML/JSON')
    else:
        assert message in found, found


def test_all_errors_at_once():
    found = problems({'aa': {}, 'bb': {'image': 'x', 'net': 'none'},
                      'cc': {'image': 'x', 'bogus': 1}})
    assert len(found) == 3


def test_exec_target_in_other_deployment_is_allowed():
    dep = definitions.parse({'ee': {'action': 'exec',
                                   'command': ['elsewhere', 'ls']}})
    assert dep.containers[0].exec_target == 'elsewhere'


class TestSourceHash:
    spec = {'image': 'x', 'volumes': ['/a:/a'], 'environment': ['A=1']}

    def test_stable_across_formats_and_order(self):
        a = one(self.spec).source_hash
        b = one(dict(reversed(list(self.spec.items())))).source_hash
        c = definitions.parse(yaml.safe_dump({'svc': self.spec})
                              ).containers[0].source_hash
        d = definitions.parse(json.dumps({'svc': self.spec})
                              ).containers[0].source_hash
        assert a == b == c == d

    def test_not_our_defaults(self):
        # An absent key and an empty value are the same user input; an
        # explicit default is a different input.
        base = one({'image': 'x'}).source_hash
        assert one({'image': 'x', 'volumes': ['']}).source_hash == base
        assert one({'image': 'x', 'privileged': False}).source_hash != base

    def test_changes_with_any_field_and_env_file(self, tmp_path):
        env = tmp_path / 'a.env'
        env.write_text('A=1\n')
        spec = {'image': 'x', 'env_file': str(env)}
        first = one(spec).source_hash
        env.write_text('A=2\n')
        assert one(spec).source_hash != first
        assert one({'image': 'y'}).source_hash != one({'image': 'x'}
                                                      ).source_hash


def test_environment_values_for_masking(tmp_path):
    env = tmp_path / 'a.env'
    env.write_text('FILE_SECRET=SENTINEL-file\n')
    config = {'a': {'image': 'x', 'environment': ['P=SENTINEL-list'],
                    'env_file': str(env)},
              'b': {'environment': {'Q': 'SENTINEL-map'}}}
    values = dict(definitions.environment_values(config))
    assert values == {'P': 'SENTINEL-list', 'FILE_SECRET': 'SENTINEL-file',
                      'Q': 'SENTINEL-map'}
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'spec': {'containers': [
        {'name': 'c', 'env': [{'name': 'K', 'value': 'SENTINEL-pod'}]}]}}
    assert ('K', 'SENTINEL-pod') in definitions.environment_values(
        yaml.safe_dump(pod))


def test_puppet_and_kolla_sections_are_delegated():
    # The config engineer's parser decides; here only that it is called
    # with the section path and its results/errors are kept.
    try:
        dep = definitions.parse({'docker_config': {}, 'puppet_config': [],
                                 'kolla_config': {}})
    except errors.ValidationError as exc:  # pragma: no cover
        pytest.fail(str(exc))
    assert dep.puppet_config == () and dep.kolla_config == ()


# -- issue 9: fields naming another container are dependencies --------------

def _dc(**containers):
    return {'docker_config': {'step_1': containers}}


def _svc(**kw):
    return dict({'image': 'img', 'net': 'host'}, **kw)


def _errors(config):
    with pytest.raises(errors.ValidationError) as err:
        definitions.parse(config)
    return [str(e) for e in err.value.errors]


def test_dependency_in_order_is_accepted():
    dep = definitions.parse(_dc(
        parent=_svc(ipc='shareable', restart='always'),
        child=_svc(start_order=1, pid='container:parent',
                   ipc='container:parent', volumes_from=['parent:ro'])))
    assert dep.container('child').depends_on == (
        ('pid', 'parent'), ('ipc', 'parent'), ('volumes_from[0]', 'parent'))


def test_dependency_cycles_are_errors():
    assert _errors(_dc(aa=_svc(pid='container:bb'),
                       bb=_svc(volumes_from=['aa']))) == [
        'step_1.aa.pid: Invalid value: "container:bb": dependency cycle: '
        'aa → bb → aa',
        'step_1.bb.volumes_from[0]: Invalid value: "aa": dependency cycle: '
        'aa → bb → aa']
    assert _errors(_dc(aa=_svc(ipc='container:aa'))) == [
        'step_1.aa.ipc: Invalid value: "container:aa": dependency cycle: '
        'aa → aa']


def test_dependency_must_start_first_and_be_a_service():
    assert _errors(_dc(aa=_svc(), bb=_svc(pid='container:aa'))) == [
        'step_1.bb.pid: Invalid value: "container:aa": aa must start before '
        'bb: give it an earlier step or a lower start_order (step_1.aa is '
        'step 1, start_order 0)']
    assert _errors(_dc(aa=_svc(detach=False, command='true'),
                       bb=_svc(start_order=1, ipc='container:aa'))) == [
        'step_1.bb.ipc: Invalid value: "container:aa": only a long-running '
        'container\'s namespaces can be joined (a one-shot\'s are gone '
        'when it exits)']
    # volumes from a finished one-shot are fine
    definitions.parse(_dc(aa=_svc(detach=False, command='true'),
                          bb=_svc(start_order=1, volumes_from=['aa'])))
    # another deployment's container: checked by the plan
    definitions.parse(_dc(bb=_svc(pid='container:elsewhere')))


def test_pod_dependency_errors_name_the_annotation():
    import json as json_
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': 'p', 'annotations': {'tripleo.org/docker-options':
                                     json_.dumps({'pid': 'container:p-c'})}},
        'spec': {'containers': [{'name': 'c', 'image': 'img'}]}}
    assert _errors(pod) == [
        'metadata.annotations[tripleo.org/docker-options].pid: Invalid '
        'value: "container:p-c": dependency cycle: p-c → p-c']


# -- every field naming a container: Docker's name rule at validation ------
#
# Issue: ``pid: "container:bad name!"`` passed ``validate`` and failed only
# at apply (status 2, after earlier containers changed).  The whole kind:
# pid/ipc ``container:NAME``, volumes_from, an exec's target, a Pod's
# docker-name and exec-target annotations, its docker-options.

RULE = 'a valid Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)'
#: (a NUL is refused before, by every string field: not repeated here)
BAD_NAMES = ['bad name!', '', ' ', 'a b', ' ab', 'ab ', '.ab', '-ab', '_ab',
             '/ab', 'a/b', 'a', 'ab\n', 'ab:c', 'ümlaut', 'a$b']
GOOD_NAMES = ['ab', 'a1', '0x', 'A.b-c_d', 'x' * 300]


def _pod_exec(target):
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': 'p', 'annotations': {'tripleo.org/kind': 'exec',
                                     'tripleo.org/exec-target': target}},
        'spec': {'containers': [{'name': 'c', 'command': ['true']}]}}


def _pod_options(options, annotations=None):
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
        'name': 'p', 'annotations': dict({
            'tripleo.org/docker-options': json.dumps(options)},
            **(annotations or {}))},
        'spec': {'containers': [{'name': 'c', 'image': 'img'}]}}


OPTS = 'metadata.annotations[tripleo.org/docker-options]'
MUST_BE = 'must be container:NAME, NAME ' + RULE
#: case → (config naming ``n``, (path, value) of the one error it gives)
REFERENCES = {
    'dc pid': (lambda n: _dc(bb=_svc(pid=f'container:{n}')),
               lambda n: ('step_1.bb.pid', f'container:{n}', MUST_BE)),
    'dc ipc': (lambda n: _dc(bb=_svc(ipc=f'container:{n}')),
               lambda n: ('step_1.bb.ipc', f'container:{n}', MUST_BE)),
    'dc volumes_from': (
        lambda n: _dc(bb=_svc(volumes_from=['ok-one', f'{n}:ro'])),
        lambda n: ('step_1.bb.volumes_from[1]', f'{n}:ro',
                   'must be NAME[:ro|rw], NAME ' + RULE)),
    'dc exec target': (
        lambda n: _dc(bb={'action': 'exec', 'command': [n, 'true']}),
        lambda n: ('step_1.bb.command[0]', n, 'not ' + RULE)),
    'dc container key': (
        lambda n: _dc(**{n: _svc()}),
        lambda n: (f'step_1.{n}', n, 'not ' + RULE)),
    'pod pid': (lambda n: _pod_options({'pid': f'container:{n}'}),
                lambda n: (f'{OPTS}.pid', f'container:{n}', MUST_BE)),
    'pod ipc': (lambda n: _pod_options({'ipc': f'container:{n}'}),
                lambda n: (f'{OPTS}.ipc', f'container:{n}', MUST_BE)),
    'pod volumes_from': (
        lambda n: _pod_options({'volumes_from': [n]}),
        lambda n: (f'{OPTS}.volumes_from[0]', n,
                   'must be NAME[:ro|rw], NAME ' + RULE)),
    'pod exec-target': (
        _pod_exec,
        lambda n: ('metadata.annotations[tripleo.org/exec-target]', n,
                   'not ' + RULE)),
    'pod docker-name': (
        lambda n: _pod_options({}, {'tripleo.org/docker-name': n}),
        lambda n: ('metadata.annotations[tripleo.org/docker-name]', n,
                   'not ' + RULE)),
}


@pytest.mark.parametrize('case', sorted(REFERENCES))
@pytest.mark.parametrize('name', BAD_NAMES)
def test_a_referenced_container_name_is_checked_at_validation(case, name):
    config, error = REFERENCES[case]
    if case.endswith('volumes_from'):
        name = name.replace(':', '$')   # NAME:MODE: the name is before ':'
    if case == 'dc container key' and name.startswith('_'):
        pytest.skip('a key starting with _ is a comment in docker_config')
    with pytest.raises(errors.ValidationError) as err:
        definitions.parse(config(name))
    assert [(e.path, e.type, e.value, e.detail)
            for e in err.value.errors] == [
                error(name)[:1] + ('Invalid value',) + error(name)[1:]]


@pytest.mark.parametrize('case', sorted(REFERENCES))
@pytest.mark.parametrize('name', GOOD_NAMES)
def test_a_valid_referenced_container_name_is_accepted(case, name):
    config, _ = REFERENCES[case]
    definitions.parse(config(name))


def test_uts_joins_no_container():
    # Docker's uts takes host only (no container:NAME): unchanged.
    assert _errors(_dc(bb=_svc(uts='container:aa'))) == [
        'step_1.bb.uts: Unsupported value: "container:aa": supported '
        'values: "host"']


def test_offline_validate_refuses_the_issue_input(tmp_path):
    from tripleo_docker_hook import offline
    path = tmp_path / 'bad.yaml'
    path.write_text(yaml.safe_dump(_dc(bb=_svc(pid='container:bad name!'))))
    lines = []
    assert offline.validate_files([str(path)], out=lines.append) == 2
    assert lines == [f'{path}: step_1.bb.pid: Invalid value: '
                     f'"container:bad name!": must be container:NAME, '
                     f'NAME {RULE}']
