"""Kubernetes Pod input: fields, defaults and every validation error."""

import copy
import json
import os

import pytest
import yaml

from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

EXAMPLES = os.environ.get('TDH_EXAMPLES',
                          '/work/shared/reference/examples')

BASE = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'web'},
        'spec': {'containers': [{'name': 'app', 'image': 'busybox:1'}]}}


def pod(spec=None, container=None, metadata=None, **top):
    data = copy.deepcopy(BASE)
    data['spec'].update(spec or {})
    if container:
        data['spec']['containers'][0].update(container)
    data['metadata'].update(metadata or {})
    data.update(top)
    return data


def app(**kw):
    return definitions.parse(pod(**kw)).container('web-app')


def problems(config):
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    return [str(e) for e in info.value.errors]


def test_defaults():
    c = app()
    assert c.name == 'web-app' and c.pod == 'web' and c.pod_container == 'app'
    assert c.kind is model.Kind.SERVICE and c.step == 1
    assert c.restart_policy == 'always' and c.stop_timeout == 30
    assert c.healthcheck == model.HealthCheck(('NONE',))
    assert c.security_opt == ('seccomp=unconfined',)
    assert c.pull_policy == 'IfNotPresent'
    assert c.entrypoint is None and c.command is None
    assert dict(c.labels) == {'io.kubernetes.pod.name': 'web',
                              'io.kubernetes.pod.namespace': 'default',
                              'io.kubernetes.container.name': 'app'}
    assert definitions.parse(pod()).source_format == 'pod'


@pytest.mark.parametrize('image,policy', [('busybox', 'Always'),
                                          ('busybox:latest', 'Always'),
                                          ('reg:5000/busybox', 'Always'),
                                          ('busybox:1', 'IfNotPresent')])
def test_pull_policy_default(image, policy):
    assert app(container={'image': image}).pull_policy == policy


def test_command_args_and_expansion():
    c = app(container={
        'command': ['sh', '-c', 'echo $(A) $$(A) $(MISSING) $(A'],
        'env': [{'name': 'A', 'value': 'x'},
                {'name': 'B', 'value': '$(A)-$(C)'},
                {'name': 'C', 'value': 'late'}]})
    assert c.entrypoint == ('sh', '-c', 'echo x $(A) $(MISSING) $(A')
    assert c.command == ()      # command without args: image CMD dropped
    assert c.environment == (('A', 'x'), ('B', 'x-$(C)'), ('C', 'late'))
    c = app(container={'args': ['-v']})
    assert c.entrypoint is None and c.command == ('-v',)


def test_field_refs_and_resource_refs():
    c = app(metadata={'uid': 'u1', 'namespace': 'ns', 'labels': {'k': 'v'},
                      'annotations': {'a': 'b'}},
            container={'resources': {'limits': {'memory': '64Mi',
                                                'cpu': '250m'}},
                       'env': [
        {'name': 'N', 'valueFrom': {'fieldRef': {'fieldPath':
                                                 'metadata.name'}}},
        {'name': 'NS', 'valueFrom': {'fieldRef': {
            'fieldPath': 'metadata.namespace'}}},
        {'name': 'U', 'valueFrom': {'fieldRef': {'fieldPath':
                                                 'metadata.uid'}}},
        {'name': 'L', 'valueFrom': {'fieldRef': {
            'fieldPath': "metadata.labels['k']"}}},
        {'name': 'AN', 'valueFrom': {'fieldRef': {
            'fieldPath': "metadata.annotations['a']"}}},
        {'name': 'M', 'valueFrom': {'resourceFieldRef': {
            'resource': 'limits.memory', 'divisor': '1Mi'}}},
        {'name': 'CPU', 'valueFrom': {'resourceFieldRef': {
            'resource': 'requests.cpu'}}}]})
    assert dict(c.environment) == {'N': 'web', 'NS': 'ns', 'U': 'u1',
                                   'L': 'v', 'AN': 'b', 'M': '64',
                                   'CPU': '1'}


