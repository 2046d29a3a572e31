"""Model → v1 Pods, and round trips through the parser."""

import dataclasses
import glob
import json
import os

import pytest
import yaml

from tripleo_docker_hook import cli
from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import export
from tests.unit.test_definitions_pod import pod

EXAMPLES = os.environ.get('TDH_EXAMPLES',
                          '/work/shared/reference/examples')

RICH_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ops
  labels: {app: web}
  annotations: {tripleo.org/step: "3", tripleo.org/start-order: "5"}
spec:
  hostPID: true
  hostIPC: true
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 7
  activeDeadlineSeconds: 60
  securityContext: {runAsUser: 1000, supplementalGroups: [10, 20]}
  volumes:
  - {name: data, hostPath: {path: /srv/data/, type: DirectoryOrCreate}}
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  initContainers:
  - name: init-a
    image: tdh/busybox:latest
    command: [sh, -c, "echo $(GREETING) $$HOME"]
    env: [{name: GREETING, value: hi}]
    volumeMounts: [{name: data, mountPath: /data, subPath: a/b}]
  containers:
  - name: app
    image: tdh/busybox:1
    imagePullPolicy: Never
    command: [httpd, -f]
    args: ["-p", "$(PORT)"]
    workingDir: /www
    tty: true
    stdin: true
    lifecycle: {stopSignal: SIGINT}
    env:
    - {name: PORT, value: "8080"}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true,
       mountPropagation: HostToContainer}
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
    securityContext:
      runAsGroup: 100
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      seLinuxOptions: {type: spc_t}
      appArmorProfile: {type: Unconfined}
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m}
    livenessProbe:
      exec: {command: [wget, -q, -O-, "http://localhost:8080/"]}
      periodSeconds: 5
      initialDelaySeconds: 2
  - name: side
    image: tdh/busybox:1
    securityContext:
      seccompProfile: {type: RuntimeDefault}
