// A Java transactional producer's initTransactions() against BOOTSTRAP:
// prints "ok" or "error <exception class>: <message>" and the seconds it took.
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Txn {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("transactional.id", args[1]);
    p.put("max.block.ms", "30000");
    long t0 = System.nanoTime();
    String out;
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      out = "ok";
    } catch (Exception e) {
      out = "error " + e.getClass().getName() + ": " + e.getMessage();
    }
    System.out.println(out);
    System.out.printf("seconds %.1f%n", (System.nanoTime() - t0) / 1e9);
  }
}
