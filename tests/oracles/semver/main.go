// Answers, one JSON line per request {"revision": "...", "tags": [...]}, what Argo CD's Helm revision
// resolution does with them: a pin is returned as written, a constraint picks the highest tag it allows,
// anything else must equal a tag. Written from Argo CD's documented behaviour on top of the real library.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"

	"github.com/Masterminds/semver/v3"
)

type request struct {
	Revision string   `json:"revision"`
	Tags     []string `json:"tags"`
}

type answer struct {
	Version string `json:"version"`
	Error   string `json:"error"`
	IsPin   bool   `json:"isPin"`
}

func resolve(r request) answer {
	if _, err := semver.NewVersion(r.Revision); err == nil {
		return answer{Version: r.Revision, IsPin: true}
	}
	c, err := semver.NewConstraint(r.Revision)
	if err != nil {
		if slices.Contains(r.Tags, r.Revision) {
			return answer{Version: r.Revision}
		}
		return answer{Error: "failed to determine semver constraint: " + err.Error()}
	}
	var best *semver.Version
	for _, tag := range r.Tags {
		v, err := semver.NewVersion(tag)
		if err != nil {
			continue
		}
		if c.Check(v) && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	if best == nil {
		return answer{Error: "not found"}
	}
	return answer{Version: best.Original()}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			_ = out.Encode(answer{Error: "bad request: " + err.Error()})
			continue
		}
		_ = out.Encode(resolve(r))
	}
}
