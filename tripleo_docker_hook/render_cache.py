"""Skip a puppet render when nothing it reads has changed.

docker-puppet re-ran Puppet for every config volume on every stack update;
on a 2-core node one render costs ~2.7 s, so an unchanged re-apply of a
controller spent most of its time rendering what was already there.  A
render is skipped when **every** input that can change its output is the
same as at the last successful render of that volume, and the published
generation is intact:

``image``
    the config image's local image ID (not its tag);
``manifest``
    the merged ``step_config``;
``puppet``
    the config container as the hook would create it (``puppet apply``
    arguments: tags, modulepath, ``hiera_config``; mounts, privileged,
    environment) plus ``[puppet] config_dirs`` and ``hash_exclude``;
``volumes``
    the *content* of the host paths of the entry's extra volumes;
``hieradata``, ``hiera_config``, ``modules``
    the content of those trees on the host;
``facts``
    what facter reports that a manifest may depend on and that the image
    cannot know: hostname, the FQDN inputs (``/etc/hosts``,
    ``/etc/resolv.conf`` of the host, which Docker copies into a
    host-network container), network interfaces with their MAC and
    addresses, CPU count, total memory and the kernel release.  Volatile
    facts (uptime, free memory, load) are left out on purpose: a manifest
    that writes them would re-render on every run.  Everything else facter
    finds (OS release, packages) is inside the image, hence in its ID.

Trees are fingerprinted per file by ``(inode, size, mtime, ctime, mode)``
with a content fallback: a file whose stat changed is hashed again and
only a different content counts (``ctime`` cannot be set from user space,
so a file rewritten with a forged mtime is still seen).  The per-file
digests live in one shared cache per tree, so the modules tree is walked
once per run, not once per volume.

Safety: the record of a volume is dropped before its render starts and
written (atomically) only after the new generation was published, so a
killed run never leaves a record that vouches for a render that did not
finish; and a skip also re-checks the published tree itself against the
digest recorded at publication, so a tampered or half-replaced tree is
rendered again.  ``[puppet] render_cache = false`` or the deployment input
``force_render`` (``ctl apply --force-render``) render everything.
"""

import dataclasses
import hashlib
import json
import os
import stat
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tripleo_docker_hook import atomicfile
from tripleo_docker_hook import lookup_trace
from tripleo_docker_hook import model

FORMAT = 1
CACHE_DIR = 'render-cache'
#: Input kinds, in the order the reason names them.
KINDS = ('image', 'manifest', 'puppet', 'volumes', 'hieradata',
         'hiera_config', 'modules', 'facts')
#: Changed files named in a reason, at most.
NAMED = 3
#: Host ends of other containers' veth pairs come and go with those
#: containers; counting them would re-render on every bridge container
#: start.  They carry no address of the host.
EPHEMERAL_INTERFACES = ('veth',)


