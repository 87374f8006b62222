#!/usr/bin/env bash
# Capture scenario for kcat (librdkafka 2.0.2). kcat cannot create topics, so
# CreateTopics comes from python3-confluent-kafka, which is the same librdkafka.
# Usage: kcat.sh BOOTSTRAP TOPIC
set -euo pipefail
b=$1 t=$2
/usr/bin/python3 - "$b" "$t" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in a.create_topics([NewTopic(sys.argv[2], 3, 1)]).values():
    f.result(30)
PY
kcat -b "$b" -L -t "$t" >/dev/null
for codec in none gzip snappy lz4 zstd; do
  for i in $(seq 1 10); do echo "key-$i:value-$codec-$i"; done |
    kcat -b "$b" -P -t "$t" -K: -z "$codec" -X enable.idempotence=true -X linger.ms=50
done
kcat -b "$b" -C -t "$t" -p 0 -o beginning -e -q >/dev/null
# First member starts from the beginning and commits 30; the second resumes from
# the committed offsets (OffsetFetch) for the other 20.
timeout 60 kcat -b "$b" -G golden-kcat "$t" -c 30 -o beginning -q >/dev/null
timeout 60 kcat -b "$b" -G golden-kcat "$t" -c 20 -q -X auto.offset.reset=earliest >/dev/null
