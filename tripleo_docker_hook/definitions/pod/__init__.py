"""Kubernetes v1 Pods (and the heat-agents kubelet ``v1beta2`` shape).

Strict like the API server's static-pod pipeline (decode, default,
``ValidatePod``): unknown fields and fields that cannot be honoured on one
host with host networking are errors, never silently dropped.

Split along the kubelet's seams:

- :mod:`.spec`: the Pod document and spec, containers in start order;
- :mod:`.metadata`: name, labels, the ``tripleo.org/*`` annotations;
- :mod:`.volumes`: volumes and volume mounts;
- :mod:`.security`: Pod and container security contexts;
- :mod:`.resources`: resources and the liveness probe;
- :mod:`.env`: env, envFrom, ConfigMap and Secret documents;
- :mod:`.container`: container assembly from one :class:`PodContext`.
"""

from tripleo_docker_hook.definitions.pod.container import PodContext
from tripleo_docker_hook.definitions.pod.env import expand
from tripleo_docker_hook.definitions.pod.env import is_object
from tripleo_docker_hook.definitions.pod.env import parse_object
from tripleo_docker_hook.definitions.pod.env import secret_values
from tripleo_docker_hook.definitions.pod.metadata import ANN_DOCKER_NAME
from tripleo_docker_hook.definitions.pod.metadata import ANN_DOCKER_OPTIONS
from tripleo_docker_hook.definitions.pod.metadata import ANN_EXEC_TARGET
from tripleo_docker_hook.definitions.pod.metadata import ANN_KIND
from tripleo_docker_hook.definitions.pod.metadata import ANN_START_ORDER
from tripleo_docker_hook.definitions.pod.metadata import ANN_STEP
from tripleo_docker_hook.definitions.pod.metadata import LABEL_CONTAINER
from tripleo_docker_hook.definitions.pod.metadata import LABEL_NAMESPACE
from tripleo_docker_hook.definitions.pod.metadata import OUR_ANNOTATIONS
from tripleo_docker_hook.definitions.pod.spec import from_v1beta2
from tripleo_docker_hook.definitions.pod.spec import is_pod
from tripleo_docker_hook.definitions.pod.spec import parse

__all__ = ['ANN_DOCKER_NAME', 'ANN_DOCKER_OPTIONS', 'ANN_EXEC_TARGET',
           'ANN_KIND', 'ANN_START_ORDER', 'ANN_STEP', 'LABEL_CONTAINER',
           'LABEL_NAMESPACE', 'OUR_ANNOTATIONS', 'PodContext', 'expand',
           'from_v1beta2', 'is_object', 'is_pod', 'parse', 'parse_object',
           'secret_values']
