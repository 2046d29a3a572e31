"""Where Docker and podman answer differently, the hook acts the same.

Runs on both engines (``tox -e functional`` and ``-e functional-podman``).
The definitions use every field whose inspect form differs on podman (image
names, env, binds with options, ulimits, stop signals, health checks, cap
drops, privileged), so a comparison that leaked those forms into the
plan would recreate containers here.
"""

import pytest

from tests import helpers
from tests.functional.test_converge import apply, config, snapshot, spec


def _rich(data, **extra):
    return spec(
        environment=['A=1', 'B=x=y=='],
        volumes=[f'{data}:/data:rw', f'{data}:/ro:ro', f'{data}:/z:z'],
        ulimit=['nofile=1024:2048', 'nproc=512'],
        stop_signal='SIGINT', cap_drop=['MKNOD'], privileged=False,
        healthcheck={'test': 'test -d /data', 'interval': '300ms',
                     'timeout': '2s', 'retries': 3},
        **extra)


def test_resent_unchanged_deployment_keeps_every_container(
        docker_api, deployment, hook_env, tmp_path):
    """Idempotency on both engines, health checks included: the apply
    waits until each health check passed (on podman the hook runs them:
    without systemd podman never does), then a re-send keeps all."""
    data = tmp_path / 'data'
    data.mkdir()
    names = [f'{deployment}-{i}' for i in range(3)]
    cfg = config({n: _rich(data) for n in names[:2]} |
                 {names[2]: spec(image=helpers.BUSYBOX_OTHER,
                                 privileged=True)})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    before = snapshot(docker_api, deployment)
    assert set(before) == set(names)
    for n in names[:2]:
        info = docker_api.inspect_container(n)
        assert info['State']['Health']['Status'] == 'healthy', info['State']
        assert info['Config']['Image'] == helpers.BUSYBOX
        assert {'A=1', 'B=x=y=='} <= set(info['Config']['Env'])
        assert info['Config']['StopSignal'] == 'SIGINT'
        assert sorted(u['Name'] for u in info['HostConfig']['Ulimits']) == \
            ['nofile', 'nproc']
    for doc_id in (None, 'same-id'):  # a new derived id, then a fixed one
        answer, rc = apply(deployment, cfg, hook_env, doc_id=doc_id)
        assert rc == 0, answer
        for n in names:
            assert f'keep {n}' in answer['deploy_stdout'], answer
        assert snapshot(docker_api, deployment) == before


@pytest.mark.parametrize('check,healthy', [
    ('test -f /data/ready', True), ('exit 1', False)])
def test_waits_for_the_health_check(docker_api, deployment, hook_env,
                                    tmp_path, check, healthy):
    """A new service is done only when its check passed; one that never
    passes fails the apply in bounded time, on both engines."""
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'ready').write_text('')
    a = f'{deployment}-a'
    cfg = config({a: spec(volumes=[f'{data}:/data'], healthcheck={
        'test': check, 'interval': '200ms', 'retries': 2})})
    answer, rc = apply(deployment, cfg, hook_env)
    info = docker_api.inspect_container(a) if healthy else None
    if healthy:
        assert rc == 0, answer
        assert info['State']['Health']['Status'] == 'healthy'
    else:
        assert rc != 0
        assert 'health check failed' in answer['deploy_stderr']


@pytest.mark.skipif(helpers.ENGINE != 'podman',
                    reason='on Docker the test images are Docker\'s own')
def test_podman_runs_the_test_images_docker_built(docker_api):
    """tools/podman-engine.sh loads Docker's test images into podman: the
    name the hook sends (``tdh/busybox:latest``) resolves, through podman's
    Docker-compatible API, to the image with Docker's ID, named
    ``localhost/…`` as ``podman load`` names it (podman.rst).

    The tox env exports ``DOCKER_HOST`` = podman's socket; a script that
    let its ``docker`` calls follow it compared podman with itself and, on
    a fresh machine, built the images inside podman (``docker.io/tdh/…``,
    other IDs), which then shadowed the loaded ones for the compatible
    API's short-name lookup."""
    import docker
    dockerd = docker.APIClient(base_url='unix:///var/run/docker.sock',
                               version='1.41', timeout=60)
    for image in (helpers.BUSYBOX, helpers.BUSYBOX_OTHER,
                  helpers.FAKE_PUPPET, helpers.PUPPET):
        want = dockerd.inspect_image(image)['Id']
        got = docker_api.inspect_image(image)
        assert got['Id'] == want, (image, got['RepoTags'])
        assert f'localhost/{image}' in got['RepoTags'], got['RepoTags']


def test_log_tag_on_podmans_k8s_file_fails_and_rolls_back(
        docker_api, deployment, hook_env):
    """podman.rst, limits: podman's ``k8s-file`` log driver (its default
    without systemd) has no tag, so a container with ``log_tag`` cannot
    start there; the apply says so and a replace is rolled back (the old
    container runs again).  The hook still never picks a driver."""
    if docker_api.kind != 'podman':
        pytest.skip('Docker logs a tag with every driver it ships')
    info = docker_api._get(docker_api.base_url +
                           '/v4.0.0/libpod/info').json()
    if info['host']['logDriver'] != 'k8s-file':
        pytest.skip(f"podman logs to {info['host']['logDriver']} here, "
                    'which takes a tag')
    a = f'{deployment}-a'
    answer, rc = apply(deployment, config({a: spec()}), hook_env)
    assert rc == 0, answer
    before = snapshot(docker_api, deployment)
    answer, rc = apply(deployment, config({a: spec(log_tag='x')}), hook_env)
    assert rc != 0, answer
    # podman's API says only "write child: broken pipe" (conmon's reason,
    # "k8s-file doesn't support --log-tag", is in the service's log)
    assert f'{a}: replacement failed (start {a}.tdh-new' in \
        answer['deploy_stderr'], answer
    assert 'rolled back' in answer['deploy_stderr'], answer
    after = docker_api.inspect_container(a)
    assert after['Id'] == before[a][0]
    assert after['State']['Running'] is True
    assert set(snapshot(docker_api, deployment)) == {a}
