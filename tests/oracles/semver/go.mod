// The semver oracle: Masterminds/semver v3.4.0, the version Argo CD v3.6.1 resolves Helm targetRevisions with.
module rollouts.test/oracles/semver

go 1.26.8

require github.com/Masterminds/semver/v3 v3.4.0
