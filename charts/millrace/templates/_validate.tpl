{{/* validateValues: checks what values.schema.json cannot (relations between fields),
collects every problem and fails once, listing all of them. The schema has already
refused wrong types, unknown keys and out-of-range numbers by the time this runs. */}}

{{- define "millrace.validateValues" -}}
{{- $problems := list -}}
{{- $v := .Values -}}
{{- if and (gt (int $v.operator.replicas) 1) (not $v.operator.leaderElection) -}}
{{- $problems = append $problems (printf "operator.replicas is %d but operator.leaderElection is false: several operators would reconcile at once" (int $v.operator.replicas)) -}}
{{- end -}}
{{- if and $v.cluster.enabled $v.operator.enabled $v.operator.watchNamespace (ne $v.operator.watchNamespace .Release.Namespace) -}}
{{- $problems = append $problems (printf "cluster.enabled creates the Millrace in namespace %s, but operator.watchNamespace is %s: the operator would never see it" .Release.Namespace $v.operator.watchNamespace) -}}
{{- end -}}
{{- if and (not $v.serviceAccount.create) (not $v.serviceAccount.name) $v.operator.enabled -}}
{{- $problems = append $problems "serviceAccount.create is false, so serviceAccount.name must name an existing ServiceAccount" -}}
{{- end -}}
{{- if and $v.topics (not $v.cluster.enabled) -}}
{{- $problems = append $problems "topics are listed but cluster.enabled is false: a Topic needs a Millrace cluster in this release" -}}
{{- end -}}
{{- $seen := dict -}}
{{- $seenKafka := dict -}}
{{- range $i, $t := $v.topics -}}
{{- $label := printf "topics[%d] (%s)" $i $t.name -}}
{{- if hasKey $seen $t.name -}}
{{- $problems = append $problems (printf "%s: name is used twice" $label) -}}
{{- end -}}
{{- $_ := set $seen $t.name true -}}
{{- $kafkaName := default $t.name $t.topicName -}}
{{- if hasKey $seenKafka $kafkaName -}}
{{- $problems = append $problems (printf "%s: Kafka topic name %q is used twice" $label $kafkaName) -}}
{{- end -}}
{{- $_ := set $seenKafka $kafkaName true -}}
{{- if gt (int $t.replicationFactor) (int $v.cluster.brokers) -}}
{{- $problems = append $problems (printf "%s: replicationFactor %d exceeds cluster.brokers %d" $label (int $t.replicationFactor) (int $v.cluster.brokers)) -}}
{{- end -}}
{{- $cfg := default dict $t.config -}}
{{- with (get $cfg "min.insync.replicas") -}}
{{- if gt (atoi .) (int $t.replicationFactor) -}}
{{- $problems = append $problems (printf "%s: min.insync.replicas %s exceeds replicationFactor %d" $label . (int $t.replicationFactor)) -}}
{{- end -}}
{{- end -}}
{{- with (get $cfg "cleanup.policy") -}}
{{- range (splitList "," .) -}}
{{- if not (has (trim .) (list "delete" "compact")) -}}
{{- $problems = append $problems (printf "%s: cleanup.policy %q is not delete, compact or both" $label .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if hasKey $v.cluster.config "node.id" -}}
{{- $problems = append $problems "cluster.config must not set node.id: the operator derives broker ids from pod identity" -}}
{{- end -}}
{{- if eq (int $v.cluster.listeners.kafkaPort) (int $v.cluster.listeners.adminPort) -}}
{{- $problems = append $problems (printf "cluster.listeners.kafkaPort and adminPort are both %d" (int $v.cluster.listeners.kafkaPort)) -}}
{{- end -}}
{{- with (get $v.cluster.config "default.replication.factor") -}}
{{- if gt (atoi .) (int $v.cluster.brokers) -}}
{{- $problems = append $problems (printf "cluster.config default.replication.factor %s exceeds cluster.brokers %d" . (int $v.cluster.brokers)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.monitoring.podMonitor.enabled $v.cluster.metrics.serviceMonitor -}}
{{- $problems = append $problems "monitoring.podMonitor.enabled and cluster.metrics.serviceMonitor are both on: brokers would be scraped twice" -}}
{{- end -}}
{{- if and $v.monitoring.podMonitor.enabled (not $v.cluster.metrics.enabled) $v.cluster.enabled -}}
{{- $problems = append $problems "monitoring.podMonitor.enabled needs cluster.metrics.enabled" -}}
{{- end -}}
{{- if and $v.monitoring.serviceMonitor.enabled (not $v.operator.enabled) -}}
{{- $problems = append $problems "monitoring.serviceMonitor.enabled scrapes the operator, but operator.enabled is false" -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\n\nmillrace: %d problem(s) in values:\n  - %s\n" (len $problems) (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}
