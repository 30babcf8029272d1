{{/* Labels shared by every object; `component` is the service name (one name everywhere). */}}
{{- define "charge.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: charge-analysis
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "charge.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "charge.image" -}}
{{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end -}}

{{/* Hardened pod and container security contexts (restricted Pod Security Standard). */}}
{{- define "charge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "charge.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/*
Environment of a service container: plain values, the shared infrastructure URLs, the
service's own database URL from the existing secret, upstream addresses of its peers.
`override` (a worker Deployment's env) replaces the service's env entries of the same name.
*/}}
{{- define "charge.env" -}}
{{- $root := .root -}}
- name: GRPC_PORT
  value: {{ .svc.grpcPort | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .name | quote }}
- name: LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
- name: SHUTDOWN_DELAY_MS
  value: {{ mul $root.Values.shutdown.drainSeconds 1000 | quote }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ mul $root.Values.shutdown.callsSeconds 1000 | quote }}
- name: METRICS_PORT
  value: {{ $root.Values.metrics.port | quote }}
- name: NATS_URL
  value: {{ $root.Values.nats.url | quote }}
- name: CHROMA_URL
  value: {{ $root.Values.chroma.url | quote }}
{{- if $root.Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- range $peer, $p := $root.Values.services }}
- name: {{ printf "%s_GRPC_ADDR" (upper $peer) }}
  value: {{ printf "%s:%v" $peer $p.grpcPort | quote }}
{{- end }}
{{- if .svc.database }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.database.existingSecret }}
      key: {{ printf "%s-database-url" .name }}
{{- end }}
{{- range $key, $value := .svc.env }}
{{- if not (hasKey $.override $key) }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- range $key, $value := .override }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- range .svc.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end -}}

{{/* Pod annotations for Prometheus' annotation-based discovery of /metrics. */}}
{{- define "charge.metricsAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end -}}
