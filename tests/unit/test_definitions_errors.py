"""Every other validation message, case by case (docker_config and Pods).

Each case is a small broken definition and the complete list of errors
the operator sees for it.
"""

import pytest
import yaml

from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tests.unit.test_definitions_pod import CONFIG_MAP, pod


def D(spec):  # noqa: N802 - a docker_config entry named svc
    return {"svc": dict({"image": "x"}, **spec)}


CASES = {
    "dc_two_modes": D({"volumes": ["/a:/a:ro,rw"]}),
    "dc_hc_type": D({"healthcheck": {"test": 5}}),
    "dc_hc_shell": D({"healthcheck": {"test": ["CMD-SHELL", "a", "b"]}}),
    "dc_hc_interval": D({"healthcheck": {"test": "x", "interval": "fast"}}),
    "dc_cap": D({"cap_add": ["net admin"]}),
    "dc_secopt": D({"security_opt": ["foo=bar"]}),
    "dc_pid": D({"pid": "private"}),
    "dc_volfrom": D({"volumes_from": ["bad name"]}),
    "dc_hosts": D({"extra_hosts": ["nohost"]}),
    "dc_cpuset": D({"cpuset_cpus": "x"}),
    "dc_timeout": D({"timeout": 0}),
    "dc_signal": D({"stop_signal": "kill me"}),
    "dc_memboth": D({"memory": "1g", "mem_limit": "1g"}),
    "dc_label": D({"labels": {"a": 1}}),
    "dc_env_type": D({"environment": "A=1"}),
    "dc_cmd_type": D({"command": {"a": 1}}),
    "dc_step_type": {"step_1": ["x"]},
    "dc_container_type": {"svc": "image: x"},
    "dc_envfile_dir": D({"env_file": "/tmp"}),
    "dc_cpu_shares": D({"cpu_shares": 1}),
    "dc_start_order": D({"start_order": "1"}),
    "pod_v1beta2_source": {
        "version": "v1beta2",
        "containers": [{"name": "aa", "image": "x"}],
        "volumes": [{"name": "v", "source": {"nfs": {}}}],
    },
    "pod_v1beta2_restart": {
        "version": "v1beta2",
        "containers": [{"name": "aa", "image": "x"}],
        "restartPolicy": {"sometimes": {}},
    },
    "pod_start_order": pod(
        metadata={"annotations": {"tripleo.org/start-order": "x"}}
    ),
    "pod_kind": pod(metadata={"annotations": {"tripleo.org/kind": "job"}}),
    "pod_exec_target": pod(
        metadata={"annotations": {"tripleo.org/kind": "exec"}}
    ),
    "pod_docker_name_many": pod(
        spec={"initContainers": [{"name": "i", "image": "x"}]},
        metadata={"annotations": {"tripleo.org/docker-name": "n1"}},
    ),
    "pod_docker_name_bad": pod(
        metadata={"annotations": {"tripleo.org/docker-name": "bad name"}}
    ),
    "pod_docker_options_json": pod(
        metadata={"annotations": {"tripleo.org/docker-options": "{"}}
    ),
    "pod_docker_options_obj": pod(
        metadata={"annotations": {"tripleo.org/docker-options": "[]"}}
    ),
    "pod_fsgroup": pod(spec={"securityContext": {"fsGroup": 1}}),
    "pod_sysctls": pod(spec={"securityContext": {"sysctls": []}}),
    "pod_groups": pod(spec={"securityContext": {"supplementalGroups": ["a"]}}),
    "pod_sizelimit": pod(
        spec={
            "volumes": [
                {
                    "name": "v",
                    "emptyDir": {"medium": "Memory", "sizeLimit": "big"},
                }
            ]
        }
    ),
    "pod_sizelimit_disk": pod(
        spec={"volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}]}
    ),
    "pod_nfs": pod(spec={"volumes": [{"name": "v", "nfs": {}}]}),
    "pod_seccomp_local": pod(
        container={
            "securityContext": {
                "seccompProfile": {
                    "type": "Localhost",
                    "localhostProfile": "p",
                }
            }
        }
    ),
    "pod_apparmor_noprof": pod(
        container={
            "securityContext": {"appArmorProfile": {"type": "Localhost"}}
        }
    ),
    "pod_profile_extra": pod(
        container={
            "securityContext": {
                "seccompProfile": {
                    "type": "Unconfined",
                    "localhostProfile": "p",
                }
            }
        }
    ),
    "pod_claims": pod(container={"resources": {"claims": []}}),
    "pod_negative": pod(container={"resources": {"limits": {"cpu": "-1"}}}),
    "pod_probe_nohandler": pod(
        container={"livenessProbe": {"periodSeconds": 3}}
    ),
    "pod_probe_nocmd": pod(container={"livenessProbe": {"exec": {}}}),
    "pod_probe_grace": pod(
        container={
            "livenessProbe": {
                "exec": {"command": ["x"]},
                "terminationGracePeriodSeconds": 3,
            }
        }
    ),
    "pod_env_value_type": pod(container={"env": [{"name": "A", "value": 1}]}),
    "pod_env_both": pod(
        container={
            "env": [
                {
                    "name": "A",
                    "value": "1",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                }
            ]
        }
    ),
    "pod_env_two_sources": pod(
        container={
            "env": [
                {
                    "name": "A",
                    "valueFrom": {
                        "fieldRef": {"fieldPath": "metadata.name"},
                        "resourceFieldRef": {"resource": "limits.cpu"},
                    },
                }
            ]
        }
    ),
    "pod_filekeyref": pod(
        container={"env": [{"name": "A", "valueFrom": {"fileKeyRef": {}}}]}
    ),
    "pod_fieldref_api": pod(
        container={
            "env": [
                {
                    "name": "A",
                    "valueFrom": {
                        "fieldRef": {
                            "fieldPath": "metadata.name",
                            "apiVersion": "v2",
                        }
                    },
                }
            ]
        }
    ),
    "pod_resref_other": pod(
        container={
            "env": [
                {
                    "name": "A",
                    "valueFrom": {
                        "resourceFieldRef": {
                            "resource": "limits.cpu",
                            "containerName": "other",
                        }
                    },
                }
            ]
        }
    ),
    "pod_resref_divisor": pod(
        container={
            "resources": {"limits": {"cpu": "1"}},
            "env": [
                {
                    "name": "A",
                    "valueFrom": {
                        "resourceFieldRef": {
                            "resource": "limits.cpu",
                            "divisor": "0",
                        }
                    },
                }
            ],
        }
    ),
    "pod_poststart": pod(
        container={"lifecycle": {"postStart": {"exec": {"command": ["x"]}}}}
    ),
    "pod_init_stopsignal": pod(
        spec={
            "initContainers": [
                {
                    "name": "i",
                    "image": "x",
                    "lifecycle": {"stopSignal": "SIGINT"},
                }
            ]
        }
    ),
    "pod_subpath_empty": pod(
        spec={"volumes": [{"name": "v", "emptyDir": {}}]},
        container={
            "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "a"}]
        },
    ),
    "pod_prop_empty": pod(
        spec={"volumes": [{"name": "v", "emptyDir": {}}]},
        container={
            "volumeMounts": [
                {
                    "name": "v",
                    "mountPath": "/v",
                    "mountPropagation": "HostToContainer",
                }
            ]
        },
    ),
    "pod_subpathexpr": pod(
        spec={"volumes": [{"name": "v", "emptyDir": {}}]},
        container={
            "volumeMounts": [
                {"name": "v", "mountPath": "/v", "subPathExpr": "a"}
            ]
        },
    ),
    "pod_port_name": pod(
        container={"ports": [{"containerPort": 1, "name": "Bad--"}]}
    ),
    "pod_port_dupname": pod(
        container={
            "ports": [
                {"containerPort": 1, "name": "p"},
                {"containerPort": 2, "name": "p"},
            ]
        }
    ),
    "pod_hostip": pod(
        container={"ports": [{"containerPort": 1, "hostIP": "1.2.3.4"}]}
    ),
    "pod_port_required": pod(container={"ports": [{"name": "p"}]}),
    "pod_nonroot_nouser": pod(
        container={"securityContext": {"runAsNonRoot": True}}
    ),
    "pod_exec_image": pod(
        metadata={
            "annotations": {
                "tripleo.org/kind": "exec",
                "tripleo.org/exec-target": "tt",
            }
        }
    ),
    "pod_exec_nocmd": pod(
        container={"image": None},
        metadata={
            "annotations": {
                "tripleo.org/kind": "exec",
                "tripleo.org/exec-target": "tt",
            }
        },
    ),
    "pod_task_always": pod(
        spec={"restartPolicy": "Always"},
        metadata={"annotations": {"tripleo.org/kind": "task"}},
    ),
    "pod_automount": pod(spec={"automountServiceAccountToken": True}),
    "list_items": {"apiVersion": "v1", "kind": "List", "items": "x"},
    "cm_dup": [CONFIG_MAP, CONFIG_MAP, pod()],
    "cm_binary": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "binaryData": {"a": "eA=="},
    },
    "cm_key": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a b": "x"},
    },
    "pod_envfrom_both": pod(
        container={
            "envFrom": [
                {"configMapRef": {"name": "c"}, "secretRef": {"name": "s"}}
            ]
        }
    ),
    "pod_spec_missing": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "a"},
    },
    "pod_mount_rel": pod(
        spec={"volumes": [{"name": "v", "emptyDir": {}}]},
        container={"volumeMounts": [{"name": "v", "mountPath": "rel"}]},
    ),
    "pod_label_len": pod(container={"name": "a" * 64}),
    "pod_ann_key": pod(metadata={"annotations": {"bad key!": "x"}}),
}

