// Hand-built Kafka requests for the ACL matrix (acl_matrix.py), encoded and decoded
// by Apache Kafka's own generated message classes, so any API at any version can be
// sent and its whole response read, the same bytes to Millrace and to Kafka.
//
// One JSON command a line on stdin, one JSON answer a line on stdout:
//   {"op":"connect","conn":"c1","port":9094,"ca":"/path/ca.pem","user":"alice","password":"..."}
//       a TLS connection, authenticated with SASL PLAIN (SaslHandshake v1, SaslAuthenticate v2)
//   {"op":"request","conn":"c1","api":3,"version":12,"body":{...}}
//       the request (Kafka's JSON form of the message, camelCase field names; fields left
//       out take their defaults, also inside array elements; the string "@record" stands for
//       a one-record batch); answers {"ok":true,"body":{...}}
//   {"op":"close","conn":"c1"}
// A connection the broker closed is forgotten: connect again to go on.
// A failure answers {"ok":false,"error":"..."}.
// Usage: java -cp "<kafka libs>/*:<classes>" KafkaWire
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.*;
import java.lang.reflect.*;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.*;
import javax.net.ssl.*;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.*;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;

public class KafkaWire {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, Conn> CONNS = new HashMap<>();
  static int correlation = 0;

  static class Conn {
    Socket socket;
    DataInputStream in;
    OutputStream out;
  }

