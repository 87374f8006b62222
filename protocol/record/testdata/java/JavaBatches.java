// Writes record batches with Apache Kafka's own Java client code (kafka-clients
// MemoryRecords, one batch per codec) as fixtures for record/java_batches_test.cc,
// and reads batches written by Millrace back through the same Java code.
//
//   write <dir>            -> <dir>/java_<codec>.bin  (none gzip snappy lz4 zstd)
//   read  <file>...        -> one line per record: offset ts key-len value-len headers
//
// Run by protocol/record/testdata/java/regenerate with the kafka-clients jars from
// ~/.cache/millrace (fetched by the test-peer scripts). Fixture contents are fixed:
// three records, the second with a 100000-byte value so snappy needs 4 xerial
// chunks, lz4 two blocks.
import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;

public class JavaBatches {
  static byte[] bigValue() {
    byte[] v = new byte[100000];
    for (int i = 0; i < v.length; i++) v[i] = (byte) ("millrace-" + (i / 9 % 1000)).charAt(i % 9 % ("millrace-" + (i / 9 % 1000)).length());
    return v;
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("write")) {
      String[] names = {"none", "gzip", "snappy", "lz4", "zstd"};
      Compression[] codecs = {Compression.NONE, Compression.gzip().build(), Compression.snappy().build(),
                              Compression.lz4().build(), Compression.zstd().build()};
      for (int c = 0; c < codecs.length; c++) {
        SimpleRecord[] recs = {
          new SimpleRecord(1700000000000L, "k0".getBytes(StandardCharsets.UTF_8), "hello".getBytes(StandardCharsets.UTF_8)),
          new SimpleRecord(1700000000007L, null, bigValue(),
              new Header[] {new RecordHeader("h1", "v1".getBytes(StandardCharsets.UTF_8)), new RecordHeader("h2", (byte[]) null)}),
          new SimpleRecord(1699999999999L, "k2".getBytes(StandardCharsets.UTF_8), null),
        };
        MemoryRecords mr = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V2, 42L, codecs[c], TimestampType.CREATE_TIME,
            7777L, (short) 3, 11, 5, false, recs);
        ByteBuffer b = mr.buffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        try (FileOutputStream f = new FileOutputStream(args[1] + "/java_" + names[c] + ".bin")) { f.write(out); }
      }
      return;
    }
    for (int i = 1; i < args.length; i++) {
      MemoryRecords mr = MemoryRecords.readableRecords(ByteBuffer.wrap(Files.readAllBytes(Paths.get(args[i]))));
      for (RecordBatch batch : mr.batches()) {
        batch.ensureValid();
        System.out.println("batch " + batch.baseOffset() + " codec=" + batch.compressionType().name + " count=" + batch.countOrNull()
            + " pid=" + batch.producerId() + " txn=" + batch.isTransactional() + " control=" + batch.isControlBatch());
        for (Record r : batch) {
          StringBuilder hs = new StringBuilder();
          for (Header h : r.headers()) hs.append(h.key()).append('=').append(h.value() == null ? "null" : new String(h.value(), StandardCharsets.UTF_8)).append(';');
          System.out.println(r.offset() + " " + r.timestamp() + " " + r.keySize() + " " + r.valueSize() + " " + hs);
        }
      }
    }
  }
}
