// Interop program for the Java client (kafka-clients 4.x: idempotent producer by
// default, classic group protocol, murmur2 partitioner). Run as a single-file
// program: java -cp "<kafka libs>/*" Interop.java COMMAND BOOTSTRAP ...
// Commands and output format: see tests/interop/interop.py. MILLRACE_CLIENT_SECURITY
// (JSON {protocol, mechanism, username, password, ca, cert, key}, unset: plaintext) gives
// every client the matching security.protocol, sasl.* and ssl.* settings (PEM truststore,
// PEM key and chain inline); `probe BOOTSTRAP` lists topics once and prints OK or the
// exception it saw (tests/security).
import java.io.*;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class Interop {
  static final String CLIENT = "java";

  public static void main(String[] args) throws Exception {
    String cmd = args[0], bootstrap = args[1];
    switch (cmd) {
      case "probe" -> probe(bootstrap);
      case "create" -> create(bootstrap, args[2], Integer.parseInt(args[3]));
      case "produce" -> produce(bootstrap, args[2], Integer.parseInt(args[3]), args[4].split(","));
      case "consume" -> System.exit(consume(bootstrap, args[2], args[3], Integer.parseInt(args[4]), args[5]));
      default -> throw new IllegalArgumentException("unknown command " + cmd);
    }
  }

  // The string value of "key" in a flat JSON object of strings (the only JSON read here).
  static String jsonField(String json, String key) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "\"" + key + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
    return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : null;
  }

  // Security settings from MILLRACE_CLIENT_SECURITY (none when unset).
  static Properties security() throws IOException {
    Properties p = new Properties();
    String json = System.getenv().getOrDefault("MILLRACE_CLIENT_SECURITY", "");
    if (json.isBlank()) return p;
    String protocol = jsonField(json, "protocol"), mechanism = jsonField(json, "mechanism");
    String ca = jsonField(json, "ca"), cert = jsonField(json, "cert"), key = jsonField(json, "key");
    if (protocol != null) p.put("security.protocol", protocol);
    if (mechanism != null) {
      String module = mechanism.startsWith("SCRAM") ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                                                    : "org.apache.kafka.common.security.plain.PlainLoginModule";
      p.put("sasl.mechanism", mechanism);
      p.put("sasl.jaas.config", module + " required username=\"" + jsonField(json, "username")
                                + "\" password=\"" + jsonField(json, "password") + "\";");
    }
    if (ca != null) {
      p.put("ssl.truststore.type", "PEM");
      p.put("ssl.truststore.location", ca);
    }
    if (cert != null) {
      p.put("ssl.keystore.type", "PEM");
      p.put("ssl.keystore.certificate.chain", Files.readString(Path.of(cert)));
      p.put("ssl.keystore.key", Files.readString(Path.of(key)));
    }
    return p;
  }

  static void probe(String bootstrap) throws Exception {
    Properties p = security();
    p.put("bootstrap.servers", bootstrap);
    p.put("request.timeout.ms", "6000");
    p.put("default.api.timeout.ms", "8000");
    try (Admin admin = Admin.create(p)) {
      admin.listTopics().names().get(10, TimeUnit.SECONDS);
      System.out.println("OK");
    } catch (Exception e) {
      Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      System.out.println("REFUSED " + t.getClass().getName() + ": " + t.getMessage());
    }
  }

  static void create(String bootstrap, String topic, int partitions) throws Exception {
    Properties ap = security();
    ap.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(ap)) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, Short.parseShort(System.getenv().getOrDefault("INTEROP_RF", "1"))))).all().get(60, TimeUnit.SECONDS);
    }
  }

  static void produce(String bootstrap, String topic, int n, String[] codecs) throws Exception {
    for (int j = 0; j < codecs.length; j++) {
      int lo = j * n / codecs.length, hi = (j + 1) * n / codecs.length;
      Properties p = security();
      p.put("bootstrap.servers", bootstrap);
      p.put("compression.type", codecs[j]);
      p.put("enable.idempotence", "true");
      p.put("acks", "all");
      p.put("linger.ms", "5");
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      try (KafkaProducer<String, String> prod = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        for (int i = lo; i < hi; i++) acks.add(prod.send(new ProducerRecord<>(topic, "k" + i, CLIENT + "-" + i)));
        prod.flush();
        for (Future<RecordMetadata> f : acks) f.get(60, TimeUnit.SECONDS);
      }
    }
  }

  static int consume(String bootstrap, String topic, String group, int target, String outFile) throws Exception {
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean(false);
    long deadline = System.currentTimeMillis() + 120_000;
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    Properties sec = security();
    try (PrintWriter out = new PrintWriter(new BufferedWriter(new FileWriter(outFile)))) {
      List<Thread> threads = new ArrayList<>();
      for (int m = 0; m < 3; m++) {
        final int member = m;
        Thread t = new Thread(() -> {
          Properties c = new Properties();
          c.putAll(sec);
          c.put("bootstrap.servers", bootstrap);
          c.put("group.id", group);
          c.put("auto.offset.reset", "earliest");
          c.put("enable.auto.commit", "false");
          c.put("session.timeout.ms", "10000");
          try (KafkaConsumer<String, String> cons = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            cons.subscribe(List.of(topic));
            while (!stop.get() && System.currentTimeMillis() < deadline) {
              ConsumerRecords<String, String> recs = cons.poll(Duration.ofMillis(200));
              synchronized (out) {
                for (ConsumerRecord<String, String> r : recs) {
                  out.printf("m%d %d %d %s %s%n", member, r.partition(), r.offset(), r.key(), r.value());
                  seen.add(((long) r.partition() << 40) | r.offset());
                }
              }
              if (!recs.isEmpty()) commit(cons, errors);
              if (seen.size() >= target) stop.set(true);
            }
            commit(cons, errors);
          } catch (Exception e) {
            errors.add("member " + member + ": " + e);
            stop.set(true);
          }
        });
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) t.join();
    }
    if (seen.size() < target) {
      System.err.println("only " + seen.size() + " of " + target + " records; errors: " + errors);
      return 3;
    }
    if (!errors.isEmpty()) System.err.println("commit errors (tolerated, records are redelivered): " + errors);
    return 0;
  }

  static void commit(KafkaConsumer<String, String> cons, List<String> errors) {
    try {
      cons.commitSync(Duration.ofSeconds(30));
    } catch (CommitFailedException | org.apache.kafka.common.errors.RebalanceInProgressException e) {
      errors.add("commit: " + e.getMessage());
    }
  }
}
