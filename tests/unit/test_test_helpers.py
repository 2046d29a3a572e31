"""tests/helpers.new_dir: a test's directory on the host (test_render_keys
makes /etc/puppet/<deployment>) leaves nothing behind and removes nothing
that was there before."""

import os

import pytest

from tests import helpers


def test_new_dir_removes_what_it_made(tmp_path):
    top, own = str(tmp_path / 'puppet'), str(tmp_path / 'puppet/dep')
    with helpers.new_dir(own, parents=(top,)) as path:
        os.mkdir(os.path.join(path, 'hieradata'))
    assert not os.path.exists(top)


def test_new_dir_keeps_a_parent_that_was_there(tmp_path):
    top = tmp_path / 'puppet'
    (top / 'modules').mkdir(parents=True)
    with helpers.new_dir(str(top / 'dep'), parents=(str(top),)):
        pass
    assert sorted(os.listdir(top)) == ['modules']


def test_new_dir_never_takes_over_an_existing_dir(tmp_path):
    """A directory of the same name that was there is neither used nor
    removed (the old fixture rmtree'd /etc/puppet/<deployment> whoever
    made it), and the parent it made is removed again."""
    top = tmp_path / 'puppet'
    (top / 'dep').mkdir(parents=True)
    (top / 'dep' / 'keep').write_text('x')
    with pytest.raises(FileExistsError):
        with helpers.new_dir(str(top / 'dep'), parents=(str(top),)):
            pass
    assert (top / 'dep' / 'keep').read_text() == 'x'
    other = tmp_path / 'other'
    with pytest.raises(FileExistsError):
        with helpers.new_dir(str(tmp_path), parents=(str(other),)):
            pass
    assert not other.exists()


def test_new_dir_cleans_up_when_the_test_fails(tmp_path):
    top = tmp_path / 'puppet'
    with pytest.raises(RuntimeError):
        with helpers.new_dir(str(top / 'dep'), parents=(str(top),)) as path:
            open(os.path.join(path, 'f'), 'w').close()
            raise RuntimeError('test failed')
    assert not top.exists()


def test_new_dir_leaves_a_parent_someone_else_filled(tmp_path):
    top = tmp_path / 'puppet'
    with helpers.new_dir(str(top / 'dep'), parents=(str(top),)):
        (top / 'theirs').mkdir()
    assert sorted(os.listdir(top)) == ['theirs']
