// kubescore: kube-score v1.20.0's checks (github.com/zegl/kube-score, the library its CLI runs) over the
// manifests given as arguments, with the CLI's defaults. One JSON line per (object, check):
// {"object": "Deployment/rollouts/rollouts-controller", "check": "...", "grade": "CRITICAL", "skipped": false,
// "comments": ["..."]}. Used by tests/unit/manifests/test_kube_score.py.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/zegl/kube-score/config"
	ks "github.com/zegl/kube-score/domain"
	"github.com/zegl/kube-score/parser"
	"github.com/zegl/kube-score/score"
	"github.com/zegl/kube-score/score/checks"
	"github.com/zegl/kube-score/scorecard"
)

type namedReader struct {
	*os.File
	name string
}

func (n namedReader) Name() string { return n.name }

type result struct {
	Object   string   `json:"object"`
	Check    string   `json:"check"`
	Grade    string   `json:"grade"`
	Skipped  bool     `json:"skipped"`
	Comments []string `json:"comments"`
}

func main() {
	var files []ks.NamedReader
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fail(err)
		}
		files = append(files, namedReader{File: f, name: name})
	}
	kubeVersion, err := config.ParseSemver("v1.34")
	if err != nil {
		fail(err)
	}
	run := &config.RunConfiguration{
		UseIgnoreChecksAnnotation: true, UseOptionalChecksAnnotation: true, KubernetesVersion: kubeVersion,
		MinReplicasDeployment: 2, MinReplicasHPA: 2, EnabledOptionalTests: map[string]struct{}{},
	}
	p, err := parser.New(&parser.Config{})
	if err != nil {
		fail(err)
	}
	parsed, err := p.ParseFiles(files)
	if err != nil {
		fail(err)
	}
	card, err := score.Score(parsed, score.RegisterAllChecks(parsed, &checks.Config{}, run), run)
	if err != nil {
		fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	for _, object := range *card {
		for _, check := range object.Checks {
			r := result{Object: fmt.Sprintf("%s/%s/%s", object.TypeMeta.Kind, object.ObjectMeta.Namespace, object.ObjectMeta.Name),
				Check: check.Check.ID, Grade: gradeName(check.Grade), Skipped: check.Skipped, Comments: []string{}}
			for _, c := range check.Comments {
				r.Comments = append(r.Comments, c.Summary)
			}
			if err := out.Encode(r); err != nil {
				fail(err)
			}
		}
	}
}

// gradeName is Grade.String() without its panic on the zero grade of a check that did not apply.
func gradeName(g scorecard.Grade) string {
	switch g {
	case scorecard.GradeCritical, scorecard.GradeWarning, scorecard.GradeAlmostOK, scorecard.GradeAllOK:
		return g.String()
	}
	return fmt.Sprintf("grade-%d", int(g))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kubescore:", err)
	os.Exit(2)
}
