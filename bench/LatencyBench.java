// W2 latency generator, the same program for Apache Kafka and Millrace (kafka-clients).
//
// One JVM, one producer, one consumer. The producer sends fixed-size records at a fixed
// rate on a schedule (record i is due at start + i/rate); each value starts with the
// record's due time in System.nanoTime() (8 bytes, big endian). Latencies are measured
// from the due time, not from the send call, so a stalled producer cannot hide its
// stall (no coordinated omission):
//   produce latency     = ack callback time - due time
//   end-to-end latency  = consumer poll return time - due time
// Output: one JSON object on stdout with p50/p99/p99.9 in milliseconds, the counts and
// the achieved rate. Usage:
//   java -cp <kafka jars>:<dir> LatencyBench BOOTSTRAP TOPIC RATE SECONDS RECORD_BYTES ACKS
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class LatencyBench {
  private static final class Samples {  // a growable long[] guarded by its own lock
    private long[] v = new long[1 << 16];
    private int n;
    synchronized void add(long x) {
      if (n == v.length) v = Arrays.copyOf(v, n * 2);
      v[n++] = x;
    }
    synchronized long[] sorted() {
      long[] s = Arrays.copyOf(v, n);
      Arrays.sort(s);
      return s;
    }
  }

  private static double pct(long[] s, double q) {
    if (s.length == 0) return -1;
    int i = (int) Math.min(s.length - 1, Math.ceil(q * s.length) - 1);
    return s[Math.max(i, 0)] / 1e6;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    double rate = Double.parseDouble(args[2]);
    int seconds = Integer.parseInt(args[3]);
    int size = Integer.parseInt(args[4]);
    String acks = args[5];

    Properties pp = new Properties();
    pp.put("bootstrap.servers", bootstrap);
    pp.put("acks", acks);
    pp.put("linger.ms", "1");
    pp.put("enable.idempotence", acks.equals("all") ? "true" : "false");
    pp.put("key.serializer", ByteArraySerializer.class.getName());
    pp.put("value.serializer", ByteArraySerializer.class.getName());
    Properties cp = new Properties();
    cp.put("bootstrap.servers", bootstrap);
    cp.put("fetch.min.bytes", "1");
    cp.put("fetch.max.wait.ms", "100");
    cp.put("key.deserializer", ByteArrayDeserializer.class.getName());
    cp.put("value.deserializer", ByteArrayDeserializer.class.getName());

    Samples produce = new Samples(), e2e = new Samples();
    AtomicLong acked = new AtomicLong(), errors = new AtomicLong(), received = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();

    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
    List<TopicPartition> parts = new ArrayList<>();
    for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30)))
      parts.add(new TopicPartition(topic, p.partition()));
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    for (TopicPartition tp : parts) consumer.position(tp);  // resolve before producing
    Thread reader = new Thread(() -> {
      while (!stop.get()) {
        ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(100));
        long now = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          e2e.add(now - ByteBuffer.wrap(r.value()).getLong());
          received.incrementAndGet();
        }
      }
      consumer.close();
    });
    reader.start();

    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
    long total = (long) (rate * seconds);
    double intervalNs = 1e9 / rate;
    long start = System.nanoTime();
    for (long i = 0; i < total; i++) {
      long due = start + (long) (i * intervalNs);
      long now;
      while ((now = System.nanoTime()) < due) {
        if (due - now > 200_000) Thread.sleep(0, 100_000);
        else Thread.onSpinWait();
      }
      byte[] value = new byte[size];
      ByteBuffer.wrap(value).putLong(due);
      producer.send(new ProducerRecord<>(topic, value), (md, ex) -> {
        if (ex != null) { errors.incrementAndGet(); return; }
        produce.add(System.nanoTime() - due);
        acked.incrementAndGet();
      });
    }
    producer.flush();
    double sendSeconds = (System.nanoTime() - start) / 1e9;
    producer.close();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (received.get() < acked.get() && System.nanoTime() < deadline) Thread.sleep(50);
    stop.set(true);
    reader.join();

    long[] p = produce.sorted(), e = e2e.sorted();
    System.out.printf(
        "{\"rate_target\": %.1f, \"rate_achieved\": %.1f, \"sent\": %d, \"acked\": %d, \"errors\": %d, "
            + "\"received\": %d, \"produce_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f}, "
            + "\"e2e_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f}}%n",
        rate, total / sendSeconds, total, acked.get(), errors.get(), received.get(),
        pct(p, 0.50), pct(p, 0.99), pct(p, 0.999), pct(e, 0.50), pct(e, 0.99), pct(e, 0.999));
  }
}
