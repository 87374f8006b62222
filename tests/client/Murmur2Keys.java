// Prints, for each line of stdin (a key), the Java client's murmur2 hash and its
// partition for each partition count given as arguments:
//   <murmur2> <partitionForKey(key, n1)> <partitionForKey(key, n2)> ...
// Uses org.apache.kafka.common.utils.Utils.murmur2 and
// BuiltInPartitioner.partitionForKey from kafka-clients itself.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Keys {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    String line;
    while ((line = in.readLine()) != null) {
      byte[] key = line.getBytes(StandardCharsets.UTF_8);
      out.append(Utils.murmur2(key));
      for (String a : args) out.append(' ').append(BuiltInPartitioner.partitionForKey(key, Integer.parseInt(a)));
      out.append('\n');
    }
    System.out.print(out);
  }
}