def test_resources():
    c = app(container={'resources': {'limits': {'cpu': '500m',
                                                'memory': '128Mi'},
                                     'requests': {'cpu': 0.1}}})
    r = c.resources
    assert (r.cpu_shares, r.cpu_quota, r.cpu_period) == (102, 50000, 100000)
    assert r.mem_limit == r.memswap_limit == 128 << 20
    r = app(container={'resources': {'requests': {'cpu': '1m'}}}).resources
    assert r.cpu_shares == 2 and r.cpu_quota is None
    r = app(container={'resources': {'limits': {'cpu': '1'}}}).resources
    assert r.cpu_shares == 1024     # request defaults to the limit


def test_security_context():
    c = app(spec={'securityContext': {'runAsUser': 5, 'runAsGroup': 6,
                                      'supplementalGroups': [7],
                                      'seLinuxOptions': {'level': 's0'}}},
            container={'securityContext': {
                'runAsUser': 1000, 'privileged': False,
                'capabilities': {'add': ['NET_ADMIN'], 'drop': ['ALL']},
                'readOnlyRootFilesystem': True,
                'allowPrivilegeEscalation': False,
                'seccompProfile': {'type': 'RuntimeDefault'},
                'appArmorProfile': {'type': 'Localhost',
                                    'localhostProfile': 'p'}}})
    assert c.user == '1000:6'         # container wins, pod fills the gap
    assert c.group_add == ('7',)
    assert c.cap_add == ('NET_ADMIN',) and c.cap_drop == ('ALL',)
    assert c.read_only
    assert c.security_opt == ('no-new-privileges', 'label=level:s0',
                              'apparmor=p')


def test_host_namespaces_restart_grace_deadline_step():
    dep = definitions.parse(pod(
        spec={'hostPID': True, 'hostIPC': True, 'restartPolicy': 'Never',
              'terminationGracePeriodSeconds': 3,
              'activeDeadlineSeconds': 9,
              'initContainers': [{'name': 'i1', 'image': 'x'},
                                 {'name': 'i2', 'image': 'x'}]},
        metadata={'annotations': {'tripleo.org/step': '4',
                                  'tripleo.org/start-order': '10'}}))
    i1, i2, a = dep.containers
    assert [c.name for c in dep.containers] == ['web-i1', 'web-i2',
                                                'web-app']
    assert [c.start_order for c in dep.containers] == [10, 11, 12]
    assert i1.kind is model.Kind.TASK and i1.init and i1.timeout == 9
    assert i1.restart_policy == 'no' and a.restart_policy == 'no'
    assert a.kind is model.Kind.SERVICE and a.timeout is None
    assert (a.pid_mode, a.ipc_mode, a.stop_timeout, a.step) == (
        'host', 'host', 3, 4)


def test_volumes_and_mounts():
    c = app(spec={'volumes': [
        {'name': 'h', 'hostPath': {'path': '/srv/h', 'type': 'Directory'}},
        {'name': 'e', 'emptyDir': {}},
        {'name': 'm', 'emptyDir': {'medium': 'Memory', 'sizeLimit': '1Mi'}}]},
        container={'securityContext': {'privileged': True},
                   'volumeMounts': [
            {'name': 'h', 'mountPath': '/h', 'readOnly': True,
             'mountPropagation': 'Bidirectional'},
            {'name': 'h', 'mountPath': '/s', 'subPath': 'a/b'},
            {'name': 'e', 'mountPath': '/e'},
            {'name': 'm', 'mountPath': '/m'}]})
    h, s, e, m = c.mounts
    assert (h.source, h.read_only, h.propagation, h.host_path_type) == (
        '/srv/h', True, 'rshared', 'Directory')
    assert (s.source, s.sub_path, s.volume_root) == ('/srv/h/a/b', 'a/b',
                                                     '/srv/h')
    assert (e.type, e.source) == ('volume', 'web-e')
    assert (m.type, m.tmpfs_size) == ('tmpfs', 1 << 20)


