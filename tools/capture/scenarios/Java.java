// Capture scenario for the Java client (kafka-clients 4.x); run as a single-file
// program: java -cp "<kafka libs>/*" Java.java BOOTSTRAP TOPIC
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;

public class Java {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    Properties a = new Properties();
    a.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(a)) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
    }
    int produced = 0;
    for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("compression.type", codec);
      p.put("linger.ms", "50");
      try (KafkaProducer<String, String> prod = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 10; i++) prod.send(new ProducerRecord<>(topic, "key-" + i, "value-" + codec + "-" + i));
        prod.flush();
      }
      produced += 10;
    }
    Properties c = new Properties();
    c.put("bootstrap.servers", bootstrap);
    c.put("group.id", "golden-java");
    c.put("auto.offset.reset", "earliest");
    c.put("enable.auto.commit", "false");
    int got = 0;
    try (KafkaConsumer<String, String> cons = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      cons.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 60000;
      while (got < produced && System.currentTimeMillis() < deadline) {
        got += cons.poll(Duration.ofMillis(500)).count();
        cons.commitSync();
      }
    }
    if (got < produced) throw new RuntimeException("consumed " + got + " of " + produced);
  }
}
