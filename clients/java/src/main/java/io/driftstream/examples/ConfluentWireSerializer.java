package io.driftstream.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro in the Confluent wire format: magic byte 0, the schema id (4 bytes, big endian), the Avro
 * binary body. The record's schema is registered under {@code <topic>-value} (TopicNameStrategy)
 * on first use through the Confluent-compatible REST API, which Confluent Schema Registry and
 * Apicurio Registry ({@code /apis/ccompat/v7}) both serve. Configuration: {@code schema.registry.url},
 * and optionally {@code basic.auth.user.info} ({@code user:password}).
 */
public final class ConfluentWireSerializer implements Serializer<GenericRecord> {
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();
  private final Map<Schema, GenericDatumWriter<GenericRecord>> writers = new ConcurrentHashMap<>();
  private String registryUrl;
  private String authorization;

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Object url = configs.get("schema.registry.url");
    if (url == null) throw new IllegalArgumentException("schema.registry.url is required");
    registryUrl = url.toString().replaceAll("/+$", "");
    Object auth = configs.get("basic.auth.user.info");
    if (auth != null) authorization = "Basic " + Base64.getEncoder().encodeToString(auth.toString().getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] serialize(String topic, GenericRecord record) {
    if (record == null) return null;
    Schema schema = record.getSchema();
    int id = ids.computeIfAbsent(topic + "-value\u0000" + schema, k -> register(topic + "-value", schema));
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      out.write(0);
      out.write(ByteBuffer.allocate(4).putInt(id).array());
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      writers.computeIfAbsent(schema, GenericDatumWriter::new).write(record, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new SerializationException("cannot encode a " + schema.getFullName(), e);
    }
  }

  private int register(String subject, Schema schema) {
    String body = "{\"schema\":" + quote(schema.toString()) + "}";
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(registryUrl + "/subjects/" + subject + "/versions"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) req.header("Authorization", authorization);
    try {
      HttpResponse<String> res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      Matcher m = ID.matcher(res.body());
      if (res.statusCode() / 100 != 2 || !m.find()) {
        throw new SerializationException("registry refused the schema of " + subject + ": HTTP " + res.statusCode() + " " + res.body());
      }
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new SerializationException("cannot reach the schema registry at " + registryUrl, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SerializationException("interrupted while registering " + subject, e);
    }
  }

  /** A JSON string literal. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 16).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }
}
