// Command gotemplate renders Go text/template + sprig exactly as Argo's notifications engine configures them
// (sprig.TxtFuncMap() without env/expandenv), for differential tests of rollouts/notifications/gotemplate.
//
// Protocol: one JSON request per stdin line, one JSON response per stdout line.
//
//	{"name": "t", "template": "...", "data": {...}, "numbers": "float64"|"int64", "secrets": {"k": "v"}}
//	-> {"ok": true, "out": "..."} | {"ok": false, "phase": "parse"|"exec", "err": "..."}
//
// "numbers" says how JSON numbers reach the template: float64 as json.Unmarshal gives them (Argo Rollouts
// marshals the Rollout to a map), int64 for integers as Kubernetes' unstructured objects give them (Argo CD).
// "secrets" become a map[string][]byte, as the engine passes the notification Secret's data.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type request struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Data     json.RawMessage   `json:"data"`
	Numbers  string            `json:"numbers"`
	Secrets  map[string]string `json:"secrets"`
}

type response struct {
	OK    bool   `json:"ok"`
	Out   string `json:"out,omitempty"`
	Phase string `json:"phase,omitempty"`
	Err   string `json:"err,omitempty"`
}

func toInt64(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = toInt64(e)
		}
	case []any:
		for i, e := range t {
			t[i] = toInt64(e)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil && !strings.ContainsAny(string(t), ".eE") {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

func decode(req request) (map[string]any, error) {
	data := map[string]any{}
	if len(req.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.Data))
		if req.Numbers == "int64" {
			dec.UseNumber()
		}
		if err := dec.Decode(&data); err != nil {
			return nil, err
		}
		if req.Numbers == "int64" {
			data = toInt64(data).(map[string]any)
		}
	}
	if req.Secrets != nil {
		secrets := map[string][]byte{}
		for k, v := range req.Secrets {
			secrets[k] = []byte(v)
		}
		data["secrets"] = secrets
	}
	return data, nil
}

func render(req request, funcs template.FuncMap) response {
	data, err := decode(req)
	if err != nil {
		return response{Phase: "input", Err: err.Error()}
	}
	name := req.Name
	if name == "" {
		name = "t"
	}
	tmpl, err := template.New(name).Funcs(funcs).Parse(req.Template)
	if err != nil {
		return response{Phase: "parse", Err: err.Error()}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return response{Phase: "exec", Err: err.Error()}
	}
	return response{OK: true, Out: out.String()}
}

func main() {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		var resp response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp = response{Phase: "input", Err: err.Error()}
		} else {
			resp = render(req, funcs)
		}
		_ = out.Encode(resp)
	}
}
