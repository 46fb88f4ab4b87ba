{{/* Chart name, overridable. */}}
{{- define "kube-remediator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "kube-remediator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kube-remediator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "kube-remediator.labels" -}}
helm.sh/chart: {{ include "kube-remediator.chart" . }}
{{ include "kube-remediator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kube-remediator
{{- end }}

{{/* Selector labels (stable across upgrades). */}}
{{- define "kube-remediator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-remediator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kube-remediator.operatorSelectorLabels" -}}
{{ include "kube-remediator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kube-remediator.apiSelectorLabels" -}}
{{ include "kube-remediator.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "kube-remediator.trainingSelectorLabels" -}}
{{ include "kube-remediator.selectorLabels" . }}
app.kubernetes.io/component: training
{{- end }}

{{- define "kube-remediator.mongodbSelectorLabels" -}}
{{ include "kube-remediator.selectorLabels" . }}
app.kubernetes.io/component: mongodb
{{- end }}

{{- define "kube-remediator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kube-remediator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kube-remediator.trainingServiceAccountName" -}}
{{- if .Values.training.serviceAccount.create }}
{{- default (printf "%s-training" (include "kube-remediator.fullname" .)) .Values.training.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.training.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image reference: repository@digest or repository:tag (tag defaults to appVersion). */}}
{{- define "kube-remediator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "kube-remediator.mongodbName" -}}
{{- printf "%s-mongodb" (include "kube-remediator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kube-remediator.mongodbAuthSecret" -}}
{{- default (include "kube-remediator.mongodbName" .) .Values.mongodb.bundled.authSecret }}
{{- end }}

{{/* Environment entries for REMEDIATOR_MONGODB_URI (empty when no store is configured). */}}
{{- define "kube-remediator.mongodbEnv" -}}
{{- if .Values.mongodb.existingSecret.name }}
- name: REMEDIATOR_MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ .Values.mongodb.existingSecret.name }}
      key: {{ .Values.mongodb.existingSecret.key }}
{{- else if .Values.mongodb.uri }}
- name: REMEDIATOR_MONGODB_URI
  value: {{ .Values.mongodb.uri | quote }}
{{- else if .Values.mongodb.bundled.enabled }}
- name: MONGODB_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "kube-remediator.mongodbAuthSecret" . }}
      key: username
- name: MONGODB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "kube-remediator.mongodbAuthSecret" . }}
      key: password
- name: REMEDIATOR_MONGODB_URI
  value: {{ printf "mongodb://$(MONGODB_USERNAME):$(MONGODB_PASSWORD)@%s.%s.svc:27017/%s?authSource=admin" (include "kube-remediator.mongodbName" .) .Release.Namespace .Values.mongodb.bundled.database | quote }}
{{- end }}
{{- end }}

{{/* "true" when a feedback store is configured (existing Secret, URI or the bundled MongoDB), else empty. */}}
{{- define "kube-remediator.storeConfigured" -}}
{{- if or .Values.mongodb.existingSecret.name .Values.mongodb.uri .Values.mongodb.bundled.enabled }}true{{ end }}
{{- end }}

{{/* "true" when the training CronJob is rendered: training.enabled and a store to train from. */}}
{{- define "kube-remediator.trainingEnabled" -}}
{{- if and .Values.training.enabled (include "kube-remediator.storeConfigured" .) }}true{{ end }}
{{- end }}

{{/* The learning-loop environment shared by the operator and the training container: AWS region, S3
archive and registry, retention, feedback retries, and the feedback store (kube-remediator.mongodbEnv). */}}
{{- define "kube-remediator.learningEnv" -}}
{{- $l := .Values.learning }}
{{- with .Values.aws.region }}
- name: AWS_REGION
  value: {{ . | quote }}
- name: REMEDIATOR_AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with $l.logsBucket }}
- name: REMEDIATOR_LOGS_BUCKET
  value: {{ . | quote }}
{{- end }}
- name: REMEDIATOR_LOGS_PREFIX
  value: {{ $l.logsPrefix | quote }}
{{- with $l.modelsBucket }}
- name: REMEDIATOR_MODELS_BUCKET
  value: {{ . | quote }}
{{- end }}
- name: REMEDIATOR_MODELS_PREFIX
  value: {{ $l.modelsPrefix | quote }}