EXPECTED = {
    "dc_two_modes": [
        'svc.volumes[0]: Invalid value: "/a:/a:ro,rw": '
        "more than one mode option"
    ],
    "dc_hc_type": [
        "svc.healthcheck.test: Invalid value: 5: must be a "
        "string or a list of strings, not number"
    ],
    "dc_hc_shell": [
        'svc.healthcheck.test: Invalid value: ["CMD-SHELL", '
        '"a", "b"]: CMD-SHELL takes one string'
    ],
    "dc_hc_interval": [
        "svc.healthcheck.interval: Invalid value: "
        '"fast": must be a duration (e.g. 30s, 1m30s, '
        "500ms) of at least 1ms"
    ],
    "dc_cap": [
        'svc.cap_add[0]: Invalid value: "net admin": not a capability name'
    ],
    "dc_secopt": [
        'svc.security_opt[0]: Unsupported value: "foo=bar": '
        'supported values: "label=...", "apparmor=...", '
        '"seccomp=...", "no-new-privileges", '
        '"systempaths=unconfined"'
    ],
    "dc_pid": [
        'svc.pid: Unsupported value: "private": supported '
        'values: "host", "container:<name>"'
    ],
    "dc_volfrom": [
        'svc.volumes_from[0]: Invalid value: "bad name": '
        "must be NAME[:ro|rw], NAME a valid Docker container name "
        "([a-zA-Z0-9][a-zA-Z0-9_.-]+)"
    ],
    "dc_hosts": [
        'svc.extra_hosts[0]: Invalid value: "nohost": must be HOST:IP'
    ],
    "dc_cpuset": [
        'svc.cpuset_cpus: Invalid value: "x": must be a CPU list like 0-2,4'
    ],
    "dc_timeout": [
        "svc.timeout: Invalid value: 0: must be a positive "
        "duration (seconds or 10m)"
    ],
    "dc_signal": [
        'svc.stop_signal: Invalid value: "kill me": not a signal name'
    ],
    "dc_memboth": ["svc.memory: Forbidden: give either memory or mem_limit"],
    "dc_label": [
        "svc.labels[a]: Invalid value: 1: must be a string, not number"
    ],
    "dc_env_type": [
        'svc.environment: Invalid value: "A=1": must be a '
        "list of NAME=VALUE or a mapping, not string"
    ],
    "dc_cmd_type": [
        'svc.command: Invalid value: "object": must be a '
        "list of strings or a string, not object"
    ],
    "dc_step_type": [
        'step_1: Invalid value: "array": must be a mapping '
        "of container name to options, not array"
    ],
    "dc_container_type": [
        'svc: Invalid value: "image: x": must be a '
        "mapping of container options, not string"
    ],
    "dc_envfile_dir": [
        'svc.env_file: Invalid value: "/tmp": cannot '
        "read env file: not a regular file"
    ],
    "dc_cpu_shares": [
        "svc.cpu_shares: Invalid value: 1: must be between 2 and 262144"
    ],
    "dc_start_order": [
        'svc.start_order: Invalid value: "1": must be an integer, not string'
    ],
    "pod_v1beta2_source": [
        "volumes[0].source: Unsupported value: "
        '"nfs": supported values: "hostDir", '
        '"emptyDir"'
    ],
    "pod_v1beta2_restart": [
        "restartPolicy: Unsupported value: "
        '"sometimes": supported values: "always", '
        '"onFailure", "never"'
    ],
    "pod_start_order": [
        "metadata.annotations[tripleo.org/start-order]: "
        'Invalid value: "x": must be an integer of at most 64 bits'
    ],
    "pod_kind": [
        "metadata.annotations[tripleo.org/kind]: Unsupported "
        'value: "job": supported values: "service", "task", '
        '"exec"'
    ],
    "pod_exec_target": [
        "metadata.annotations[tripleo.org/exec-target]: "
        "Required value: tripleo.org/kind: exec and "
        "tripleo.org/exec-target go together",
        "spec.containers[0].image: Forbidden: an exec "
        "runs in its target container",
        "spec.containers[0].command: Required value: the command to exec",
    ],
    "pod_docker_name_many": [
        "metadata.annotations[tripleo.org/docker-name]: "
        "Forbidden: only for a Pod with exactly "
        "one container"
    ],
    "pod_docker_name_bad": [
        "metadata.annotations[tripleo.org/docker-name]: "
        'Invalid value: "bad name": not a valid '
        "Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"
    ],
    "pod_docker_options_json": [
        "metadata.annotations[tripleo.org/docker-options]: "
        'Invalid value: not a JSON document: '
        "Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char "
        "1)"
    ],
    "pod_docker_options_obj": [
        "metadata.annotations[tripleo.org/docker-options]: "
        'Invalid value: "array": must be a JSON '
        "object, not array"
    ],
    "pod_fsgroup": [
        "spec.securityContext.fsGroup: Forbidden: not "
        "supported: host paths are not chowned or "
        "relabelled"
    ],
    "pod_sysctls": [
        "spec.securityContext.sysctls: Forbidden: not "
        "supported: with host networking namespaced sysctls "
        "would change the host"
    ],
    "pod_groups": [
        "spec.securityContext.supplementalGroups[0]: Invalid "
        'value: "a": must be a group ID (0-2147483647)'
    ],
    "pod_sizelimit": [
        "spec.volumes[0].emptyDir.sizeLimit: Invalid "
        'value: "big": must be a positive quantity'
    ],
    "pod_sizelimit_disk": [
        "spec.volumes[0].emptyDir.sizeLimit: "
        "Forbidden: only enforced for medium: Memory "
        "here"
    ],
    "pod_nfs": [
        'spec.volumes[0].nfs: Unsupported value: "nfs": '
        'supported values: "hostPath", "emptyDir"'
    ],
    "pod_seccomp_local": [
        "spec.containers[0].securityContext.seccompProfile.localhostProfile: "
        "Forbidden: Localhost seccomp profiles are "
        "not supported"
    ],
    "pod_apparmor_noprof": [
        "spec.containers[0].securityContext.appArmorProfile.localhostProfile: "
        "Required value"
    ],
    "pod_profile_extra": [
        "spec.containers[0].securityContext.seccompProfile.localhostProfile: "
        "Forbidden: only with type Localhost"
    ],
    "pod_claims": [
        "spec.containers[0].resources.claims: Forbidden: not supported"
    ],
    "pod_negative": [
        "spec.containers[0].resources.limits[cpu]: Invalid "
        'value: "-1": must be greater than or equal to 0'
    ],
    "pod_probe_nohandler": [
        "spec.containers[0].livenessProbe: Required "
        "value: must specify a handler type"
    ],
    "pod_probe_nocmd": [
        "spec.containers[0].livenessProbe.exec.command: Required value"
    ],
    "pod_probe_grace": [
        "spec.containers[0].livenessProbe.terminationGracePeriodSeconds: "
        "Forbidden: not supported"
    ],
    "pod_env_value_type": [
        "spec.containers[0].env[0].value: Invalid "
        "value: 1: must be a string, not number"
    ],
    "pod_env_both": [
        "spec.containers[0].env[0].valueFrom: Invalid "
        'value: "": may not be specified when `value` is '
        "not empty"
    ],
    "pod_env_two_sources": [
        "spec.containers[0].env[0].valueFrom: "
        'Invalid value: "": must have exactly one '
        "source"
    ],
    "pod_filekeyref": [
        "spec.containers[0].env[0].valueFrom.fileKeyRef: "
        "Forbidden: not supported"
    ],
    "pod_fieldref_api": [
        "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion: "
        'Unsupported value: "v2": supported values: '
        '"v1"'
    ],
    "pod_resref_other": [
        "spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: "
        "Forbidden: only the container itself"
    ],
    "pod_resref_divisor": [
        "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "
        'Invalid value: "0": must be a positive '
        "quantity"
    ],
    "pod_poststart": [
        "spec.containers[0].lifecycle.postStart: "
        "Forbidden: lifecycle hooks are not supported"
    ],
    "pod_init_stopsignal": [
        "spec.initContainers[0].lifecycle: "
        "Forbidden: may not be set for init "
        "containers"
    ],
    "pod_subpath_empty": [
        "spec.containers[0].volumeMounts[0].subPath: "
        "Forbidden: subPath is supported for hostPath "
        "volumes only"
    ],
    "pod_prop_empty": [
        "spec.containers[0].volumeMounts[0].mountPropagation: "
        "Forbidden: for hostPath volumes only"
    ],
    "pod_subpathexpr": [
        "spec.containers[0].volumeMounts[0].subPathExpr: "
        "Forbidden: not supported"
    ],
    "pod_port_name": [
        "spec.containers[0].ports[0].name: Invalid value: "
        '"Bad--": must be an IANA_SVC_NAME (at most 15 '
        "characters, matching "
        "'[a-z0-9]([a-z0-9-]*[a-z0-9])*', with at least "
        'one letter and no "--")'
    ],
    "pod_port_dupname": [
        'spec.containers[0].ports[1].name: Duplicate value: "p"'
    ],
    "pod_hostip": [
        "spec.containers[0].ports[0].hostIP: Forbidden: host "
        "networking: the service binds its own addresses"
    ],
    "pod_port_required": [
        "spec.containers[0].ports[0].containerPort: Required value"
    ],
    "pod_nonroot_nouser": [
        "spec.containers[0].securityContext.runAsNonRoot: "
        "Forbidden: needs a numeric runAsUser here: "
        "the image user is not checked"
    ],
    "pod_exec_image": [
        "spec.containers[0].image: Forbidden: an exec "
        "runs in its target container",
        "spec.containers[0].command: Required value: the command to exec",
    ],
    "pod_exec_nocmd": [
        "spec.containers[0].command: Required value: the command to exec"
    ],
    "pod_task_always": [
        "spec.restartPolicy: Forbidden: a "
        "tripleo.org/kind: task Pod runs to completion: "
        "restartPolicy must be Never or OnFailure"
    ],
    "pod_automount": [
        "spec.automountServiceAccountToken: Forbidden: "
        "there is no API server: only false is supported"
    ],
    "list_items": ['items: Invalid value: "x": must be a list, not string'],
    "cm_dup": ['documents[1].metadata.name: Duplicate value: "cfg"'],
    "cm_binary": [
        "binaryData: Forbidden: not supported: environment values are text"
    ],
    "cm_key": [
        'data[a b]: Invalid value: "a b": a valid config key '
        "must consist of alphanumeric characters, '-', '_' or "
        "'.'"
    ],
    "pod_envfrom_both": [
        "spec.containers[0].envFrom[0]: Invalid value: "
        '"": must specify exactly one of configMapRef '
        "and secretRef"
    ],
    "pod_spec_missing": ["spec: Required value"],
    "pod_mount_rel": [
        "spec.containers[0].volumeMounts[0].mountPath: "
        'Invalid value: "rel": must be an absolute path'
    ],
    "pod_label_len": [
        "spec.containers[0].name: Too long: "
        '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": '
        "must be no more than 63 characters"
    ],
    "pod_ann_key": [
        "metadata.annotations[bad key!]: Invalid value: "
        '"bad key!": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character, with an "
        "optional DNS subdomain prefix and '/'"
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_message(name):
    config = CASES[name]
    if isinstance(config, list):
        config = yaml.safe_dump_all(config)
    with pytest.raises(errors.ValidationError) as info:
        definitions.parse(config)
    assert [str(e) for e in info.value.errors] == EXPECTED[name]
