// FO failover generator with Kafka's own Java producer (kafka-clients), beside
// bench/failover.py's librdkafka Writer: the same program for Apache Kafka and Millrace.
//
// One idempotent acks=all producer hands a record to one partition every ~1 ms. Each
// value starts with the System.nanoTime() at which it was handed over (CLOCK_MONOTONIC
// on Linux, the clock of Python's time.monotonic()), so the Python side can tell which
// acknowledgements belong to records handed over after a kill. Output, one line each:
//   a ACK_NANOS SENT_NANOS     an acknowledged record
//   e MESSAGE                  a failed delivery
// It stops (flushing what is in flight) when its standard input closes. Usage:
//   java -cp <kafka jars>:<dir> FailoverWriter BOOTSTRAP TOPIC PARTITION [key=value ...]
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class FailoverWriter {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    int partition = Integer.parseInt(args[2]);
    Properties pp = new Properties();
    pp.put("bootstrap.servers", bootstrap);
    pp.put("key.serializer", ByteArraySerializer.class.getName());
    pp.put("value.serializer", ByteArraySerializer.class.getName());
    for (int i = 3; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq > 0) pp.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
    AtomicBoolean halt = new AtomicBoolean();
    Thread stdin = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {}
      } catch (Exception ignored) {
      }
      halt.set(true);
    });
    stdin.setDaemon(true);
    stdin.start();
    // Lines are flushed every 10 ms, not per record: the Python side polls at that grain.
    Thread flusher = new Thread(() -> {
      while (!halt.get()) {
        synchronized (out) { out.flush(); }
        try { Thread.sleep(10); } catch (InterruptedException e) { return; }
      }
    });
    flusher.setDaemon(true);
    flusher.start();
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp)) {
      long n = 0;
      while (!halt.get()) {
        ByteBuffer v = ByteBuffer.allocate(16);
        long sent = System.nanoTime();
        v.putLong(sent).putLong(n++);
        p.send(new ProducerRecord<>(topic, partition, null, v.array()), (md, err) -> {
          long now = System.nanoTime();
          synchronized (out) {
            if (err != null) out.println("e " + err.getClass().getSimpleName() + ": " + err.getMessage());
            else out.println("a " + now + " " + sent);
          }
        });
        Thread.sleep(1);
      }
      p.flush();
      p.close(Duration.ofSeconds(30));
    }
    synchronized (out) { out.flush(); }
  }
}
