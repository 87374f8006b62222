// Interop program for kafkajs 2.2.4 (idempotent producer, gzip its only built-in
// codec, its default partitioner is Java-compatible murmur2 since 2.0).
// Usage: NODE_PATH=<cache>/npm/node_modules node client.js COMMAND BOOTSTRAP ...
// Commands and output format: see tests/interop/interop.py. MILLRACE_CLIENT_SECURITY
// (JSON {protocol, mechanism, username, password, ca, cert, key}, unset: plaintext) gives
// kafkajs its ssl and sasl options; `probe BOOTSTRAP` connects an admin client once and
// prints OK or the error it saw (tests/security).
const fs = require('fs');
const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const CLIENT = 'kafkajs';
const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };
const [cmd, bootstrap, ...rest] = process.argv.slice(2);

// kafkajs's ssl and sasl options from MILLRACE_CLIENT_SECURITY ({} when unset).
function security() {
  const s = JSON.parse(process.env.MILLRACE_CLIENT_SECURITY || '{}');
  const out = {};
  if (s.protocol === 'SSL' || s.protocol === 'SASL_SSL') {
    out.ssl = {};
    if (s.ca) out.ssl.ca = [fs.readFileSync(s.ca, 'utf-8')];
    if (s.cert) { out.ssl.cert = fs.readFileSync(s.cert, 'utf-8'); out.ssl.key = fs.readFileSync(s.key, 'utf-8'); }
  }
  if (s.mechanism) out.sasl = { mechanism: s.mechanism.toLowerCase(), username: s.username, password: s.password };
  return out;
}

const kafka = new Kafka({ clientId: 'interop-kafkajs', brokers: bootstrap.split(','), logLevel: logLevel.WARN,
                          retry: { retries: cmd === 'probe' ? 0 : 10 }, ...security() });

async function probe() {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    console.log('OK');
  } catch (e) {
    console.log(`REFUSED ${e.name}: ${e.message}` + (e.originalError ? ` / ${e.originalError.name}: ${e.originalError.message}` : ''));
  }
  await admin.disconnect().catch(() => {});
}

async function create(topic, partitions) {
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: Number(partitions), replicationFactor: Number(process.env.INTEROP_RF || "1") }], waitForLeaders: true });
  await admin.disconnect();
  if (!created) throw new Error(`topic ${topic} already existed`);
}

async function produce(topic, n, codecs) {
  n = Number(n);
  codecs = codecs.split(',');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1,
                                    createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let j = 0; j < codecs.length; j++) {
    const lo = Math.floor(j * n / codecs.length), hi = Math.floor((j + 1) * n / codecs.length);
    if (!(codecs[j] in CODECS)) throw new Error(`kafkajs has no codec ${codecs[j]}`);
    for (let i = lo; i < hi; i += 500) {
      const messages = [];
      for (let k = i; k < Math.min(hi, i + 500); k++) messages.push({ key: `k${k}`, value: `${CLIENT}-${k}` });
      await producer.send({ topic, acks: -1, compression: CODECS[codecs[j]], messages });
    }
  }
  await producer.disconnect();
}

async function consume(topic, group, target, outFile) {
  target = Number(target);
  const out = fs.openSync(outFile, 'w');
  const seen = new Set();
  const members = [];
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  const timer = setTimeout(() => finish(), 120000);
  if (target <= 0) finish();
  // A member processes nothing until all three hold partitions: kafkajs fetches
  // so much at once that the first member would otherwise drain the topic alone.
  const assigned = [0, 0, 0];
  const groupFormed = () => assigned.every((n) => n > 0);
  for (let m = 0; m < 3; m++) {
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000,
                                      maxBytesPerPartition: 16384, maxBytes: 65536 });
    members.push(consumer);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned[m] = Object.values(e.payload.memberAssignment).reduce((a, ps) => a + ps.length, 0);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
  }
  for (let m = 0; m < 3; m++) {
    const consumer = members[m];
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        if (!groupFormed()) {
          await new Promise((r) => setTimeout(r, 100));
          return;  // nothing resolved: the batch is fetched again
        }
        let lines = '';
        let last = null;
        for (const msg of batch.messages) {
          if (!isRunning() || isStale()) break;
          lines += `m${m} ${batch.partition} ${msg.offset} ${msg.key.toString()} ${msg.value.toString()}\n`;
          seen.add(`${batch.partition}:${msg.offset}`);
          resolveOffset(msg.offset);
          last = msg.offset;
        }
        fs.writeSync(out, lines);
        if (last !== null) {
          // Synchronous commit of what was written (autoCommit is off).
          await consumer.commitOffsets([{ topic, partition: batch.partition,
                                          offset: (BigInt(last) + 1n).toString() }]);
        }
        if (seen.size >= target) finish();
      },
    });
  }
  await done;
  clearTimeout(timer);
  // Stop fetching on every member first, then leave the group.
  await Promise.all(members.map((c) => c.stop()));
  await Promise.all(members.map((c) => c.disconnect()));
  fs.closeSync(out);
  if (seen.size < target) {
    console.error(`only ${seen.size} of ${target} records`);
    return 3;
  }
  return 0;
}

async function main() {
  if (cmd === 'probe') return probe();
  if (cmd === 'create') return create(...rest);
  if (cmd === 'produce') return produce(...rest);
  if (cmd === 'consume') return consume(...rest);
  throw new Error(`unknown command ${cmd}`);
}

main().then((rc) => process.exit(rc || 0), (e) => { console.error(e); process.exit(1); });