def test_docker_options_and_kinds():
    dep = definitions.parse(pod(metadata={'annotations': {
        'tripleo.org/docker-name': 'exact_name',
        'tripleo.org/kind': 'task',
        'tripleo.org/docker-options': json.dumps(
            {'ulimit': ['nofile=5'], 'exit_codes': [0, 3], 'user': 'root',
             'healthcheck': 'image'})}}))
    c = dep.containers[0]
    assert c.name == 'exact_name' and c.kind is model.Kind.TASK
    assert c.ulimits == (model.Ulimit('nofile', 5, 5),)
    assert c.exit_codes == (0, 3) and c.user == 'root'
    assert c.healthcheck is None
    dep = definitions.parse(pod(
        container={'image': None, 'command': ['ls', '-l']},
        metadata={'annotations': {'tripleo.org/kind': 'exec',
                                  'tripleo.org/exec-target': 'other'}}))
    c = dep.containers[0]
    assert (c.kind, c.exec_target, c.command) == (model.Kind.EXEC, 'other',
                                                  ('ls', '-l'))


def test_v1beta2_kubelet_examples():
    path = os.path.join(EXAMPLES, 'heat-kubelet-pods-v1beta2.json')
    if not os.path.exists(path):
        pytest.skip('examples missing')
    with open(path) as f:
        items = json.load(f)
    dep = definitions.parse(items[0]['config'])
    assert [c.name for c in dep.containers] == ['heat-engine',
                                                'heat-engine2', 'rabbitmq']
    dep = definitions.parse(items[1]['config'])
    assert dep.containers[0].entrypoint[0] == 'nc'
    assert dep.containers[0].pull_policy == 'Always'


def test_list_and_multi_document():
    other = pod(metadata={'name': 'db'})
    dep = definitions.parse({'apiVersion': 'v1', 'kind': 'List',
                             'items': [pod(), other]})
    assert [c.name for c in dep.containers] == ['db-app', 'web-app']
    text = yaml.safe_dump_all([pod(), other])
    assert definitions.parse(text) == dep
    assert problems(yaml.safe_dump_all([pod(), pod()])) == [
        'documents[1].metadata.name: Duplicate value: "web-app": Docker '
        'container names must be unique in a deployment']


def test_hash_includes_pod_fields_not_unrelated_annotations():
    base = app().source_hash
    assert app(spec={'hostPID': True}).source_hash != base
    assert app(metadata={'labels': {'a': 'b'}}).source_hash != base
    assert app(metadata={'annotations': {'x': 'y'}}).source_hash == base
    assert app(container={'resources': {'limits': {'cpu': '1'}}}
               ).source_hash == app(container={'resources': {
                   'limits': {'cpu': '1000m'}}}).source_hash
    assert app(container={'env': [{'name': 'A', 'value': '1'}]}
               ).source_hash != base


CONFIG_MAP = {'apiVersion': 'v1', 'kind': 'ConfigMap',
              'metadata': {'name': 'cfg'},
              'data': {'LOG_LEVEL': 'debug', 'b-ad': 'skipped'}}
SECRET = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'sec'},
          'data': {'PASSWORD': 'U0VOVElORUwtcw=='},     # SENTINEL-s
          'stringData': {'TOKEN': 'SENTINEL-t'}}


def test_config_map_and_secret_documents():
    user = pod(container={
        'envFrom': [{'configMapRef': {'name': 'cfg'}, 'prefix': 'CFG_'},
                    {'secretRef': {'name': 'missing', 'optional': True}}],
        'env': [{'name': 'PW', 'valueFrom': {'secretKeyRef': {
                    'name': 'sec', 'key': 'PASSWORD'}}},
                {'name': 'OPT', 'valueFrom': {'configMapKeyRef': {
                    'name': 'cfg', 'key': 'nope', 'optional': True}}},
                {'name': 'CFG_LOG_LEVEL', 'value': 'info'}]})
    text = yaml.safe_dump_all([CONFIG_MAP, SECRET, user])
    (c,) = definitions.parse(text).containers
    assert c.environment == (('CFG_LOG_LEVEL', 'info'), ('CFG_b-ad',
                                                         'skipped'),
                             ('PW', 'SENTINEL-s'))
    as_list = {'apiVersion': 'v1', 'kind': 'List',
               'items': [CONFIG_MAP, SECRET, user]}
    assert definitions.parse(as_list).containers[0].environment == \
        c.environment
    # the data a container reads is part of its hash
    changed = copy.deepcopy(CONFIG_MAP)
    changed['data']['LOG_LEVEL'] = 'warn'
    (c2,) = definitions.parse(yaml.safe_dump_all([changed, SECRET, user])
                              ).containers
    assert c2.source_hash != c.source_hash
    values = [v for _, v in definitions.environment_values(text)]
    assert 'SENTINEL-s' in values and 'SENTINEL-t' in values


