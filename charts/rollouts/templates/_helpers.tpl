{{/*
Names: every object is "<fullname>-<component>"; with the release name "rollouts" (or one containing it) they
are exactly manifests/install.yaml's names.
*/}}
{{- define "rollouts.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "rollouts" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-rollouts" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rollouts.controllerName" -}}{{ include "rollouts.fullname" . }}-controller{{- end -}}
{{- define "rollouts.applicationsName" -}}{{ include "rollouts.fullname" . }}-applications{{- end -}}

{{/* The labels Helm adds to every object (a test strips exactly these before comparing with the bundles). */}}
{{- define "rollouts.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* labels of a component's objects: (list $ "<component name>") */}}
{{- define "rollouts.labels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/part-of: rollouts
{{ include "rollouts.helmLabels" $ }}
{{- end -}}

{{- define "rollouts.partOfLabels" -}}
app.kubernetes.io/part-of: rollouts
{{ include "rollouts.helmLabels" . }}
{{- end -}}

{{- define "rollouts.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "rollouts.rules" -}}
{{- $rules := .root.Files.Get "files/rbac-rules.yaml" | fromYaml -}}
{{- toYaml (index $rules .name) -}}
{{- end -}}

{{/* "cluster" installs own ClusterRoles; a namespace install has Roles in the release namespace only. */}}
{{- define "rollouts.roleKind" -}}{{ if .Values.clusterInstall }}ClusterRole{{ else }}Role{{ end }}{{- end -}}

{{/* The leader-election (or, with shards > 1, sharding) flags of a component: (list $ <component values> "<lease name>") */}}
{{- define "rollouts.leaderArgs" -}}
{{- $v := index . 1 -}}
{{- if gt (int ($v.shards | default 1)) 1 }}
- --shards={{ $v.shards }}
- --lease-name={{ index . 2 }}
- --leader-election-lease-duration={{ $v.leaderElection.leaseDuration }}
- --leader-election-renew-deadline={{ $v.leaderElection.renewDeadline }}
- --leader-election-retry-period={{ $v.leaderElection.retryPeriod }}
{{- else if $v.leaderElection.enabled }}
- --leader-elect
- --lease-name={{ index . 2 }}
- --leader-election-lease-duration={{ $v.leaderElection.leaseDuration }}
- --leader-election-renew-deadline={{ $v.leaderElection.renewDeadline }}
- --leader-election-retry-period={{ $v.leaderElection.retryPeriod }}
{{- end }}
{{- end -}}

{{/* The scheduling block of a component's pod: (list $ <component values> "<component name>") */}}
{{- define "rollouts.scheduling" -}}
{{- $v := index . 1 -}}
{{- if $v.affinity }}
affinity:
  {{- toYaml $v.affinity | nindent 2 }}
{{- else if eq $v.podAntiAffinity "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {{ index . 2 }}
{{- else if eq $v.podAntiAffinity "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ index . 2 }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{- define "rollouts.validate" -}}
{{- if and .Values.applications.enabled (not .Values.clusterInstall) -}}
{{- fail "applications.enabled=true needs clusterInstall=true: the Application reconciler watches the kinds it deploys cluster-wide and applies whatever its repositories declare. Set applications.enabled=false for a namespace install." -}}
{{- end -}}
{{- range $name := list "controller" "applications" -}}
{{- $v := index $.Values $name -}}
{{- if and $v.enabled (gt (int $v.replicas) 1) (not $v.leaderElection.enabled) (le (int ($v.shards | default 1)) 1) -}}
{{- fail (printf "%s.replicas=%d needs %s.leaderElection.enabled=true (or %s.shards > 1): without a Lease every replica would act at once." $name (int $v.replicas) $name $name) -}}
{{- end -}}
{{- if not (has $v.podAntiAffinity (list "soft" "hard" "none")) -}}
{{- fail (printf "%s.podAntiAffinity must be soft, hard or none, not %q" $name $v.podAntiAffinity) -}}
{{- end -}}
{{- end -}}
{{- end -}}
