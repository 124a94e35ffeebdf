{{/* Chart name, at most 63 characters. */}}
{{- define "parley.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name and the chart name, or fullnameOverride. */}}
{{- define "parley.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "parley.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "parley.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels that select the pods: fixed for the life of a release. */}}
{{- define "parley.selectorLabels" -}}
app.kubernetes.io/name: {{ include "parley.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the metrics Service, which the ServiceMonitor selects (the main Service lacks the component). */}}
{{- define "parley.metricsLabels" -}}
{{ include "parley.selectorLabels" . }}
app.kubernetes.io/component: metrics
{{- end }}

{{/* Labels on every object. */}}
{{- define "parley.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "parley.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: parley
{{- end }}

{{/* The image reference. */}}
{{- define "parley.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The chart's own Secret (secret key and any credentials given as values). */}}
{{- define "parley.secretName" -}}
{{ include "parley.fullname" . }}
{{- end }}

{{/* Stops rendering on settings that cannot work with several replicas. */}}
{{- define "parley.validate" -}}
{{- if not (or .Values.database.url .Values.database.existingSecret) }}
{{- fail "database.url or database.existingSecret is required: replicas share one PostgreSQL database" }}
{{- end }}
{{- if not (or .Values.redis.url .Values.redis.existingSecret) }}
{{- fail "redis.url or redis.existingSecret is required: replicas share rate limits, sessions and streams through Redis" }}
{{- end }}
{{- if and (ne .Values.storage.provider "s3") (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "storage.provider must be s3 with more than one replica: local files would exist on one pod only" }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.containerPort) }}
{{- fail "metrics.port must differ from containerPort: /metrics would be public through the Service and the Ingress" }}
{{- end }}
{{- if index .Values.env "METRICS_PORT" }}
{{- fail "set metrics.port, not env.METRICS_PORT: the chart wires the port, the Service and the ServiceMonitor together" }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add .Values.preStopSleepSeconds .Values.shutdownTimeout) }}
{{- fail "terminationGracePeriodSeconds must exceed preStopSleepSeconds + shutdownTimeout, or streams are killed mid-answer" }}
{{- end }}
{{- end }}

{{/* Everything a replica reads (the migration Job sets its own DATABASE_URL). */}}
{{- define "parley.appEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.database.existingSecret }}
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.existingSecretKey }}
      {{- else }}
      name: {{ include "parley.secretName" . }}
      key: DATABASE_URL
      {{- end }}
- name: DATABASE_POOL_SIZE
  value: {{ .Values.database.poolSize | quote }}
- name: PORT
  value: {{ .Values.containerPort | quote }}
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: SHUTDOWN_TIMEOUT
  value: {{ .Values.shutdownTimeout | quote }}
- name: ENABLE_DB_MIGRATIONS
  {{- if .Values.migrations.enabled }}
  # The migration Job (a pre-install/pre-upgrade hook) migrates; replicas never do.
  value: "false"
  {{- else }}
  value: "true"
  {{- end }}
- name: WEBUI_SECRET_KEY
  valueFrom:
    secretKeyRef:
      {{- if .Values.secretKey.existingSecret }}
      name: {{ .Values.secretKey.existingSecret }}
      key: {{ .Values.secretKey.existingSecretKey }}
      {{- else }}
      name: {{ include "parley.secretName" . }}
      key: WEBUI_SECRET_KEY
      {{- end }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.redis.existingSecret }}
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
      {{- else }}
      name: {{ include "parley.secretName" . }}
      key: REDIS_URL
      {{- end }}
{{- if .Values.redis.sentinelHosts }}
- name: REDIS_SENTINEL_HOSTS
  value: {{ .Values.redis.sentinelHosts | quote }}
- name: REDIS_SENTINEL_PORT
  value: {{ .Values.redis.sentinelPort | quote }}
{{- end }}
- name: REDIS_KEY_PREFIX
  value: {{ .Values.redis.keyPrefix | quote }}
- name: STORAGE_PROVIDER
  value: {{ .Values.storage.provider | quote }}
{{- if eq .Values.storage.provider "s3" }}
{{- if .Values.storage.s3.endpointUrl }}
- name: S3_ENDPOINT_URL
  value: {{ .Values.storage.s3.endpointUrl | quote }}
{{- end }}
- name: S3_BUCKET_NAME
  value: {{ required "storage.s3.bucketName is required" .Values.storage.s3.bucketName | quote }}
- name: S3_REGION_NAME
  value: {{ .Values.storage.s3.regionName | quote }}
- name: S3_ADDRESSING_STYLE
  value: {{ .Values.storage.s3.addressingStyle | quote }}
{{- if .Values.storage.s3.keyPrefix }}
- name: S3_KEY_PREFIX
  value: {{ .Values.storage.s3.keyPrefix | quote }}
{{- end }}
{{- if or .Values.storage.s3.existingSecret .Values.storage.s3.accessKeyId }}
- name: S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storage.s3.existingSecret | default (include "parley.secretName" .) }}
      key: S3_ACCESS_KEY_ID
- name: S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storage.s3.existingSecret | default (include "parley.secretName" .) }}
      key: S3_SECRET_ACCESS_KEY
{{- end }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- if .Values.extraEnv }}
{{ toYaml .Values.extraEnv }}
{{- end }}
{{- end }}