ERRORS = [
    (pod(spec={'hostNetwork': False}),
     'spec.hostNetwork: Unsupported value: false: supported values: true'),
    (pod(spec={'nodeSelector': {'a': 'b'}}),
     'spec.nodeSelector: Forbidden: scheduling does not apply: the hook runs '
     'on this host'),
    (pod(spec={'bogus': 1}), 'spec.bogus: Forbidden: unknown field'),
    (pod(container={'name': 'Web_1'}),
     'spec.containers[0].name: Invalid value: "Web_1": a lowercase RFC 1123 '
     "label must consist of lower case alphanumeric characters or '-', and "
     "must start and end with an alphanumeric character (e.g. 'my-name',  "
     "or '123-abc')"),
    (pod(metadata={'name': 'Bad'}),
     'metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain '
     "must consist of lower case alphanumeric characters, '-' or '.', and "
     "must start and end with an alphanumeric character (e.g. "
     "'example.com')"),
    (pod(metadata={'name': None}), 'metadata.name: Required value'),
    (pod(container={'image': None}),
     'spec.containers[0].image: Required value'),
    (pod(container={'image': ' x'}),
     'spec.containers[0].image: Invalid value: " x": must not have leading '
     'or trailing whitespace'),
    (pod(spec={'containers': []}),
     'spec.containers: Required value: must have at least one container'),
    (pod(spec={'initContainers': [{'name': 'app', 'image': 'x'}]}),
     'spec.containers[0].name: Duplicate value: "app"'),
    (pod(container={'volumeMounts': [{'name': 'data', 'mountPath': '/d'}]}),
     'spec.containers[0].volumeMounts[0].name: Not found: "data"'),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a'}},
                           {'name': 'v', 'emptyDir': {}}]}),
     'spec.volumes[1].name: Duplicate value: "v"'),
    (pod(spec={'volumes': [{'name': 'v'}]}),
     'spec.volumes[0]: Required value: must specify a volume type'),
    (pod(spec={'volumes': [{'name': 'v', 'emptyDir': {},
                            'hostPath': {'path': '/a'}}]}),
     'spec.volumes[0]: Forbidden: may not specify more than 1 volume type'),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': 'rel'}}]}),
     'spec.volumes[0].hostPath.path: Invalid value: "rel": must be an '
     'absolute path'),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a/../b'}}]}),
     'spec.volumes[0].hostPath.path: Invalid value: "/a/../b": must not '
     "contain '..'"),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a',
                                                      'type': 'Dir'}}]}),
     'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported '
     'values: "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", '
     '"Socket", "CharDevice", "BlockDevice"'),
    (pod(spec={'volumes': [{'name': 'v', 'configMap': {'name': 'c'}}]}),
     'spec.volumes[0].configMap: Forbidden: configMap volumes are not '
     'supported (they would be files written on the host): use a hostPath '
     'written by puppet_config/kolla_config; ConfigMap/Secret documents in '
     'the input can feed env and envFrom'),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a'}}]},
         container={'volumeMounts': [
             {'name': 'v', 'mountPath': '/x'},
             {'name': 'v', 'mountPath': '/x'}]}),
     'spec.containers[0].volumeMounts[1].mountPath: Duplicate value: "/x"'),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a'}}]},
         container={'volumeMounts': [
             {'name': 'v', 'mountPath': '/x', 'subPath': '../up'}]}),
     'spec.containers[0].volumeMounts[0].subPath: Invalid value: "../up": '
     "must be a relative path without '..'"),
    (pod(spec={'volumes': [{'name': 'v', 'hostPath': {'path': '/a'}}]},
         container={'volumeMounts': [
             {'name': 'v', 'mountPath': '/x',
              'mountPropagation': 'Bidirectional'}]}),
     'spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: '
     'Bidirectional mount propagation is available only to privileged '
     'containers'),
    (pod(container={'ports': [{'containerPort': 80, 'hostPort': 8080}]}),
     'spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match '
     '`containerPort` when `hostNetwork` is true'),
    (pod(container={'ports': [{'containerPort': 80}, {'containerPort': 80}]}),
     'spec.containers[0].ports[1].containerPort: Duplicate value: "TCP//80"'),
    (pod(container={'ports': [{'containerPort': 0}]}),
     'spec.containers[0].ports[0].containerPort: Invalid value: 0: must be '
     'between 1 and 65535'),
    (pod(container={'resources': {'limits': {'cpu': '1K'}}}),
     "spec.containers[0].resources.limits[cpu]: Invalid value: \"1K\": "
     "quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    (pod(container={'resources': {'limits': {'cpu': '1'},
                                  'requests': {'cpu': '2'}}}),
     'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must '
     'be less than or equal to cpu limit'),
    (pod(container={'resources': {'limits': {'gpu': '1'}}}),
     'spec.containers[0].resources.limits[gpu]: Unsupported value: "gpu": '
     'supported values: "cpu", "memory"'),
    (pod(container={'resources': {'limits': {'memory': '1Mi'}}}),
     'spec.containers[0].resources.limits[memory]: Invalid value: "1048576": '
     'Docker needs a memory limit of at least 6Mi'),
    (pod(container={'livenessProbe': {'httpGet': {'port': 80}}}),
     'spec.containers[0].livenessProbe.httpGet: Forbidden: only exec probes '
     'map to a Docker health check'),
    (pod(container={'livenessProbe': {'exec': {'command': ['x']},
                                      'successThreshold': 2}}),
     'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: '
     'must be between 1 and 1'),
    (pod(spec={'initContainers': [{'name': 'i', 'image': 'x',
                                   'livenessProbe': {
                                       'exec': {'command': ['x']}}}]}),
     'spec.initContainers[0].livenessProbe: Forbidden: may not be set for '
     'init containers without restartPolicy=Always'),
    (pod(container={'readinessProbe': {}}),
     'spec.containers[0].readinessProbe: Forbidden: not supported: Docker '
     'has one health check; use livenessProbe'),
    (pod(container={'restartPolicy': 'Always'}),
     'spec.containers[0].restartPolicy: Forbidden: restartPolicy is a Pod '
     'field (sidecar init containers are not supported)'),
    (pod(container={'env': [{'name': '1A', 'value': 'x'}]}),
     'spec.containers[0].env[0].name: Invalid value: "1A": a valid '
     'environment variable name must consist of alphabetic characters, '
     "digits, '_', '-', or '.', and must not start with a digit"),
    (pod(container={'env': [{'name': 'A', 'valueFrom': {
        'secretKeyRef': {'name': 's', 'key': 'k'}}}]}),
     'spec.containers[0].env[0].valueFrom.secretKeyRef.name: Not found: '
     '"s": no Secret of that name in namespace "default" in the input '
     '(there is no API server)'),
    ([CONFIG_MAP, pod(container={'env': [{'name': 'A', 'valueFrom': {
        'configMapKeyRef': {'name': 'cfg', 'key': 'nope'}}}]})],
     'documents[1].spec.containers[0].env[0].valueFrom.configMapKeyRef.key: '
     'Not found: "nope": no such key in ConfigMap "cfg"'),
    ({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'},
      'data': {'k': '!!'}},
     'data[k]: Invalid value: "<secret>": not base64 of UTF-8 text'),
    (pod(container={'env': [{'name': 'A', 'valueFrom': {
        'fieldRef': {'fieldPath': 'status.podIP'}}}]}),
     'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported '
     'value: "status.podIP": supported values: "metadata.name", '
     '"metadata.namespace", "metadata.uid", "metadata.labels[\'<KEY>\']", '
     '"metadata.annotations[\'<KEY>\']", "spec.nodeName", '
     '"spec.serviceAccountName"'),
    (pod(container={'env': [{'name': 'A', 'valueFrom': {'resourceFieldRef': {
        'resource': 'limits.cpu'}}}]}),
     'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: '
     'Required value: limits.cpu is not set for this container (there is no '
     'node allocatable to fall back to)'),
    (pod(container={'securityContext': {'privileged': True,
                                        'allowPrivilegeEscalation': False}}),
     'spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid '
     'value: false: cannot set allowPrivilegeEscalation to false and '
     'privileged to true'),
    (pod(container={'securityContext': {'runAsNonRoot': True,
                                        'runAsUser': 0}}),
     'spec.containers[0].securityContext.runAsNonRoot: Forbidden: runAsUser '
     'is 0 (root)'),
    (pod(container={'securityContext': {'runAsGroup': 5}}),
     'spec.containers[0].securityContext.runAsGroup: Forbidden: runAsGroup '
     'needs runAsUser (Docker user uid:gid)'),
    (pod(container={'securityContext': {'runAsUser': -1}}),
     'spec.containers[0].securityContext.runAsUser: Invalid value: -1: must '
     'be between 0 and 2147483647'),
    (pod(metadata={'annotations': {'tripleo.org/step': '6'}}),
     'metadata.annotations[tripleo.org/step]: Unsupported value: "6": '
     'supported values: "1", "2", "3", "4", "5"'),
    (pod(metadata={'labels': {'managed_by': 'x'}}),
     "metadata.labels[managed_by]: Forbidden: reserved for the hook's own "
     'labels'),
    (pod(metadata={'labels': {'a': 'b c'}}),
     'metadata.labels[a]: Invalid value: "b c": a valid label must be an '
     "empty string or consist of alphanumeric characters, '-', '_' or '.', "
     'and must start and end with an alphanumeric character (at most 63)'),
    (pod(apiVersion='v2'),
     'apiVersion: Unsupported value: "v2": supported values: "v1"'),
    (pod(spec={'dnsPolicy': 'None'}),
     'spec.dnsPolicy: Unsupported value: "None": supported values: '
     '"ClusterFirst", "ClusterFirstWithHostNet", "Default"'),
    (pod(container={'workingDir': 'rel'}),
     'spec.containers[0].workingDir: Invalid value: "rel": must be an '
     'absolute path'),
    ({'apiVersion': 'v1', 'kind': 'List', 'items': [{'kind': 'Service'}]},
     'items[0].kind: Unsupported value: "Service": supported values: "Pod", '
     '"ConfigMap", "Secret"'),
    (pod(metadata={'annotations': {'tripleo.org/docker-options':
                                   '{"bogus": 1}'}}),
     'metadata.annotations[tripleo.org/docker-options].bogus: Forbidden: '
     'unknown field'),
    (pod(spec={'volumes': [{'name': 'm', 'emptyDir': {'medium': 'Memory'}}],
               'initContainers': [{'name': 'i', 'image': 'x',
                                   'volumeMounts': [{'name': 'm',
                                                     'mountPath': '/m'}]}]},
         container={'volumeMounts': [{'name': 'm', 'mountPath': '/m'}]}),
     'spec.volumes[m]: Forbidden: a Memory emptyDir is a tmpfs per '
     'container here; it cannot be shared by several containers'),
]


@pytest.mark.parametrize('config,message', ERRORS)
def test_error_messages(config, message):
    if isinstance(config, list):
        config = yaml.safe_dump_all(config)
    found = problems(config)
    assert message in found, found
