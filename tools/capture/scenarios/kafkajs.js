// Capture scenario for kafkajs 2.2.4 (gzip is its only built-in codec).
// Usage: NODE_PATH=<cache>/npm/node_modules node kafkajs.js BOOTSTRAP TOPIC
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [bootstrap], logLevel: logLevel.ERROR });

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const [name, codec] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP]]) {
    const messages = [];
    for (let i = 0; i < 10; i++) messages.push({ key: `key-${i}`, value: `value-${name}-${i}` });
    await producer.send({ topic, compression: codec, acks: -1, messages });
  }
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'golden-kafkajs' });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${got} of 20`)), 60000);
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        got++;
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        if (got >= 20) { clearTimeout(timer); resolve(); }
      },
    });
  });
  await consumer.disconnect();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