  public static void main(String[] args) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null) {
      if (line.isBlank()) continue;
      ObjectNode answer = JSON.createObjectNode();
      try {
        JsonNode cmd = JSON.readTree(line);
        String op = cmd.get("op").asText();
        if (op.equals("connect")) {
          connect(cmd);
          answer.put("ok", true);
        } else if (op.equals("request")) {
          Conn c = CONNS.get(cmd.get("conn").asText());
          if (c == null) throw new IllegalArgumentException("no connection " + cmd.get("conn"));
          short key = (short) cmd.get("api").asInt(), version = (short) cmd.get("version").asInt();
          ApiMessage req = request(key, version, cmd.get("body"));
          ApiMessage resp;
          try {
            resp = send(c, key, version, req);
          } catch (IOException e) {  // the broker closed it: the next request connects again
            CONNS.remove(cmd.get("conn").asText());
            c.socket.close();
            throw e;
          }
          answer.put("ok", true);
          answer.set("body", toJson(resp, version));
        } else if (op.equals("close")) {
          Conn c = CONNS.remove(cmd.get("conn").asText());
          if (c != null) c.socket.close();
          answer.put("ok", true);
        } else {
          throw new IllegalArgumentException("unknown op " + op);
        }
      } catch (Throwable e) {
        Throwable t = e instanceof InvocationTargetException ? e.getCause() : e;
        answer.put("ok", false);
        answer.put("error", t.getClass().getSimpleName() + ": " + t.getMessage());
      }
      System.out.println(JSON.writeValueAsString(answer));
      System.out.flush();
    }
  }

  static void connect(JsonNode cmd) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream pem = new FileInputStream(cmd.get("ca").asText())) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", cmd.get("port").asInt());
    s.setSoTimeout(30000);
    s.startHandshake();
    Conn c = new Conn();
    c.socket = s;
    c.in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
    c.out = s.getOutputStream();
    SaslHandshakeResponseData hs = (SaslHandshakeResponseData) send(c, ApiKeys.SASL_HANDSHAKE.id, (short) 1,
        new SaslHandshakeRequestData().setMechanism("PLAIN"));
    if (hs.errorCode() != 0) throw new IOException("SaslHandshake error " + hs.errorCode());
    byte[] token = ("\0" + cmd.get("user").asText() + "\0" + cmd.get("password").asText())
        .getBytes(StandardCharsets.UTF_8);
    SaslAuthenticateResponseData auth = (SaslAuthenticateResponseData) send(c, ApiKeys.SASL_AUTHENTICATE.id,
        (short) 2, new SaslAuthenticateRequestData().setAuthBytes(token));
    if (auth.errorCode() != 0)
      throw new IOException("SaslAuthenticate error " + auth.errorCode() + " " + auth.errorMessage());
    Conn old = CONNS.put(cmd.get("conn").asText(), c);
    if (old != null) old.socket.close();
  }

  static ApiMessage send(Conn c, short key, short version, ApiMessage body) throws IOException {
    ApiKeys api = ApiKeys.forId(key);
    int corr = ++correlation;
    RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key).setRequestApiVersion(version)
        .setCorrelationId(corr).setClientId("acl-matrix");
    short hv = api.requestHeaderVersion(version);
    ObjectSerializationCache cache = new ObjectSerializationCache();
    int size = h.size(cache, hv) + body.size(cache, version);
    ByteBuffer buf = ByteBuffer.allocate(4 + size);
    buf.putInt(size);
    ByteBufferAccessor w = new ByteBufferAccessor(buf);
    h.write(w, cache, hv);
    body.write(w, cache, version);
    c.out.write(buf.array());
    c.out.flush();
    int n = c.in.readInt();
    byte[] bytes = new byte[n];
    c.in.readFully(bytes);
    ByteBufferAccessor rd = new ByteBufferAccessor(ByteBuffer.wrap(bytes));
    ResponseHeaderData rh = new ResponseHeaderData(rd, api.responseHeaderVersion(version));
    if (rh.correlationId() != corr) throw new IOException("correlation id " + rh.correlationId() + ", sent " + corr);
    ApiMessage resp = ApiMessageType.fromApiKey(key).newResponse();
    resp.read(rd, version);
    return resp;
  }

  static Class<?> converter(Class<?> data) throws ClassNotFoundException {
    Class<?> top = data.getEnclosingClass() == null ? data : data.getEnclosingClass();
    String name = top.getName() + "JsonConverter";
    return data == top ? Class.forName(name) : Class.forName(name + "$" + data.getSimpleName() + "JsonConverter");
  }

  static ApiMessage request(short key, short version, JsonNode partial) throws Exception {
    Class<?> data = ApiMessageType.fromApiKey(key).newRequest().getClass();
    JsonNode full = withDefaults(data, partial == null ? JSON.createObjectNode() : partial, version);
    return (ApiMessage) converter(data).getMethod("read", JsonNode.class, short.class).invoke(null, full, version);
  }

  static JsonNode toJson(ApiMessage m, short version) throws Exception {
    return (JsonNode) converter(m.getClass()).getMethod("write", m.getClass(), short.class).invoke(null, m, version);
  }

  // The JSON of `data`'s defaults at `version` with `partial`'s fields laid over it;
  // array elements and nested structs are filled the same way.
  static JsonNode withDefaults(Class<?> data, JsonNode partial, short version) throws Exception {
    Object defaults = data.getConstructor().newInstance();
    ObjectNode full =
        (ObjectNode) converter(data).getMethod("write", data, short.class).invoke(null, defaults, version);
    for (Map.Entry<String, JsonNode> f : partial.properties()) {
      JsonNode v = f.getValue();
      Class<?> element = null;
      try {
        element = structOf(data.getMethod(f.getKey()).getGenericReturnType());
      } catch (NoSuchMethodException e) {
        // a field unknown to this message: left for read() to refuse
      }
      if (element != null && v.isArray()) {
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode e : v) out.add(e.isObject() ? withDefaults(element, e, version) : e);
        full.set(f.getKey(), out);
      } else if (v.isTextual() && v.asText().equals("@record")) {
        // a one-record batch (Produce's records), as base64
        ByteBuffer b = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes())).buffer();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        full.put(f.getKey(), Base64.getEncoder().encodeToString(bytes));
      } else if (element != null && v.isObject()) {
        full.set(f.getKey(), withDefaults(element, v, version));
      } else {
        full.set(f.getKey(), v);
      }
    }
    return full;
  }

  // The generated struct class a field holds (List<X>, an XCollection of X, or X), else null.
  static Class<?> structOf(Type t) {
    if (t instanceof ParameterizedType p) {
      Type arg = p.getActualTypeArguments()[0];
      return arg instanceof Class<?> c && Message.class.isAssignableFrom(c) ? c : null;
    }
    if (t instanceof Class<?> c) {
      if (Message.class.isAssignableFrom(c)) return c;
      Type sup = c.getGenericSuperclass();
      if (sup instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> e
          && Message.class.isAssignableFrom(e)) return e;
    }
    return null;
  }
}
