// Command oracle evaluates success/failure conditions exactly as Argo Rollouts v1.10.2 does, by calling
// Argo's own utils/evaluate package, for the differential tests in tests/unit/analysis/expr.
//
// Protocol: one JSON object per line on stdin, {"id": ..., "condition": "...", "result": <typed value>},
// and one JSON object per line on stdout with the same id:
//
//	{"id": ..., "value": true|false, "error": "message", "kind": "compile"|"run"|"type", "phase": "...", "message": "..."}
//
// "error" is EvalCondition's error text (what Argo shows after "could not evaluate ..."); "kind" is found by
// compiling the condition again with an environment of the same types as Argo's (compile error, run-time
// error, or a result that is not a bool); "phase"/"message" are EvaluateResult's verdict for a metric whose
// only condition is this one as successCondition.
//
// A typed value is {"t": TYPE, "v": VALUE} with TYPE one of: nil, bool, int, int64, float64, string, json
// (any JSON, decoded as encoding/json decodes into `any`: how the web provider hands over a body),
// []float64 (the Prometheus provider's vector), []string, []int, []any (of typed values), map (string keys,
// typed values), *float64 (null for Datadog's nil pointer), []cloudwatch (CloudWatch's
// []types.MetricDataResult). Floats may be the strings "NaN", "+Inf", "-Inf".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/expr-lang/expr"
	"github.com/sirupsen/logrus"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
)

type request struct {
	ID        json.RawMessage `json:"id"`
	Condition string          `json:"condition"`
	Result    json.RawMessage `json:"result"`
}

type response struct {
	ID      json.RawMessage `json:"id"`
	Value   *bool           `json:"value,omitempty"`
	Error   *string         `json:"error,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Phase   string          `json:"phase"`
	Message string          `json:"message,omitempty"`
	Decode  string          `json:"decode,omitempty"`
}

type typed struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v"`
}

func float(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "+Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(s, 64)
	}
	var f float64
	err := json.Unmarshal(raw, &f)
	return f, err
}

func floats(raw json.RawMessage) ([]float64, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]float64, 0, len(items))
	for _, item := range items {
		f, err := float(item)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

type cloudwatchResult struct {
	ID         *string   `json:"Id"`
	Label      *string   `json:"Label"`
	StatusCode string    `json:"StatusCode"`
	Timestamps []string  `json:"Timestamps"`
	Values     []float64 `json:"Values"`
}

func decode(raw json.RawMessage) (any, error) {
	var t typed
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	switch t.T {
	case "nil":
		return nil, nil
	case "bool":
		var b bool
		err := json.Unmarshal(t.V, &b)
		return b, err
	case "int":
		var i int
		err := json.Unmarshal(t.V, &i)
		return i, err
	case "int64":
		var i int64
		err := json.Unmarshal(t.V, &i)
		return i, err
	case "float64":
		return float(t.V)
	case "string":
		var s string
		err := json.Unmarshal(t.V, &s)
		return s, err
	case "json":
		var v any
		err := json.Unmarshal(t.V, &v)
		return v, err
	case "[]float64":
		return floats(t.V)
	case "[]string":
		var s []string
		err := json.Unmarshal(t.V, &s)
		return s, err
	case "[]int":
		var s []int
		err := json.Unmarshal(t.V, &s)
		return s, err
	case "*float64":
		if string(t.V) == "null" {
			var p *float64
			return p, nil
		}
		f, err := float(t.V)
		return &f, err
	case "[]any":
		var items []json.RawMessage
		if err := json.Unmarshal(t.V, &items); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(items))
		for _, item := range items {
			v, err := decode(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		var items map[string]json.RawMessage
		if err := json.Unmarshal(t.V, &items); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(items))
		for k, item := range items {
			v, err := decode(item)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case "[]cloudwatch":
		var items []cloudwatchResult
		if err := json.Unmarshal(t.V, &items); err != nil {
			return nil, err
		}
		out := make([]types.MetricDataResult, 0, len(items))
		for _, item := range items {
			stamps := make([]time.Time, 0, len(item.Timestamps))
			for _, s := range item.Timestamps {
				ts, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return nil, err
				}
				stamps = append(stamps, ts)
			}
			out = append(out, types.MetricDataResult{
				Id: item.ID, Label: item.Label, StatusCode: types.StatusCode(item.StatusCode),
				Timestamps: stamps, Values: item.Values,
			})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown typed value %q", t.T)
}

// kind tells a compile error from a run-time error from a non-bool result, compiling the condition with an
// environment whose values have the types of Argo's own (EvalCondition's env is not exported).
func kind(result any, condition string) string {
	env := map[string]any{
		"result":  valueFromPointer(result),
		"asInt":   func(any) int64 { return 0 },
		"asFloat": func(any) float64 { return 0 },
		"isNaN":   math.IsNaN,
		"isInf":   func(float64) bool { return false },
		"isNil":   func(any) bool { return false },
		"default": func(any, any) any { return nil },
	}
	if _, err := expr.Compile(condition, expr.Env(env)); err != nil {
		return "compile"
	}
	return ""
}

func valueFromPointer(in any) any {
	if p, ok := in.(*float64); ok {
		if p == nil {
			return nil
		}
		return *p
	}
	return in
}

func main() {
	logrus.SetOutput(os.Stderr)
	logCtx := logrus.WithField("oracle", "expr")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "bad request: %v\n", err)
			os.Exit(2)
		}
		resp := response{ID: req.ID}
		result, err := decode(req.Result)
		if err != nil {
			resp.Decode = err.Error()
		} else {
			value, evalErr := evaluate.EvalCondition(result, req.Condition)
			if evalErr != nil {
				text := evalErr.Error()
				resp.Error = &text
				resp.Kind = kind(result, req.Condition)
				if resp.Kind == "" {
					resp.Kind = "run"
					if len(text) > 20 && text[:20] == "expected bool, but g" {
						resp.Kind = "type"
					}
				}
			} else {
				resp.Value = &value
			}
			phase, phaseErr := evaluate.EvaluateResult(result, v1alpha1.Metric{SuccessCondition: req.Condition}, *logCtx)
			resp.Phase = string(phase)
			if phaseErr != nil {
				resp.Message = phaseErr.Error()
			}
		}
		if err := enc.Encode(resp); err != nil {
			os.Exit(3)
		}
		if err := out.Flush(); err != nil {
			os.Exit(3)
		}
	}
}
