"""The Kubernetes manifests of deploy/k8s, checked without a cluster: each is valid against the
Kubernetes 1.37 schemas (kubernetes-validate, strict: an unknown or misplaced field fails), and they
run what the CLI has, with settings the code knows, from one image, as a non-root user, with probes
on the health port and time to finish the message in hand when stopped."""

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_origin

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from giftcert.settings import Settings
from giftcert_services.app import SERVICES
from giftcert_services.cli.main import app

ROOT = Path(__file__).parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
KUSTOMIZATION: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
MANIFEST_FILES = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
NOT_APPLIED = {
    "secret.template.yaml": "placeholders: an apply must never overwrite the real credentials",
    "tick-cronjob.yaml": "the alternative to scheduler.yaml: either one, not both",
}
RUN_SERVICES = (*SERVICES, "api")
REPLICAS = {"ledger": 3, "scheduler": 1, "api": 2}
DOCKERFILE_USER = int(re.findall(r"^USER (\d+)", (ROOT / "deploy" / "Dockerfile").read_text(), re.MULTILINE)[-1])


def documents_of(name: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all((K8S / name).read_text()) if document]


MANIFESTS: list[tuple[str, dict[str, Any]]] = [(name, doc) for name in MANIFEST_FILES for doc in documents_of(name)]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for _, document in MANIFESTS if document["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    [found] = [document for document in of_kind(kind) if document["metadata"]["name"] == name]
    return found


def pod_templates() -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind/name, pod template) of everything that runs giftcert: Deployments, the Job, the CronJob."""
    for _, document in MANIFESTS:
        spec = document["spec"] if document["kind"] in {"Deployment", "Job", "CronJob"} else None
        if spec is not None:
            template = spec["jobTemplate"]["spec"]["template"] if document["kind"] == "CronJob" else spec["template"]
            yield f"{document['kind']}/{document['metadata']['name']}", template


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for where, template in pod_templates():
        for container in template["spec"]["containers"]:
            yield where, container


def deployment_of(service: str) -> dict[str, Any]:
    return named("Deployment", f"giftcert-{service}")


def the_container(deployment: dict[str, Any]) -> dict[str, Any]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def command_line(container: dict[str, Any]) -> str:
    return " ".join([*container["command"], *container["args"]])


CONFIG: dict[str, str] = named("ConfigMap", "giftcert-config")["data"]
SECRET: dict[str, str] = named("Secret", "giftcert-secrets")["stringData"]


@pytest.mark.parametrize(("name", "document"), MANIFESTS, ids=[f"{n}:{d['kind']}" for n, d in MANIFESTS])
def test_every_manifest_is_valid_against_the_kubernetes_schemas(name: str, document: dict[str, Any]) -> None:
    del name
    assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True) == "1.37"


def test_the_validation_is_strict_enough_to_refuse_a_misspelt_field() -> None:
    """Else the test above could pass on anything, e.g. with the schemas missing."""
    deployment = yaml.safe_load(yaml.safe_dump(deployment_of("ledger")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"port": 9100}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template_and_the_cronjob_alternative() -> None:
    assert KUSTOMIZATION["kind"] == "Kustomization"
    resources = KUSTOMIZATION["resources"]
    assert len(resources) == len(set(resources))
    assert set(resources) == set(MANIFEST_FILES) - set(NOT_APPLIED)
    assert "scheduler.yaml" in resources  # the built-in scheduler by default; the CronJob is the swap
    assert "tick-cronjob.yaml" in (K8S / "kustomization.yaml").read_text()  # named where the swap is made


def test_kustomization_images_renames_the_one_image_the_manifests_use() -> None:
    images = {container["image"] for _, container in containers()}
    [image] = images
    [rename] = KUSTOMIZATION["images"]
    assert image.split(":")[0] == rename["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_builds_the_kustomization() -> None:
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True, timeout=60)
    kinds = [document["kind"] for document in yaml.safe_load_all(built.stdout) if document]
    applied = [document["kind"] for name in KUSTOMIZATION["resources"] for document in documents_of(name)]
    assert sorted(kinds) == sorted(applied)


def test_every_service_of_the_cli_has_one_deployment_running_it() -> None:
    deployments = of_kind("Deployment")
    assert len(deployments) == len(RUN_SERVICES)
    for service in RUN_SERVICES:
        deployment = deployment_of(service)
        assert command_line(the_container(deployment)) == f"giftcert run {service}"
        assert deployment["spec"]["replicas"] == REPLICAS.get(service, 1)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == service
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_ledger_has_no_more_replicas_than_partitions() -> None:
    assert deployment_of("ledger")["spec"]["replicas"] <= int(CONFIG["GIFTCERT_TOPIC_PARTITIONS"])


def test_the_job_migrates_and_the_cronjob_ticks_with_commands_the_cli_has() -> None:
    job = named("Job", "giftcert-migrate")
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert command_line(migrate) == "giftcert db upgrade"
    cronjob = named("CronJob", "giftcert-tick")
    [tick] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert command_line(tick) == "giftcert tick"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert cronjob["spec"]["schedule"] == "0 * * * *"  # hourly, like GIFTCERT_EXPIRY_TICK_SECONDS
    for command in (["db", "upgrade"], ["tick"]):
        assert CliRunner().invoke(app, [*command, "--help"]).exit_code == 0, command


@pytest.mark.parametrize("service", RUN_SERVICES)
def test_probes_and_scrapes_ask_the_health_endpoints_where_the_process_serves_them(service: str) -> None:
    """A worker serves /healthz, /readyz and /metrics on GIFTCERT_HEALTH_PORT; `giftcert run api` on
    its own port only (cli/run.py starts the health server for workers)."""
    deployment = deployment_of(service)
    container = the_container(deployment)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    served_on = "http" if service == "api" else "health"
    if service != "api":
        assert ports == {"health": int(CONFIG["GIFTCERT_HEALTH_PORT"])}
        assert CONFIG["GIFTCERT_HEALTH_HOST"] == "0.0.0.0"  # noqa: S104 - the kubelet probes from outside the pod
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[probe]["httpGet"] == {"path": path, "port": served_on}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports[served_on]
    assert annotations["prometheus.io/path"] == "/metrics"


def test_the_api_listens_on_all_interfaces_and_its_service_reaches_it() -> None:
    container = the_container(deployment_of("api"))
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env["GIFTCERT_API_HOST"] == "0.0.0.0"  # noqa: S104 - inside the pod
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["http"] == int(env["GIFTCERT_API_PORT"])
    service = named("Service", "giftcert-api")
    assert service["spec"]["selector"].items() <= deployment_of("api")["spec"]["template"]["metadata"]["labels"].items()
    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [(8080, "http")]


def environment_of(container: dict[str, Any]) -> dict[str, str]:
    """What the container's process sees: the ConfigMap and the Secret it names, then its own `env`."""
    environment: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            environment |= named("ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            environment |= named("Secret", source["secretRef"]["name"])["stringData"]
    return environment | {variable["name"]: variable["value"] for variable in container.get("env", [])}


@pytest.mark.parametrize(("where", "container"), list(containers()), ids=[where for where, _ in containers()])
def test_every_giftcert_setting_in_the_manifests_is_a_real_setting(
    where: str, container: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    del where
    environment = environment_of(container)
    assert environment.keys() >= {*CONFIG, *SECRET}
    for key, value in environment.items():
        field, *nested = key.removeprefix("GIFTCERT_").lower().split("__")
        assert key.startswith("GIFTCERT_"), key
        assert field in Settings.model_fields, key
        assert not nested or get_origin(Settings.model_fields[field].annotation) is dict, key
        assert isinstance(value, str), f"{key}: a ConfigMap or env value must be a string"
        monkeypatch.setenv(key, value)
    settings = Settings()  # and every value parses, the Kafka security combination included
    assert settings.kafka_acks == "all"
    assert settings.database_url.startswith("postgresql+asyncpg://")


def test_secrets_are_in_the_secret_and_nothing_else_is() -> None:
    assert set(SECRET) == {"GIFTCERT_DATABASE_URL", "GIFTCERT_SMTP_PASSWORD", "GIFTCERT_KAFKA_SASL_PASSWORD"}
    assert not {key for key in CONFIG if "PASSWORD" in key or key == "GIFTCERT_DATABASE_URL"}
    assert all("CHANGE-ME" in value for value in SECRET.values())  # a template: placeholders only


@pytest.mark.parametrize(("where", "template"), list(pod_templates()), ids=[where for where, _ in pod_templates()])
def test_every_pod_runs_as_the_images_non_root_user_with_a_read_only_root(where: str, template: dict[str, Any]) -> None:
    del where
    pod = template["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == DOCKERFILE_USER
    assert pod["automountServiceAccountToken"] is False
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        for mount in container.get("volumeMounts", []):
            assert "emptyDir" in volumes[mount["name"]]  # scratch space only: nothing is kept
        resources = container["resources"]
        assert resources["requests"].keys() == resources["limits"].keys() == {"cpu", "memory"}


@pytest.mark.parametrize("service", RUN_SERVICES)
def test_pods_outlive_their_graceful_timeout_when_stopped(service: str) -> None:
    pod = deployment_of(service)["spec"]["template"]["spec"]
    container = the_container(deployment_of(service))
    graceful = float(environment_of(container)["GIFTCERT_GRACEFUL_TIMEOUT_SECONDS"])
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert pod["terminationGracePeriodSeconds"] > pre_stop + graceful


@pytest.mark.parametrize("service", ["ledger", "api"])
def test_the_disruption_budgets_keep_one_pod_of_a_deployment_that_has_more(service: str) -> None:
    budget = named("PodDisruptionBudget", f"giftcert-{service}")
    deployment = deployment_of(service)
    assert budget["spec"]["minAvailable"] == 1 < deployment["spec"]["replicas"]  # else a drain would block
    selected = [
        other["metadata"]["name"] for other in of_kind("Deployment")
        if budget["spec"]["selector"]["matchLabels"].items() <= other["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert selected == [deployment["metadata"]["name"]]
