"""The hook against the real engine: create, labels, secrets, DELETE."""

from tests import helpers


def _config(name, image=helpers.BUSYBOX, **extra):
    spec = {'image': image, 'net': 'host', 'command': helpers.SLEEP_FOREVER,
            'environment': ['KOLLA_CONFIG_STRATEGY=COPY_ALWAYS',
                            'DB_PASSWORD=SENTINEL-db-password'],
            'privileged': True}
    spec.update(extra)
    return {'docker_config': {'step_1': {name: spec}}}


def test_create_labels_host_network_and_secrets(docker_api, deployment,
                                                hook_env, tmp_path):
    name = f'{deployment}-svc'
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'hello').write_text('hi')
    config = _config(name, volumes=[f'{data}:/data:ro'])
    doc = helpers.make_doc(deployment, config, inputs=[
        {'name': 'deploy_password', 'value': 'SENTINEL-heat-password'}])
    answer, rc, stderr = helpers.run_hook(doc, env=hook_env)
    assert rc == 0, answer
    info = docker_api.inspect_container(name)
    labels = info['Config']['Labels']
    assert labels['managed_by'] == 'tripleo-docker-hook'
    assert labels['deployment'] == deployment
    assert labels['config_id'] == doc['id']
    assert labels['container_name'] == name
    assert info['HostConfig']['NetworkMode'] == 'host'
    assert info['HostConfig']['Privileged'] is True
    assert info['State']['Running'] is True
    assert 'DB_PASSWORD=SENTINEL-db-password' in info['Config']['Env']
    assert f'{data}:/data:ro' in info['HostConfig']['Binds']
    # The bind mount is read-only inside the container.
    exec_id = docker_api.exec_create(name, ['sh', '-c',
                                            'cat /data/hello; touch /data/x'])
    out = docker_api.exec_start(exec_id)
    # stdout and stderr arrive interleaved in either order.
    assert b'hi' in out
    assert b'Read-only file system' in out
    assert docker_api.exec_inspect(exec_id)['ExitCode'] != 0
    text = answer['deploy_stdout'] + answer['deploy_stderr'] + stderr
    assert 'SENTINEL' not in text
    assert 'SENTINEL' not in ''.join(f'{k}={v}' for k, v in labels.items())


def test_delete_removes_the_deployment(docker_api, deployment, hook_env):
    name = f'{deployment}-svc'
    doc = helpers.make_doc(deployment, _config(name))
    assert helpers.run_hook(doc, env=hook_env)[1] == 0
    doc = helpers.make_doc(deployment, _config(name), action='DELETE')
    answer, rc, _ = helpers.run_hook(doc, env=hook_env)
    assert rc == 0, answer
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []


def test_invalid_input_changes_nothing(docker_api, deployment, hook_env):
    name = f'{deployment}-svc'
    config = _config(name)
    config['docker_config']['step_1'][f'{name}-bad'] = {'net': 'host'}
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, config),
                                     env=hook_env)
    assert rc != 0
    assert f'step_1.{name}-bad.image: Required value' in \
        answer['deploy_stderr']
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
