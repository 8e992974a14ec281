// Command health answers "what health does Argo CD give this live object?" with Argo CD's own code, for
// the differential tests of rollouts/gitops/health (tests/unit/gitops/test_health_oracle.py).
//
// Protocol: one JSON request per stdin line, one JSON answer per stdout line, in order:
//
//	{"obj": {...}, "mode": "builtin"}                       gitops-engine health.GetResourceHealth(obj, nil)
//	{"obj": {...}, "mode": "argocd", "overrides": {...}}    what the application controller does: the same call
//	                                                       with lua.ResourceHealthOverrides (argocd-cm overrides,
//	                                                       then Argo CD's embedded resource_customizations)
//
// "overrides" maps a group/kind key ("cert-manager.io/Certificate", "Pod", "*.example.com/*") to
// {"health.lua": "...", "useOpenLibs": bool}. The answer is {"status", "message"}, {"none": true} when the
// kind has no health check, and "error" when Argo CD returned one (its health is then Unknown).
package main

import (
	"bufio"
	"encoding/json"
	"os"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
)

type override struct {
	HealthLua   string `json:"health.lua"`
	UseOpenLibs bool   `json:"useOpenLibs"`
}

type request struct {
	Obj       json.RawMessage     `json:"obj"`
	Mode      string              `json:"mode"`
	Overrides map[string]override `json:"overrides"`
}

type answer struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	None    bool   `json:"none,omitempty"`
	Error   string `json:"error,omitempty"`
}

func assess(req request) answer {
	var obj unstructured.Unstructured
	// The client's decoder: integers become int64, as in objects the controller reads from the API.
	if err := obj.UnmarshalJSON(req.Obj); err != nil {
		return answer{Error: "decode: " + err.Error()}
	}
	var override health.HealthOverride
	if req.Mode == "argocd" {
		overrides := lua.ResourceHealthOverrides{}
		for key, o := range req.Overrides {
			overrides[key] = appv1.ResourceOverride{HealthLua: o.HealthLua, UseOpenLibs: o.UseOpenLibs}
		}
		override = overrides
	}
	h, err := health.GetResourceHealth(&obj, override)
	out := answer{}
	if err != nil {
		out.Error = err.Error()
	}
	if h == nil {
		out.None = true
		return out
	}
	out.Status, out.Message = string(h.Status), h.Message
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			_ = enc.Encode(answer{Error: "request: " + err.Error()})
			continue
		}
		_ = enc.Encode(assess(req))
	}
}
