// SCRAM users through the admin API (what kafka-configs.sh --alter --add-config
// 'SCRAM-SHA-512=[password=...]' --entity-type users does): one AlterUserScramCredentials
// per mechanism (SCRAM-SHA-256, then SCRAM-SHA-512) for each user, then
// DescribeUserScramCredentials, printing "USER MECHANISM ITERATIONS" per credential.
// Last, one request that upserts both mechanisms of the user "twice": a KRaft controller
// refuses it (ScramControlManager keys a request's changes by user name alone:
// DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
// printed as "DUPLICATE refused <message>" or "DUPLICATE accepted".
// Usage: java -cp "<kafka libs>/*:<classes>" ScramUsers BOOTSTRAP USER:PASSWORD...
// Exit 3 and "UNSUPPORTED <message>" when the broker does not have the API.
import java.util.*;
import java.util.concurrent.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

public class ScramUsers {
  public static void main(String[] args) throws Exception {
    List<UserScramCredentialAlteration> alterations = new ArrayList<>();
    List<String> users = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String[] up = args[i].split(":", 2);
      users.add(up[0]);
      for (ScramMechanism m : List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
        alterations.add(new UserScramCredentialUpsertion(up[0], new ScramCredentialInfo(m, 4096), up[1]));
      }
    }
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("request.timeout.ms", "15000");
    p.put("default.api.timeout.ms", "30000");
    try (Admin admin = Admin.create(p)) {
      for (UserScramCredentialAlteration a : alterations) {
        try {
          admin.alterUserScramCredentials(List.of(a)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (e.getCause() instanceof UnsupportedVersionException) {
            System.out.println("UNSUPPORTED " + e.getCause().getMessage());
            System.exit(3);
          }
          throw e;
        }
      }
      // The credentials reach the brokers through the metadata log: describe until all show.
      long deadline = System.currentTimeMillis() + 15_000;
      while (true) {
        Map<String, UserScramCredentialsDescription> d =
            admin.describeUserScramCredentials(users).all().get(30, TimeUnit.SECONDS);
        int n = d.values().stream().mapToInt(x -> x.credentialInfos().size()).sum();
        if (n == alterations.size() || System.currentTimeMillis() > deadline) {
          for (UserScramCredentialsDescription x : d.values()) {
            for (ScramCredentialInfo c : x.credentialInfos()) {
              System.out.println(x.name() + " " + c.mechanism() + " " + c.iterations());
            }
          }
          break;
        }
        Thread.sleep(200);
      }
      List<UserScramCredentialAlteration> twice = List.of(
          new UserScramCredentialUpsertion("twice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "x"),
          new UserScramCredentialUpsertion("twice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "x"));
      try {
        admin.alterUserScramCredentials(twice).all().get(30, TimeUnit.SECONDS);
        System.out.println("DUPLICATE accepted");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof DuplicateResourceException)) throw e;
        System.out.println("DUPLICATE refused " + e.getCause().getMessage());
      }
    }
  }
}