# -- tree fingerprints -------------------------------------------------------
class TreeCache:
    """Per-file content digests of one host tree, reused while a file's
    stat is unchanged; persisted in ``state_dir/render-cache/trees``."""

    def __init__(self, directory: str, root: str):
        self.root = root
        name = hashlib.sha256(root.encode()).hexdigest()[:24]
        self.path = os.path.join(directory, 'trees', f'{name}.json')
        old = _read_json(self.path)
        known = isinstance(old, dict) and old.get('root') == root and \
            old.get('format') == FORMAT
        self.files: Dict[str, List[Any]] = old.get('files', {}) \
            if known else {}
        #: whether an earlier state is known (new files are then named)
        self.known = known
        self.dirty = not known

    def digest(self) -> Tuple[str, List[str]]:
        """(digest of the tree's content, files whose content changed
        since this cache last saw them)."""
        entries, changed, seen = [], [], {}
        for rel, st in _walk(self.root):
            mode = st.st_mode
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                key = [st.st_ino, st.st_size, st.st_mtime_ns,
                       st.st_ctime_ns, mode]
                old = self.files.get(rel)
                if old and old[0] == key:
                    content = old[1]
                else:
                    path = os.path.join(self.root, rel) if rel else self.root
                    content = _link(path) if stat.S_ISLNK(mode) else \
                        _file_digest(path)
                    if old is not None and old[1] != content:
                        changed.append(rel or os.path.basename(self.root))
                    elif old is None and self.known:
                        changed.append(rel or os.path.basename(self.root))
                    self.dirty = True
                seen[rel] = [key, content]
            elif stat.S_ISDIR(st.st_mode):
                content = 'dir'
            else:
                content = 'other'
            entries.append(f'{rel}\0{stat.S_IMODE(st.st_mode):o}\0{content}')
        gone = [rel for rel in self.files if rel not in seen]
        if gone:
            changed.extend(sorted(gone))
            self.dirty = True
        self.files = seen
        if not entries:
            return 'absent', changed
        return _sha(entries), changed

    def forget(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def save(self) -> None:
        if self.dirty:
            _write_json(self.path, {'format': FORMAT, 'root': self.root,
                                    'files': self.files})
            self.dirty = False


def _walk(root: str):
    """(relative path, lstat) of ``root`` and everything below it, sorted;
    nothing if it is missing.  Symlinks below ``root`` are not followed;
    ``root`` itself is (a hieradata_dir or hiera.yaml that is a link: its
    text alone would never change with the files Puppet reads)."""
    try:
        st = os.stat(root)
    except OSError:
        try:
            st = os.lstat(root)  # a dangling link
        except OSError:
            return
    yield '', st
    if not stat.S_ISDIR(st.st_mode):
        return
    stack = ['']
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for item in items:
            path = f'{rel}/{item.name}' if rel else item.name
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue
            yield path, st
            if stat.S_ISDIR(st.st_mode):
                subdirs.append(path)
        stack.extend(reversed(subdirs))


def _link(path: str) -> str:
    try:
        return 'link:' + os.readlink(path)
    except OSError:
        return 'link:?'


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
    except OSError as exc:
        return f'unreadable:{exc.errno}'
    return h.hexdigest()


# -- host facts --------------------------------------------------------------
def host_facts(host_root: str = '/') -> Dict[str, Any]:
    """The facts a config run can see that its image cannot know.

    Network facts come from this process's network namespace (the agents
    container and config containers both use the host's network); files
    come from the host through ``host_root``.
    """
    import platform  # not on the path of runs without config volumes
    import socket

    def read(path: str, limit: int = 1 << 20) -> str:
        try:
            with open(path, 'rb') as f:
                return f.read(limit).decode('utf-8', 'replace')
        except OSError:
            return ''

    def on_host(path: str) -> str:
        return os.path.join(host_root or '/', path.lstrip('/'))

    mem = ''
    for line in read('/proc/meminfo').splitlines():
        if line.startswith('MemTotal:'):
            mem = line.split(':', 1)[1].strip()
    interfaces = {}
    try:
        names = sorted(os.listdir('/sys/class/net'))
    except OSError:
        names = []
    for name in names:
        if not name.startswith(EPHEMERAL_INTERFACES):
            interfaces[name] = read(f'/sys/class/net/{name}/address').strip()
    return {
        'hostname': socket.gethostname(),
        'hosts': read(on_host('/etc/hosts')),
        'resolv_conf': read(on_host('/etc/resolv.conf')),
        'interfaces': interfaces,
        # IPv4 local addresses (fib_trie "/32 host LOCAL") and IPv6 ones.
        'ipv4': sorted(_ipv4_local(read('/proc/net/fib_trie', 8 << 20))),
        'ipv6': sorted(line.split()[0] + '/' + line.split()[-1]
                       for line in read('/proc/net/if_inet6').splitlines()
                       if line.split() and not line.split()[-1].startswith(
                           EPHEMERAL_INTERFACES)),
        'cpus': os.cpu_count(),
        'memory': mem,
        'kernel': platform.release(),
    }


def _ipv4_local(fib_trie: str) -> List[str]:
    found, last = set(), ''
    for line in fib_trie.splitlines():
        text = line.strip()
        if text.startswith(('|--', '+--')):
            last = text[3:].strip().split()[0]
        elif text.startswith('/32 host LOCAL') and last:
            found.add(last)
    return list(found)


# -- records -----------------------------------------------------------------
@dataclasses.dataclass
class Decision:
    """What to do with one config volume and why (for ``deploy_stdout``)."""

    volume: str
    render: bool
    reason: str
    parts: Dict[str, str]
    #: the published hash to use when skipped
    hash: Optional[str] = None
    #: hieradata changed, but none of the keys the volume looks up: the
    #: record is brought up to date so the next run does not compare again
    refresh: bool = False
    #: with ``refresh``: the volume's key record with the contents whose
    #: keys were compared (see :func:`key_changes`)
    keys: Optional[Dict[str, Any]] = None


class RenderCache:
    """The inputs of each volume's last successful render, under
    ``state_dir/render-cache`` (the host lock is held while it is used)."""

    def __init__(self, conf, engine):
        self.conf = conf
        self.engine = engine
        self.directory = os.path.join(conf.state_dir, CACHE_DIR)
        self._trees: Dict[str, TreeCache] = {}
        self._tree_results: Dict[str, Tuple[str, List[str]]] = {}
        self._images: Dict[str, Optional[str]] = {}
        self._facts: Optional[str] = None
        #: data files parsed once per content for the whole run
        self._values = lookup_trace.Values()

    # inputs
    def _tree(self, root: str) -> Tuple[str, List[str]]:
        root = os.path.normpath(root) if root else ''
        if not root:
            return 'none', []
        if root not in self._tree_results:
            tree = self._trees[root] = TreeCache(self.directory, root)
            self._tree_results[root] = tree.digest()
        return self._tree_results[root]

    def _image(self, ref: str) -> Optional[str]:
        if ref not in self._images:
            self._images[ref] = self.engine.image_id(ref)
        return self._images[ref]

    def inputs(self, entry: model.PuppetConfig
               ) -> Tuple[Dict[str, str], Dict[str, List[str]]]:
        """(kind → digest, kind → changed files) of one volume."""
        from tripleo_docker_hook import puppet
        p = self.conf.puppet
        spec = puppet.container_spec(entry, self.conf, '<manifest>')
        spec_data = dataclasses.asdict(spec)
        host_root = getattr(self.conf, 'host_root', '/') or '/'
        parts: Dict[str, str] = {}
        files: Dict[str, List[str]] = {}
        parts['image'] = self._image(entry.config_image) or 'missing'
        parts['manifest'] = _sha([entry.step_config])
        parts['puppet'] = _sha([json.dumps(
            [spec_data, list(p.config_dirs), list(p.hash_exclude)],
            sort_keys=True, default=str)])
        volume_digests = []
        for mount in entry.volumes:
            if mount.type != 'bind' or not mount.source.startswith('/'):
                continue
            digest, changed = self._tree(_on_host(mount.source, host_root))
            volume_digests.append(f'{mount.source}\0{digest}')
            files.setdefault('volumes', []).extend(
                f'{mount.source.rstrip("/")}/{c}' for c in changed)
        parts['volumes'] = _sha(volume_digests)
        for kind, root in (('hieradata', p.hieradata_dir),
                           ('hiera_config', p.hiera_config),
                           ('modules', p.modules_dir)):
            parts[kind], files[kind] = self._tree(root)
        if self._facts is None:
            self._facts = _sha([json.dumps(host_facts(host_root),
                                           sort_keys=True)])
        parts['facts'] = self._facts
        return parts, files

    # records
    def _record_path(self, volume: str) -> str:
        name = hashlib.sha256(volume.encode()).hexdigest()[:24]
        return os.path.join(self.directory, 'volumes', f'{name}.json')

    def decide(self, entry: model.PuppetConfig, force: bool = False
               ) -> Decision:
        from tripleo_docker_hook import config_volume
        volume = entry.config_volume
        parts, files = self.inputs(entry)
        if force:
            return Decision(volume, True, 'render forced', parts)
        rec = _read_json(self._record_path(volume))
        if not isinstance(rec, dict) or rec.get('format') != FORMAT or \
                rec.get('volume') != volume:
            return Decision(volume, True, 'no record of a finished render',
                            parts)
        old = rec.get('parts') or {}
        unread = ''
        for kind in KINDS:
            if old.get(kind) != parts.get(kind):
                if kind == 'hieradata':
                    changed_keys, keys = self._changed_keys(volume, rec)
                    if changed_keys == []:
                        named = files.get(kind) or []
                        unread = 'hieradata changed' + (
                            f' ({", ".join(named[:NAMED])})' if named
                            else '') + ', not the keys it looks up'
                        continue
                    if changed_keys:
                        more = f' (+{len(changed_keys) - NAMED})' if len(
                            changed_keys) > NAMED else ''
                        return Decision(
                            volume, True, 'hieradata changed: ' +
                            ', '.join(changed_keys[:NAMED]) + more, parts)
                named = files.get(kind) or []
                detail = f': {", ".join(named[:NAMED])}' if named else ''
                more = f' (+{len(named) - NAMED})' if len(named) > NAMED \
                    else ''
                label = kind.replace('_', ' ')
                why = rec.get('hiera_untraced') if kind == 'hieradata' \
                    else None
                untraced = f' (keys not traced: {str(why)[:200]})' if why \
                    else ''
                return Decision(volume, True, f'{label} changed{detail}'
                                f'{more}{untraced}', parts)
        cdd = os.path.normpath(self.conf.config_data_dir)
        current = config_volume.current_dir(cdd, volume)
        published = config_volume.read_hash(cdd, volume,
                                            self.conf.puppet.hash_exclude)
        if not current or current != rec.get('published_dir') or \
                published != rec.get('hash') or not os.path.islink(
                    config_volume.volume_path(cdd, volume)) or \
                not config_volume.is_own_gen(cdd, current, volume):
            return Decision(volume, True, 'published config moved', parts)
        digest, changed = self._tree(current)
        if digest != rec.get('published_digest'):
            detail = f': {", ".join(changed[:NAMED])}' if changed else ''
            return Decision(volume, True,
                            f'published config altered{detail}', parts)
        if unread:
            return Decision(volume, False, 'inputs unchanged, render '
                            f'skipped ({unread})', parts, hash=published,
                            refresh=keys is not None, keys=keys)
        return Decision(volume, False, 'inputs unchanged, render skipped',
                        parts, hash=published)

    # per-key hieradata (lookup_trace)
    def _keys_path(self, volume: str) -> str:
        """The volume's key record, beside its record."""
        return self._record_path(volume)[:-len('.json')] + '.keys.json'

    def _changed_keys(self, volume: str, rec: dict
                      ) -> Tuple[Optional[List[str]],
                                 Optional[Dict[str, Any]]]:
        """(``rel: key`` of every looked-up key whose value changed since
        the volume's render, [] when none did, None when the record holds
        no usable lookup trace (the whole tree counts); the key record a
        refresh may write, or None)."""
        root = os.path.normpath(self.conf.puppet.hieradata_dir or '')
        keys = self._read_keys(volume, rec, root)
        if keys is None:
            return None, None
        self._tree(root)
        tree = self._trees.get(root)
        if tree is None:
            return None, None
        walk = _contents(tree, keys)
        now = {rel: self._values.read(root, rel, item['format'],
                                      list(item['keys']))
               for rel, item in keys.items()
               if _compare(item['content'], walk[rel])}
        return key_changes(keys, walk, now)

    def _read_keys(self, volume: str, rec: dict, root: str
                   ) -> Optional[Dict[str, Any]]:
        """The volume's key record if ``rec`` vouches for it: the record
        names its sha256 (a keys file from another run, half-written or
        edited is not used) and the same hieradata directory; else None
        (the whole tree counts, as for a record from before per-key
        hieradata)."""
        want = rec.get('hiera_keys')
        if not want or rec.get('hieradata_dir') != root:
            return None
        try:
            with open(self._keys_path(volume), 'rb') as f:
                raw = f.read()
        except OSError:
            return None
        if hashlib.sha256(raw).hexdigest() != want:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        return decode_keys(data)

    def _key_record(self, trace: Optional[lookup_trace.Trace],
                    hieradata: Optional[str]) -> Optional[Dict[str, Any]]:
        """rel → {format, content, keys: key → fingerprint} of what a
        finished render looked up, or None when the trace is opaque or the
        tree changed while Puppet ran (then Puppet may have read values
        the record would not hold).  The files are read before the tree
        is walked again, and a file the walk saw with other bytes than
        were fingerprinted gives None: a record's content always names
        the bytes its fingerprints come from."""
        root = os.path.normpath(self.conf.puppet.hieradata_dir or '')
        if trace is None or trace.opaque or not root or root == '.':
            return None
        now = {rel: self._values.read(root, rel, fmt, keys)
               for rel, (fmt, keys) in trace.files.items()}
        tree = self._trees.get(root) or TreeCache(self.directory, root)
        self._trees[root] = tree
        digest, _ = tree.digest()
        if digest != hieradata:
            return None
        walk = _contents(tree, trace.files)
        if any(not _same_bytes(walk[rel], values.content)
               for rel, values in now.items()):
            return None
        return {rel: {'format': fmt, 'content': walk[rel],
                      'keys': now[rel].keys}
                for rel, (fmt, _keys) in trace.files.items()}

    def forget(self, volume: str) -> None:
        """Before a render: a killed run must leave no record behind."""
        try:
            os.unlink(self._record_path(volume))
        except FileNotFoundError:
            pass

    def remember(self, decision: Decision, rendered=None) -> None:
        """After the volume's new generation was published; ``rendered``
        carries the run's lookup trace (:mod:`lookup_trace`)."""
        from tripleo_docker_hook import config_volume
        cdd = os.path.normpath(self.conf.config_data_dir)
        current = config_volume.current_dir(cdd, decision.volume)
        published = config_volume.read_hash(cdd, decision.volume,
                                            self.conf.puppet.hash_exclude)
        if not current or not published:
            return
        old = _read_json(self._record_path(decision.volume))
        if isinstance(old, dict) and old.get('published_dir') not in (
                None, current):
            # The digests of a replaced generation are of no further use.
            TreeCache(self.directory, old['published_dir']).forget()
        self._tree_results.pop(current, None)
        digest, _ = self._tree(current)
        record = {'format': FORMAT, 'volume': decision.volume,
                  'parts': decision.parts, 'published_dir': current,
                  'hash': published, 'published_digest': digest}
        trace = getattr(rendered, 'lookups', None)
        keys = self._key_record(trace, decision.parts.get('hieradata'))
        if keys is not None:
            record.update(self._write_keys(decision.volume, keys))
        elif trace is not None:
            # Why a hieradata change will render this volume whatever key
            # changed (said in the next render's reason).
            record['hiera_untraced'] = (
                trace.opaque or 'hieradata changed while puppet ran')[:200]
        _write_json(self._record_path(decision.volume), record)

    def _write_keys(self, volume: str, keys: Dict[str, Any]
                    ) -> Dict[str, str]:
        """Kept beside the record, read only when hieradata changed (a
        controller volume looks up thousands of keys; a no-op run should
        not parse them); the record names its digest."""
        raw = json.dumps(encode_keys(keys), sort_keys=True,
                         separators=(',', ':')).encode()
        from tripleo_docker_hook import state
        path = self._keys_path(volume)
        state._makedirs(os.path.dirname(path))
        atomicfile.write(path, raw)
        return {'hiera_keys': hashlib.sha256(raw).hexdigest(),
                'hieradata_dir': os.path.normpath(
                    self.conf.puppet.hieradata_dir or '')}

    def refresh(self, decision: Decision) -> None:
        """A skip whose hieradata changed in keys the volume does not
        read: the record takes the new tree digest and file contents, so
        the next run skips without comparing keys again.  Killed between
        the keys file and the record, the record names the old keys
        file's digest: the keys are unusable and the volume renders."""
        path = self._record_path(decision.volume)
        rec = _read_json(path)
        if not isinstance(rec, dict) or decision.keys is None:
            return
        rec['parts'] = decision.parts
        rec.update(self._write_keys(decision.volume, decision.keys))
        _write_json(path, rec)

    def save_trees(self) -> None:
        """Persist the per-file digests of every tree walked this run."""
        for tree in self._trees.values():
            tree.save()


# -- per-key comparison (pure) -----------------------------------------------
KEYS_FORMAT = 2


def encode_keys(keys: Dict[str, Any]) -> Dict[str, Any]:
    """The key record as stored: each key name once, files listing
    ``[index, fingerprint]``, or the bare index for ``no-key``.  A TripleO
    volume searches ~3 000 keys in each of ~20 hierarchy levels, most of
    which do not hold them: key names repeated per level made a 3.3 MB
    file per volume, this layout 0.5 MB."""
    names = sorted({k for item in keys.values() for k in item['keys']})
    index = {k: i for i, k in enumerate(names)}
    return {'v': KEYS_FORMAT, 'names': names, 'files': {
        rel: {'format': item['format'], 'content': item['content'],
              'keys': [index[k] if fp == lookup_trace.NO_KEY else
                       [index[k], fp]
                       for k, fp in sorted(item['keys'].items())]}
        for rel, item in keys.items()}}


def decode_keys(data: Any) -> Optional[Dict[str, Any]]:
    """rel → {format, content, keys: key → fingerprint} from
    :func:`encode_keys`' form, or None when it is not exactly that."""
    if not isinstance(data, dict) or data.get('v') != KEYS_FORMAT:
        return None
    names, files = data.get('names'), data.get('files')
    if not isinstance(names, list) or not isinstance(files, dict) or \
            not all(isinstance(n, str) for n in names):
        return None
    out: Dict[str, Any] = {}
    for rel, item in files.items():
        if not isinstance(item, dict) or not isinstance(
                item.get('keys'), list) or not isinstance(
                item.get('format'), str) or not isinstance(
                item.get('content'), str):
            return None
        keys = {}
        for entry in item['keys']:
            pair = entry if isinstance(entry, list) else \
                [entry, lookup_trace.NO_KEY]
            if not (len(pair) == 2 and type(pair[0]) is int and
                    0 <= pair[0] < len(names) and isinstance(pair[1], str)):
                return None
            keys[names[pair[0]]] = pair[1]
        out[rel] = {'format': item['format'], 'content': item['content'],
                    'keys': keys}
    return out


#: Tree-walk contents that say nothing about the bytes behind a path (a
#: link, or a path the walk does not list: under a linked directory, or
#: missing): the keys are compared whatever the recorded content.
UNSAFE_CONTENT = ('absent', 'link:', 'unreadable:')
#: Characters of a key (from the untrusted trace) named in a reason.
KEY_NAMED = 100


def _contents(tree: TreeCache, rels) -> Dict[str, str]:
    """rel → the content the last walk of ``tree`` saw ('absent' when it
    did not list it)."""
    return {rel: tree.files[rel][1] if rel in tree.files else 'absent'
            for rel in rels}


def _compare(recorded: str, walk: str) -> bool:
    """Whether a file's keys must be read again."""
    return recorded != walk or walk.startswith(UNSAFE_CONTENT)


def _same_bytes(walk: str, read: str) -> bool:
    """Whether the walk and the fingerprints saw the same bytes (only
    a regular file's walk content can vouch for its keys later)."""
    return walk.startswith(UNSAFE_CONTENT) or walk == read


def key_changes(recorded: Dict[str, Any], walk: Dict[str, str],
                now: Dict[str, lookup_trace.FileValues]
                ) -> Tuple[List[str], Optional[Dict[str, Any]]]:
    """(``rel: key`` of each looked-up key whose fingerprint changed, in
    order; the record brought up to date, or None when a file was
    rewritten between the walk and the read).

    ``recorded`` is a volume's key record (rel → {format, content,
    keys}), ``walk`` the tree walk's content of each of its files, and
    ``now`` the files read again (:func:`_compare`).  The refreshed record
    takes the walk's content only where the bytes fingerprinted are the
    walk's: otherwise a later walk seeing that content would vouch for
    keys nobody compared.
    """
    changed: List[str] = []
    refreshed: Optional[Dict[str, Any]] = {}
    for rel, item in sorted(recorded.items()):
        values = now.get(rel)
        if values is None:
            if refreshed is not None:
                refreshed[rel] = item
            continue
        changed.extend(f'{rel[:KEY_NAMED]}: {key[:KEY_NAMED]}'
                       for key, fp in item['keys'].items()
                       if values.keys.get(key) != fp)
        if refreshed is not None and _same_bytes(walk[rel], values.content):
            refreshed[rel] = dict(item, content=walk[rel])
        else:
            refreshed = None
    return changed, refreshed


def _on_host(path: str, host_root: str) -> str:
    if host_root in ('', '/'):
        return path
    return os.path.join(host_root, path.lstrip('/'))


def _sha(items: Sequence[str]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(item.encode('utf-8', 'surrogateescape'))
        h.update(b'\n')
    return h.hexdigest()


def _read_json(path: str) -> Optional[Any]:
    return atomicfile.read_json(path)


def _write_json(path: str, data: Any) -> None:
    """Atomic and durable: a record is whole or absent.  Every missing
    directory on the way is 0700, like the rest of ``state_dir``
    (``os.makedirs`` left ``render-cache/`` 0755)."""
    from tripleo_docker_hook import state
    state._makedirs(os.path.dirname(path))
    atomicfile.write_json(path, data, sort_keys=True)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on')


def force_requested(inputs) -> bool:
    """The deployment input ``force_render`` (true/yes/1/on)."""
    return _truthy((inputs or {}).get('force_render', ''))


def split(entries, conf, engine, force: bool, report):
    """(cache or None, entries to render, skipped decisions, decision of
    each volume); reports one line per volume saying why."""
    if not getattr(conf.puppet, 'render_cache', True):
        for e in entries:
            report.info(f'render {e.config_volume}: render cache disabled '
                        '([puppet] render_cache)')
        return None, list(entries), [], {}
    cache = RenderCache(conf, engine)
    render, skipped, decisions = [], [], {}
    for entry in entries:
        d = decisions[entry.config_volume] = cache.decide(entry, force)
        if d.render:
            render.append(entry)
            report.info(f'render {d.volume}: {d.reason}')
        else:
            skipped.append(d)
            report.info(f'{d.volume}: {d.reason}')
            if d.refresh:
                cache.refresh(d)
    return cache, render, skipped, decisions
