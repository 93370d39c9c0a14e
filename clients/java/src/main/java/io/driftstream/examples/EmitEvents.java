package io.driftstream.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Emits synthetic inference events (and optionally their ground truth) to driftstream, the way a
 * JVM prediction service would: key = modelId, value = Avro in the Confluent wire format (schemas
 * from schemas/*.avsc) or JSON, idempotent producer, acks=all.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' io.driftstream.examples.EmitEvents \
 *   --brokers=127.0.0.1:9092 --registry=http://127.0.0.1:8081/apis/ccompat/v7 \
 *   --topic=inference-events --format=avro --compression=zstd --count=1000 --labels
 * </pre>
 *
 * <p>{@code --compression=none,gzip,snappy,lz4,zstd} sends {@code --count} events in each codec in turn,
 * with event ids prefixed by the codec.
 */
public final class EmitEvents {
  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>(Map.of(
        "brokers", "127.0.0.1:9092", "topic", "inference-events", "ground-truth-topic", "ground-truth-events",
        "format", "avro", "compression", "none", "count", "1000", "model", "credit-risk", "seed", "1", "prefix", "java"));
    for (String arg : args) {
      if (!arg.startsWith("--")) throw new IllegalArgumentException("expected --name=value, got " + arg);
      int eq = arg.indexOf('=');
      a.put(eq < 0 ? arg.substring(2) : arg.substring(2, eq), eq < 0 ? "true" : arg.substring(eq + 1));
    }
    boolean avro = a.get("format").equals("avro");
    boolean labels = Boolean.parseBoolean(a.getOrDefault("labels", "false"));
    int count = Integer.parseInt(a.get("count"));
    String model = a.get("model");

    ConfluentWireSerializer wire = new ConfluentWireSerializer();
    if (avro) wire.configure(Map.of("schema.registry.url", a.get("registry")), false);
    Schema inferenceSchema = schema("InferenceEvent");
    Schema labelSchema = schema("GroundTruthEvent");

    // Several codecs (--compression=gzip,lz4) run one producer each, in turn, in this one JVM.
    String[] codecs = a.get("compression").split(",");
    Random r = new Random(Long.parseLong(a.get("seed")));
    AtomicLong delivered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long started = System.nanoTime();
    for (String codec : codecs) {
      Properties props = new Properties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("brokers"));
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
      props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
      props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      String prefix = codecs.length > 1 ? a.get("prefix") + "-" + codec : a.get("prefix");
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
        for (int i = 0; i < count; i++) {
          Map<String, Object> features = new LinkedHashMap<>();
          for (int k = 0; k < 8; k++) features.put("f" + k, r.nextGaussian());
          features.put("c0", String.valueOf("abcd".charAt(r.nextInt(4))));
          features.put("c1", String.valueOf("xyz".charAt(r.nextInt(3))));
          double score = 1 / (1 + Math.exp(-(Double) features.get("f1")));
          String eventId = prefix + "-" + i;
          long now = System.currentTimeMillis();

          GenericRecord ev = new GenericData.Record(inferenceSchema);
          ev.put("eventId", eventId);
          ev.put("modelId", model);
          ev.put("modelVersion", "v1");
          ev.put("timestamp", now);
          ev.put("features", features);
          ev.put("prediction", score >= 0.5 ? "1" : "0");
          ev.put("score", score);
          ev.put("attributes", Map.of("client", "java"));
          String topic = a.get("topic");
          byte[] value = avro ? wire.serialize(topic, ev) : json(ev).getBytes(StandardCharsets.UTF_8);
          producer.send(new ProducerRecord<>(topic, model, value), (md, e) -> (e == null ? delivered : failed).incrementAndGet());

          if (labels) {
            GenericRecord gt = new GenericData.Record(labelSchema);
            gt.put("eventId", eventId);
            gt.put("modelId", model);
            gt.put("timestamp", now);
            gt.put("label", r.nextDouble() < score ? "1" : "0");
            String gtTopic = a.get("ground-truth-topic");
            byte[] gtValue = avro ? wire.serialize(gtTopic, gt) : json(gt).getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(gtTopic, model, gtValue), (md, e) -> (e == null ? delivered : failed).incrementAndGet());
          }
        }
        producer.flush();
      }
    }
    System.out.printf("{\"emitted\": %d, \"delivered\": %d, \"failed\": %d, \"seconds\": %.3f}%n",
        (long) count * codecs.length * (labels ? 2 : 1), delivered.get(), failed.get(), (System.nanoTime() - started) / 1e9);
    if (failed.get() > 0) System.exit(1);
  }

  static Schema schema(String name) throws IOException {
    try (InputStream in = EmitEvents.class.getResourceAsStream("/schemas/" + name + ".avsc")) {
      if (in == null) throw new IOException("schemas/" + name + ".avsc is not on the class path");
      return new Schema.Parser().parse(in);
    }
  }

  /** The JSON form of an event: Avro's JSON rendering of a record of plain strings, doubles and maps is plain JSON. */
  static String json(GenericRecord record) {
    return GenericData.get().toString(record);
  }
}
