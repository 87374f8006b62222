"""Capture scenario for kafka-python (python3-kafka). Run with /usr/bin/python3.
Usage: kafka_python.py BOOTSTRAP TOPIC"""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import UnsupportedCodecError

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="golden-kafka-python")
admin.create_topics([NewTopic(topic, 3, 1)])
admin.close()
produced = 0
for codec in (None, "gzip", "snappy", "lz4", "zstd"):
    try:
        p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=50)
    except (UnsupportedCodecError, AssertionError, ValueError) as e:
        print(f"kafka-python: codec {codec} not available here: {e}", file=sys.stderr)
        continue
    for i in range(10):
        p.send(topic, key=f"key-{i}".encode(), value=f"value-{codec}-{i}".encode())
    p.flush()
    p.close()
    produced += 10
c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="golden-kafka-python",
                  auto_offset_reset="earliest", enable_auto_commit=False,
                  consumer_timeout_ms=15000)
got = 0
for _ in c:
    got += 1
    if got >= produced:
        break
c.commit()
c.close()
print(f"kafka-python: produced {produced}, consumed {got}", file=sys.stderr)
