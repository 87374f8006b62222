{{/* Helpers shared by every template. All are prefixed "millrace." and every name is
truncated to 63 characters (the DNS label limit). */}}

{{- define "millrace.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "millrace.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component: <fullname>-<component>, keeping the suffix when truncating. */}}
{{- define "millrace.componentName" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $max := sub 62 (len $component) | int -}}
{{- printf "%s-%s" (include "millrace.fullname" $root | trunc $max | trimSuffix "-") $component -}}
{{- end -}}

{{- define "millrace.operatorName" -}}
{{- include "millrace.componentName" (list . "operator") -}}
{{- end -}}

{{- define "millrace.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries, apart from app.kubernetes.io/name. */}}
{{- define "millrace.baseLabels" -}}
helm.sh/chart: {{ include "millrace.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: millrace
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "millrace.labels" -}}
app.kubernetes.io/name: {{ include "millrace.name" . }}
{{ include "millrace.baseLabels" . }}
{{- end -}}

{{/* The operator's pods are named "<name>-operator", not "<name>": broker pods carry
app.kubernetes.io/name=millrace (the operator's render.cc) and the test cluster's harness
runs a broker for every pod so labelled. */}}
{{- define "millrace.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "millrace.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "millrace.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "millrace.operatorName" .) .Values.serviceAccount.name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "millrace.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "millrace.bootstrap" -}}
{{- if .Values.tests.bootstrap -}}
{{- .Values.tests.bootstrap -}}
{{- else -}}
{{- printf "%s-bootstrap.%s.svc:%d" .Values.cluster.name .Release.Namespace (int .Values.cluster.listeners.kafkaPort) -}}
{{- end -}}
{{- end -}}

{{- define "millrace.operatorLabels" -}}
app.kubernetes.io/name: {{ include "millrace.name" . }}-operator
{{ include "millrace.baseLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}
