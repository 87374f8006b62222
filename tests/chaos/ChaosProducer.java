// The chaos suite's Java producer (tests/chaos/chaos.py runs it beside the
// librdkafka one in produce rounds): an idempotent acks=all producer writing
// unique values round-robin to the topic's partitions for SECONDS, one JSON
// line per delivery report on stdout, as client.py's produce does:
//   {"v", "p", "o", "outcome": "ok"} or {"v", "p", "outcome": "unknown"|"failed", "error"},
//   each with "t", the report's wall-clock time in ms
// A timeout may have landed (unknown); any other error was refused (failed).
//
//   java ChaosProducer SEED SECONDS BOOTSTRAP TOPIC PARTITIONS
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;

public final class ChaosProducer {
  public static void main(String[] args) throws Exception {
    final String seed = args[0];
    final double seconds = Double.parseDouble(args[1]);
    final String bootstrap = args[2], topic = args[3];
    final int partitions = Integer.parseInt(args[4]);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "3000");
    p.put("metadata.max.age.ms", "2000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    final long end = System.nanoTime() + (long) (seconds * 1e9);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (long i = 0; System.nanoTime() < end; ++i) {
        final String v = "j" + seed + "-" + i;
        final int partition = (int) (i % partitions);
        try {
          producer.send(new ProducerRecord<>(topic, partition, null, v), (md, e) -> {
            String line;
            if (e == null) {
              line = String.format("{\"v\": \"%s\", \"p\": %d, \"o\": %d, \"outcome\": \"ok\", \"t\": %d}", v,
                                   md.partition(), md.offset(), System.currentTimeMillis());
            } else {
              String outcome = e instanceof TimeoutException ? "unknown" : "failed";
              line = String.format("{\"v\": \"%s\", \"p\": %d, \"outcome\": \"%s\", \"error\": \"%s\", \"t\": %d}", v,
                                   partition, outcome, e.getClass().getSimpleName(), System.currentTimeMillis());
            }
            synchronized (System.out) {
              System.out.println(line);
            }
          });
        } catch (TimeoutException e) {  // metadata not available within max.block.ms: never sent
          synchronized (System.out) {
            System.out.println(String.format("{\"v\": \"%s\", \"p\": %d, \"outcome\": \"failed\", \"error\": \"%s\"}",
                                             v, partition, "NotSent"));
          }
        }
        Thread.sleep(5);
      }
      producer.flush();
    }
    System.out.flush();
  }
}
