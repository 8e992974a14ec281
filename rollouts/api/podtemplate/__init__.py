"""Kubernetes' ``corev1.PodTemplateSpec`` as Go code sees it: decoding, Go's JSON encoding, semantic equality.

Argo Rollouts identifies a revision by hashing the Go-encoded pod template and finds a ReplicaSet by comparing
templates the way apimachinery's ``equality.Semantic`` does; both depend on the Go struct layout, which this
package knows from a generated table (``layout.json``).
"""

from rollouts.api.podtemplate.gojson import (
    MalformedTemplate,
    canary_steps_go_json,
    decode_pod_template,
    pod_template_go_json,
)
from rollouts.api.podtemplate.quantity import Quantity, QuantityError, parse_quantity

__all__ = [
    "MalformedTemplate",
    "Quantity",
    "QuantityError",
    "canary_steps_go_json",
    "decode_pod_template",
    "parse_quantity",
    "pod_template_go_json",
]
