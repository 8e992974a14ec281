// Command podhash is the test oracle for Argo Rollouts' hashes. It reads one JSON object per line and
// decodes the payload the way client-go's informers decode a Rollout (case-sensitive keys, ints preserved):
//
//	{"template": <pod template as stored in a Rollout>, "collisionCount": <int or null>}
//	{"steps": <spec.strategy.canary.steps>}
//	{"equal": [<template>, <template>]}
//	{"tolerant": <template>}      the template as Argo's tolerant informer reads a Rollout that does not
//	                              convert (utils/tolerantinformer: encoding/json, which stops at the first
//	                              field it cannot decode), then hashed
//
// and prints one JSON object per line with what Argo Rollouts v1.10.2 computes from it:
//
//	hash      utils/hash.ComputePodTemplateHash (the label Argo writes on new ReplicaSets)
//	specHash  k8s.io/kubernetes controller.ComputeHash (spew; Argo's second lookup in FindNewReplicaSet)
//	stepHash  utils/conditions.ComputeStepHash (status.currentStepHash)
//	equal     apimachinery equality.Semantic.DeepEqual of the two decoded templates (what Argo's
//	          PodTemplateEqualIgnoreHash decides once the hash label is gone and the desired side defaulted)
//	json      json.Marshal of the decoded value (what hash / stepHash is computed over)
//	error     set when the payload does not decode (Argo could not read such a Rollout at all)
//
// `podhash layout` prints the struct layout table instead (layout.go).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/conditions"
	argohash "github.com/argoproj/argo-rollouts/utils/hash"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/kubernetes/pkg/controller"
	kjson "sigs.k8s.io/json"
)

type input struct {
	Template       json.RawMessage   `json:"template"`
	CollisionCount *int32            `json:"collisionCount"`
	Steps          json.RawMessage   `json:"steps"`
	Equal          []json.RawMessage `json:"equal"`
	Tolerant       json.RawMessage   `json:"tolerant"`
}

type output struct {
	Hash     string `json:"hash,omitempty"`
	SpecHash string `json:"specHash,omitempty"`
	StepHash string `json:"stepHash,omitempty"`
	Equal    *bool  `json:"equal,omitempty"`
	JSON     string `json:"json,omitempty"`
	Error    string `json:"error,omitempty"`
}

func answer(req input) (res output) {
	if req.Tolerant != nil {
		var u map[string]any // numbers kept as written, as client-go's unstructured keeps int64s
		dec := json.NewDecoder(bytes.NewReader(req.Tolerant))
		dec.UseNumber()
		if err := dec.Decode(&u); err != nil {
			res.Error = err.Error()
			return
		}
		data, err := json.Marshal(u) // as fromUnstructuredViaJSON
		if err != nil {
			res.Error = err.Error()
			return
		}
		var tmpl corev1.PodTemplateSpec
		_ = json.Unmarshal(data, &tmpl) // the error is logged by Argo ("malformed object"); what decoded stays
		encoded, _ := json.Marshal(&tmpl)
		res.JSON = string(encoded)
		res.Hash = argohash.ComputePodTemplateHash(&tmpl, nil)
		return
	}
	if len(req.Equal) == 2 {
		var a, b corev1.PodTemplateSpec
		for i, dst := range []*corev1.PodTemplateSpec{&a, &b} {
			if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Equal[i], dst); err != nil {
				res.Error = err.Error()
				return
			}
		}
		equal := apiequality.Semantic.DeepEqual(a, b)
		res.Equal = &equal
		return
	}
	if req.Steps != nil {
		var steps []v1alpha1.CanaryStep
		if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Steps, &steps); err != nil {
			res.Error = err.Error()
			return
		}
		encoded, err := json.Marshal(steps)
		if err != nil {
			res.Error = err.Error()
			return
		}
		ro := &v1alpha1.Rollout{}
		ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{Steps: steps}
		res.JSON = string(encoded)
		res.StepHash = conditions.ComputeStepHash(ro)
		return
	}
	var tmpl corev1.PodTemplateSpec
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Template, &tmpl); err != nil {
		res.Error = err.Error()
		return
	}
	encoded, err := json.Marshal(&tmpl)
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.JSON = string(encoded)
	res.Hash = argohash.ComputePodTemplateHash(&tmpl, req.CollisionCount)
	res.SpecHash = controller.ComputeHash(&tmpl, req.CollisionCount)
	return
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "layout" {
		printLayout()
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req input
		res := output{}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = "bad request: " + err.Error()
		} else {
			res = answer(req)
		}
		if err := out.Encode(&res); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		os.Exit(1)
	}
}
