package main

// `podhash layout` prints, by reflection, the shape encoding/json sees in what Argo Rollouts hashes
// (corev1.PodTemplateSpec and []v1alpha1.CanaryStep) at the versions this module pins: every struct type
// reachable from them, its JSON fields in the order encoding/json writes them (embedded structs flattened
// in place), their types and omitempty/omitzero. The project commits this output as data
// (rollouts/api/podtemplate/layout.json); a test compares it with a fresh run, so a change of pin cannot
// go unnoticed.

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

// Types with their own MarshalJSON/UnmarshalJSON: the Python side implements each by name.
var special = map[reflect.Type]string{
	reflect.TypeOf(resource.Quantity{}):  "quantity",
	reflect.TypeOf(intstr.IntOrString{}): "intorstring",
	reflect.TypeOf(metav1.Time{}):        "time",
	reflect.TypeOf(metav1.MicroTime{}):   "microtime",
	reflect.TypeOf(metav1.FieldsV1{}):    "fieldsv1",
	reflect.TypeOf(json.RawMessage{}):    "rawjson",
}

// The roots: what Argo hashes. The pod template (ComputePodTemplateHash) and the canary steps
// (conditions.ComputeStepHash, status.currentStepHash).
var roots = []struct {
	name string
	t    reflect.Type
}{
	{"podTemplate", reflect.TypeOf(corev1.PodTemplateSpec{})},
	{"canarySteps", reflect.TypeOf([]v1alpha1.CanaryStep{})},
}

var (
	marshaler   = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textMarsh   = reflect.TypeOf((*interface{ MarshalText() ([]byte, error) })(nil)).Elem()
	isZeroer    = reflect.TypeOf((*interface{ IsZero() bool })(nil)).Elem()
)

type field struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	OmitEmpty bool   `json:"omitempty,omitempty"`
	OmitZero  bool   `json:"omitzero,omitempty"`
}

type structType struct {
	Fields []field `json:"fields"`
	// HasIsZero: omitzero asks the type's own IsZero method instead of comparing with the zero value.
	HasIsZero bool `json:"hasIsZero,omitempty"`
}

type layout struct {
	Comment  string                `json:"comment"`
	Modules  []string              `json:"modules"`
	Roots    map[string]string     `json:"roots"`
	Types    map[string]structType `json:"types"`
	Specials []string              `json:"specials"`
}

func typeName(t reflect.Type) string {
	p := t.PkgPath()
	p = strings.TrimPrefix(p, "k8s.io/api/")
	p = strings.TrimPrefix(p, "k8s.io/apimachinery/pkg/apis/")
	p = strings.TrimPrefix(p, "k8s.io/apimachinery/pkg/")
	p = strings.TrimPrefix(p, "github.com/argoproj/argo-rollouts/pkg/apis/")
	return p + "." + t.Name()
}

type walker struct {
	types map[string]structType
	seen  map[reflect.Type]string
}

func (w *walker) ref(t reflect.Type) string {
	if s, ok := special[t]; ok {
		return s
	}
	if t.Kind() == reflect.Pointer {
		return "*" + w.ref(t.Elem())
	}
	if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) ||
		t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) ||
		t.Implements(textMarsh) || reflect.PointerTo(t).Implements(textMarsh) {
		panic(fmt.Sprintf("%v has its own JSON/text marshalling: add it to the specials here and in Python", t))
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("int%d", t.Bits())
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("uint%d", t.Bits())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("float%d", t.Bits())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + w.ref(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("map key %v is not a string kind", t.Key()))
		}
		return "map:" + w.ref(t.Elem())
	case reflect.Struct:
		return w.structRef(t)
	}
	panic(fmt.Sprintf("unsupported kind %v (%v)", t.Kind(), t))
}

func (w *walker) structRef(t reflect.Type) string {
	if name, ok := w.seen[t]; ok {
		return name
	}
	name := typeName(t)
	w.seen[t] = name
	st := structType{HasIsZero: t.Implements(isZeroer) || reflect.PointerTo(t).Implements(isZeroer)}
	st.Fields = w.fields(t)
	names := map[string]bool{}
	for _, f := range st.Fields {
		if names[f.Name] {
			panic(fmt.Sprintf("%v: JSON field %q appears twice (encoding/json's dominance rules would apply)", t, f.Name))
		}
		names[f.Name] = true
	}
	w.types[name] = st
	return name
}

func (w *walker) fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				panic(fmt.Sprintf("%v embeds a pointer %v", t, ft))
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, w.fields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fl := field{Name: name, Type: w.ref(f.Type)}
		for _, opt := range parts[1:] {
			switch opt {
			case "omitempty":
				fl.OmitEmpty = true
			case "omitzero":
				fl.OmitZero = true
			case "inline":
			default:
				panic(fmt.Sprintf("%v.%s: json option %q not supported", t, f.Name, opt))
			}
		}
		out = append(out, fl)
	}
	return out
}

func printLayout() {
	w := &walker{types: map[string]structType{}, seen: map[reflect.Type]string{}}
	rootRefs := map[string]string{}
	for _, r := range roots {
		rootRefs[r.name] = w.ref(r.t)
	}
	modules := []string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			switch d.Path {
			case "k8s.io/api", "k8s.io/apimachinery", "github.com/argoproj/argo-rollouts":
				version := d.Version
				if d.Replace != nil {
					version = d.Replace.Version
				}
				modules = append(modules, d.Path+"@"+version)
			}
		}
	}
	sort.Strings(modules)
	specials := []string{}
	for _, s := range special {
		specials = append(specials, s)
	}
	sort.Strings(specials)
	l := layout{
		Comment:  "generated by `podhash layout` (tests/oracles/podhash); do not edit",
		Modules:  modules,
		Roots:    rootRefs,
		Types:    w.types,
		Specials: specials,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(&l); err != nil {
		panic(err)
	}
}
