"""The Kubernetes resource kinds the product talks to, as plain data.

Paths are built from (group, version, plural) rather than from generated typed clients: the controller
works on dict objects end to end, which keeps memory low with thousands of watched objects and lets the
same code serve CRDs, built-in kinds and kinds discovered at run time (the gitops reconciler).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResourceKind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        path = f"{self.collection_path(namespace)}/{name}"
        return f"{path}/{subresource}" if subresource else path

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


ROLLOUT = ResourceKind("argoproj.io", "v1alpha1", "Rollout", "rollouts")
ANALYSISRUN = ResourceKind("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns")
ANALYSISTEMPLATE = ResourceKind("argoproj.io", "v1alpha1", "AnalysisTemplate", "analysistemplates")
CLUSTERANALYSISTEMPLATE = ResourceKind(
    "argoproj.io", "v1alpha1", "ClusterAnalysisTemplate", "clusteranalysistemplates", namespaced=False
)
APPLICATION = ResourceKind("argoproj.io", "v1alpha1", "Application", "applications")
APPPROJECT = ResourceKind("argoproj.io", "v1alpha1", "AppProject", "appprojects")
EXPERIMENT = ResourceKind("argoproj.io", "v1alpha1", "Experiment", "experiments")
REPLICASET = ResourceKind("apps", "v1", "ReplicaSet", "replicasets")
DEPLOYMENT = ResourceKind("apps", "v1", "Deployment", "deployments")
STATEFULSET = ResourceKind("apps", "v1", "StatefulSet", "statefulsets")
DAEMONSET = ResourceKind("apps", "v1", "DaemonSet", "daemonsets")
POD = ResourceKind("", "v1", "Pod", "pods")
SERVICE = ResourceKind("", "v1", "Service", "services")
SECRET = ResourceKind("", "v1", "Secret", "secrets")
CONFIGMAP = ResourceKind("", "v1", "ConfigMap", "configmaps")
NAMESPACE = ResourceKind("", "v1", "Namespace", "namespaces", namespaced=False)
NODE = ResourceKind("", "v1", "Node", "nodes", namespaced=False)
EVENT = ResourceKind("", "v1", "Event", "events")
INGRESS = ResourceKind("networking.k8s.io", "v1", "Ingress", "ingresses")
HTTPROUTE = ResourceKind("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes")
# Istio at the versions it serves; the controller reads and patches at the one --istio-api-version names (Argo's
# default v1alpha3, the first: every Istio serves it).
VIRTUALSERVICES = tuple(ResourceKind("networking.istio.io", v, "VirtualService", "virtualservices")
                        for v in ("v1alpha3", "v1beta1", "v1"))
DESTINATIONRULES = tuple(ResourceKind("networking.istio.io", v, "DestinationRule", "destinationrules")
                         for v in ("v1alpha3", "v1beta1", "v1"))
VIRTUALSERVICE, DESTINATIONRULE = VIRTUALSERVICES[0], DESTINATIONRULES[0]
# Traefik, APISIX and Ambassador (Emissary) at the API versions Argo Rollouts v1.10 uses by default.
TRAEFIKSERVICE = ResourceKind("traefik.io", "v1alpha1", "TraefikService", "traefikservices")
# SMI TrafficSplit at the versions Argo writes (--traffic-split-api-version, default v1alpha1).
TRAFFICSPLITS = tuple(ResourceKind("split.smi-spec.io", v, "TrafficSplit", "trafficsplits")
                      for v in ("v1alpha1", "v1alpha2", "v1alpha3"))
APISIXROUTE = ResourceKind("apisix.apache.org", "v2", "ApisixRoute", "apisixroutes")
MAPPING = ResourceKind("getambassador.io", "v2", "Mapping", "mappings")
JOB = ResourceKind("batch", "v1", "Job", "jobs")
LEASE = ResourceKind("coordination.k8s.io", "v1", "Lease", "leases")
CRD = ResourceKind(
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False
)

BUILTIN: tuple[ResourceKind, ...] = (
    ROLLOUT, ANALYSISRUN, ANALYSISTEMPLATE, CLUSTERANALYSISTEMPLATE, APPLICATION, APPPROJECT, REPLICASET, DEPLOYMENT,
    STATEFULSET, DAEMONSET, POD, SERVICE, SECRET, CONFIGMAP, NAMESPACE, NODE, EVENT, INGRESS, HTTPROUTE,
    *VIRTUALSERVICES, *DESTINATIONRULES, TRAEFIKSERVICE, APISIXROUTE, MAPPING, *TRAFFICSPLITS, JOB, LEASE, CRD,
)