- name: REMEDIATOR_MODEL_POLL_SECONDS
  value: {{ $l.modelPollSeconds | quote }}
- name: REMEDIATOR_RETENTION_DAYS
  value: {{ $l.retentionDays | quote }}
- name: REMEDIATOR_FEEDBACK_RETRY_SECONDS
  value: {{ $l.feedbackRetrySeconds | quote }}
{{- with $l.s3EndpointUrl }}
- name: REMEDIATOR_S3_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- include "kube-remediator.mongodbEnv" . }}
{{- end }}

{{/* Values removed from the chart: fail with what replaced them rather than a bare schema error. */}}
{{- define "kube-remediator.removedValues" -}}
{{- if hasKey .Values.operator "threshold" }}
{{- fail "operator.threshold was removed in chart 0.2.0: set defaultPolicy.autoApplyThreshold (it also sets the operator's REMEDIATOR_THRESHOLD)" }}
{{- end }}
{{- end }}

{{/* Container securityContext shared by every container of the chart. */}}
{{- define "kube-remediator.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "kube-remediator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* NetworkPolicy egress rules shared by the operator and training Pods. */}}
{{- define "kube-remediator.egressCommon" -}}
# DNS.
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
# AWS endpoints (SSM, S3, STS for IRSA) over HTTPS.
{{- if .Values.networkPolicy.awsCidrs }}
- to:
    {{- range .Values.networkPolicy.awsCidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - {protocol: TCP, port: 443}
{{- end }}
# The feedback store.
{{- if .Values.mongodb.bundled.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "kube-remediator.mongodbSelectorLabels" . | nindent 10 }}
  ports:
    - {protocol: TCP, port: 27017}
{{- end }}
{{- if .Values.mongodb.externalCidrs }}
- to:
    {{- range .Values.mongodb.externalCidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - {protocol: TCP, port: {{ .Values.mongodb.externalPort }}}
{{- end }}
{{- end }}

{{/* "true" when a notification sink is configured, else empty. */}}
{{- define "kube-remediator.notificationsEnabled" -}}
{{- $n := .Values.notifications -}}
{{- if or $n.alertmanager.urls $n.webhook.urls $n.webhook.existingSecret.name }}true{{ end }}
{{- end }}

{{/* Environment of the notification sinks (REMEDIATOR_ALERTMANAGER_URLS, REMEDIATOR_WEBHOOK_URLS, NOTIFY_*). */}}
{{- define "kube-remediator.notificationsEnv" -}}
{{- $n := .Values.notifications -}}
{{- if include "kube-remediator.notificationsEnabled" . }}
{{- with $n.alertmanager.urls }}
- name: REMEDIATOR_ALERTMANAGER_URLS
  value: {{ join "," . | quote }}
{{- end }}
{{- if $n.webhook.existingSecret.name }}
- name: REMEDIATOR_WEBHOOK_URLS
  valueFrom:
    secretKeyRef:
      name: {{ $n.webhook.existingSecret.name }}
      key: {{ $n.webhook.existingSecret.key }}
{{- else if $n.webhook.urls }}
- name: REMEDIATOR_WEBHOOK_URLS
  value: {{ join "," $n.webhook.urls | quote }}
{{- end }}
- name: REMEDIATOR_NOTIFY_TIMEOUT_SECONDS
  value: {{ $n.timeoutSeconds | quote }}
- name: REMEDIATOR_NOTIFY_RESEND_SECONDS
  value: {{ $n.resendSeconds | quote }}
- name: REMEDIATOR_NOTIFY_RETRY_MAX_SECONDS
  value: {{ $n.retryMaxSeconds | quote }}
- name: REMEDIATOR_NOTIFY_HOLD_SECONDS
  value: {{ $n.holdSeconds | quote }}
{{- with $n.runbookUrl }}
- name: REMEDIATOR_RUNBOOK_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