"""


def without_hash(dep):
    return [dataclasses.replace(c, source_hash='') for c in dep.containers]


def test_pod_round_trip_is_exact():
    first = definitions.parse(RICH_POD)
    text = export.dumps(first)
    second = definitions.parse(text)
    assert without_hash(second) == without_hash(first)
    assert second.steps[0].number == 3
    # and stable from then on
    assert export.dumps(second) == text
    assert definitions.parse(export.dumps(second)) == second


def test_export_is_valid_v1_shape():
    pods = export.to_pods(definitions.parse(RICH_POD))
    assert len(pods) == 1
    p = pods[0]
    assert (p['apiVersion'], p['kind'], p['metadata']['name']) == (
        'v1', 'Pod', 'web')
    assert p['spec']['hostNetwork'] is True
    assert [c['name'] for c in p['spec']['initContainers']] == ['init-a']
    assert [c['name'] for c in p['spec']['containers']] == ['app', 'side']


def projection(c):
    """What matters when docker_config goes through Kubernetes Pods: the
    Pod identity labels and volume names are new, trailing slashes of host
    paths are dropped, no stop timeout means Docker's 10 s, and binds
    follow Kubernetes hostPath rules (no docker_config "must exist")."""
    mounts = tuple(dataclasses.replace(m, pod_volume='',
                                       source=m.source.rstrip('/'),
                                       must_exist=False, origin='')
                   for m in c.mounts)
    return dataclasses.replace(
        c, source_hash='', labels=(), pod='', pod_container='',
        mounts=mounts, stop_timeout=c.stop_timeout or 10)


def test_exact_docker_mounts_survive_export():
    dep = definitions.parse({'svc': {'image': 'x', 'volumes': [
        '/a:/a:z', 'named:/n', '/b:/b:shared,ro', '/c:/c:rslave']}})
    pods = export.to_pods(dep)
    mounts = pods[0]['spec']['containers'][0]['volumeMounts']
    assert [m['mountPath'] for m in mounts] == ['/a', '/n', '/b', '/c']
    assert mounts[3]['mountPropagation'] == 'HostToContainer'
    options = json.loads(pods[0]['metadata']['annotations'][
        'tripleo.org/docker-options'])
    assert options['volumes'] == ['/a:/a:rw,z', 'named:/n:rw',
                                  '/b:/b:ro,shared']
    back = definitions.parse(export.dumps(dep)).containers[0]
    assert [projection(back)] == [projection(dep.containers[0])]


def test_docker_options_volume_needs_a_mount():
    bad = pod(metadata={'annotations': {
        'tripleo.org/docker-options': json.dumps({'volumes': ['/a:/x:z']})}})
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(bad)
    assert str(info.value) == (
        'metadata.annotations[tripleo.org/docker-options].volumes[0]: '
        'Not found: "/x"')


def docker_config_examples():
    names = sorted(glob.glob(os.path.join(EXAMPLES,
                                          'tripleo-startup-config-*.json')))
    names += [os.path.join(EXAMPLES, 'paunch-start-order-and-exec.yaml')]
    return [n for n in names if os.path.exists(n)]


@pytest.mark.parametrize('path', docker_config_examples(),
                         ids=os.path.basename)
def test_docker_config_round_trip(path):
    with open(path) as f:
        first = definitions.parse(f.read())
    second = definitions.parse(export.dumps(first))
    assert [projection(c) for c in second.containers] == \
        [projection(c) for c in first.containers]
    assert [(s.number, [c.name for c in s.containers])
            for s in second.steps] == [(s.number, [c.name for c in
                                                   s.containers])
                                       for s in first.steps]


def test_paunch_all_options_round_trip(tmp_path):
    path = os.path.join(EXAMPLES, 'paunch-all-options.json')
    if not os.path.exists(path):
        pytest.skip('examples missing')
    (tmp_path / 'foo.env').write_text('FOO=1\n')
    (tmp_path / 'bar.env').write_text('BAR=2\n')
    with open(path) as f:
        text = f.read().replace('/srv/env', str(tmp_path)).replace(
            '"volumes_from": ["two", "three"]',
            '"volumes_from": ["three", "four"]')   # "two": a cycle
    first = definitions.parse(text)
    pods = export.to_pods(first)
    options = json.loads(pods[0]['metadata']['annotations'][
        'tripleo.org/docker-options'])
    assert options['healthcheck']['test'] == ['CMD-SHELL', '/bin/true']
    assert options['security_opt'] == ['label=disable']
    second = definitions.parse(export.dumps(first))
    assert [projection(c) for c in second.containers] == \
        [projection(c) for c in first.containers]


def test_one_pod_per_docker_config_container_with_exact_name():
    dep = definitions.parse({'nova_libvirt': {'image': 'x', 'pid': 'host',
                                              'detach': False}})
    (p,) = export.to_pods(dep)
    assert p['metadata']['name'] == 'nova-libvirt'
    ann = p['metadata']['annotations']
    assert ann['tripleo.org/docker-name'] == 'nova_libvirt'
    assert ann['tripleo.org/kind'] == 'task'
    assert p['spec']['hostPID'] is True
    assert p['spec']['restartPolicy'] == 'Never'


def test_escapes_dollar_signs():
    dep = definitions.parse({'svc': {'image': 'x',
                                     'environment': ['A=1', 'B=$(A)'],
                                     'command': ['echo', '$(A)']}})
    back = definitions.parse(export.dumps(dep)).containers[0]
    assert back.environment == (('A', '1'), ('B', '$(A)'))
    assert back.command == ('echo', '$(A)')


def test_ctl_export_prints_yaml(tmp_path, capsys):
    src = tmp_path / 'pod.yaml'
    src.write_text(yaml.safe_dump(pod()))
    assert cli.main(['export', str(src)]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert docs[0]['metadata']['name'] == 'web'
    bad = tmp_path / 'bad.yaml'
    bad.write_text('aa: {}\n')
    assert cli.main(['export', str(bad)]) == 2
    assert 'aa.image: Required value' in capsys.readouterr().err


def test_ctl_validate_lists_all_errors(tmp_path, capsys):
    good = tmp_path / 'good.yaml'
    good.write_text(yaml.safe_dump(pod()))
    bad = tmp_path / 'bad.yaml'
    bad.write_text('aa: {}\nbb: {image: x, net: none}\n')
    assert cli.main(['validate', str(good), str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [f'{good}: OK (1 containers in 1 steps)',
                   f'{bad}: aa.image: Required value',
                   f'{bad}: bb.net: Unsupported value: "none": supported '
                   'values: "host"']


def test_ctl_validate_host_checks(tmp_path, capsys):
    f = tmp_path / 'p.yaml'
    f.write_text(yaml.safe_dump(pod(
        spec={'volumes': [{'name': 'v', 'hostPath': {
            'path': str(tmp_path / 'missing'), 'type': 'Directory'}}]},
        container={'volumeMounts': [{'name': 'v', 'mountPath': '/v'}]})))
    assert cli.main(['validate', str(f)]) == 0
    assert cli.main(['validate', '--host', str(f)]) == 2
    assert "doesn't exist" in capsys.readouterr().out
