"""Fixtures for tests against the real Docker engine.

Every test works under its own deployment name and container names and
removes only the containers labelled with that deployment, so tests never
see each other's leftovers.
"""

import os

import pytest

from tests import helpers


@pytest.fixture(scope='session')
def docker_api():
    import docker
    client = docker.APIClient(
        base_url=os.environ.get('DOCKER_HOST',
                                'unix:///var/run/docker.sock'),
        version='1.41', timeout=120)
    try:
        client.ping()
    except Exception as exc:
        if os.environ.get('TDH_REQUIRE_DOCKER'):
            pytest.fail(f'Docker engine unreachable: {exc}')
        pytest.skip(f'Docker engine unreachable: {exc}')
    for image in (helpers.BUSYBOX, helpers.BUSYBOX_OTHER):
        try:
            client.inspect_image(image)
        except Exception:
            pytest.fail(f'test image {image} missing: run '
                        'tools/build-images.sh')
    return client


def remove_deployment(client, name):
    for c in client.containers(all=True,
                               filters={'label': f'deployment={name}'}):
        client.remove_container(c['Id'], force=True)


@pytest.fixture
def deployment(docker_api):
    """A unique deployment name; its containers are removed afterwards."""
    name = helpers.unique()
    yield name
    remove_deployment(docker_api, name)


@pytest.fixture
def hook_env(tmp_path):
    """Environment for the hook process with private state directories."""
    dirs = {key: tmp_path / key for key in
            ('state_dir', 'config_data_dir', 'kolla_config_dir')}
    for path in dirs.values():
        path.mkdir()
    conf = helpers.write_conf(tmp_path / 'hook.conf',
                              **{k: str(v) for k, v in dirs.items()})
    env = dict(os.environ)
    env['TRIPLEO_DOCKER_HOOK_CONFIG'] = str(conf)
    env.update({f'TDH_{k.upper()}': str(v) for k, v in dirs.items()})
    return env
