"""tripleo-docker-hook: deploy TripleO services as containers from Heat.

The package is laid out as the steps of one deployment:

``document`` (the heat-config item) → ``definitions`` (Pods / docker_config
parsed into ``model``) → ``plan`` (pure diff of desired vs. actual) →
``apply`` (side effects through ``engine``, the only module that talks to
Docker).  ``hook`` is the imperative shell that ties them together for
heat-config's runner.
"""

#: Value of the ``managed_by`` label on every container this tool owns.
MANAGED_BY = 'tripleo-docker-hook'

#: Version of the hash contract, part of every definition hash
#: (``source_hash``) and every container hash (the ``tripleo-docker-hook.hash``
#: label).  Bump it only when the meaning of a definition changes: a new
#: value recreates every managed container on every node.  The golden test
#: ``tests/unit/test_golden_hashes.py`` pins the values it produces.
HASH_VERSION = 1
