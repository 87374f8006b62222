package main

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestImageRepository(t *testing.T) {
	for in, want := range map[string]string{
		"ghcr.io/millrace/millrace:0.1.0":             "ghcr.io/millrace/millrace",
		"ghcr.io/millrace/millrace":                   "ghcr.io/millrace/millrace",
		"reg:5000/a/b":                                "reg:5000/a/b",
		"reg:5000/a/b:1.0@sha256:0123":                "reg:5000/a/b",
		"ghcr.io/millrace/millrace@sha256:0123":       "ghcr.io/millrace/millrace",
		"ghcr.io/millrace/millrace-operator-like:1.0": "ghcr.io/millrace/millrace-operator-like",
	} {
		if got := imageRepository(in); got != want {
			t.Errorf("imageRepository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRewritePorts(t *testing.T) {
	ports := map[int32]int{8080: 41234}
	for in, want := range map[string]string{
		"--metrics-bind-address=0.0.0.0:8080": "--metrics-bind-address=127.0.0.1:41234",
		"http://0.0.0.0:8080":                 "http://127.0.0.1:41234",
		":8080":                               "127.0.0.1:41234",
		"--port=18080":                        "--port=18080",
		"host:18080":                          "host:18080",
		"8080":                                "8080",
	} {
		if got := rewritePorts(in, ports); got != want {
			t.Errorf("rewritePorts(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRewriteMounts(t *testing.T) {
	m := map[string]string{"/tmp": "/data/pod/mounts/tmp"}
	for in, want := range map[string]string{"/tmp": "/data/pod/mounts/tmp", "/tmp/got": "/data/pod/mounts/tmp/got",
		"/tmpfoo": "/tmpfoo", "x/tmp/y": "x/tmp/y"} {
		if got := rewriteMounts(in, m); got != want {
			t.Errorf("rewriteMounts(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceAddressPattern(t *testing.T) {
	cases := []struct{ in, host, svc, ns, port string }{
		{"demo-bootstrap.streaming.svc:9092", "", "demo-bootstrap", "streaming", "9092"},
		{"demo-0.demo-brokers.streaming.svc.cluster.local:9092", "demo-0", "demo-brokers", "streaming", "9092"},
		{"--bootstrap=a.b.svc:1", "", "a", "b", "1"},
	}
	for _, c := range cases {
		g := svcAddr.FindStringSubmatch(c.in)
		if g == nil || g[1] != c.host || g[2] != c.svc || g[3] != c.ns || g[4] != c.port {
			t.Errorf("%q: got %q", c.in, g)
		}
	}
	for _, in := range []string{"example.com:9092", "a.b.svcx:1", "a.b.svc"} {
		if svcAddr.MatchString(in) {
			t.Errorf("%q matched a Service address", in)
		}
	}
}

func TestProberThresholds(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	c := corev1.Container{Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}}}
	spec := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz",
		Port: intstr.FromString("metrics")}}, PeriodSeconds: 1, FailureThreshold: 2}
	pr := newProber(spec, c, map[int32]int{8080: port}, false)
	now := time.Now()
	if !pr.tick(now) {
		t.Fatal("a 200 did not make the probe pass")
	}
	status = http.StatusServiceUnavailable
	if !pr.tick(now.Add(2 * time.Second)) {
		t.Fatal("one failure below the threshold of 2 failed the probe")
	}
	if pr.tick(now.Add(2500 * time.Millisecond)); pr.fails != 1 {
		t.Fatalf("probed again within the period (fails=%d)", pr.fails)
	}
	if pr.tick(now.Add(4 * time.Second)) {
		t.Fatal("two failures did not fail the probe")
	}
}

func TestStatusEqualSeesExitCode(t *testing.T) {
	st := func(code int32) *corev1.PodStatus {
		return &corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}}}
	}
	if statusEqual(st(1), st(2)) {
		t.Error("different exit codes compared equal")
	}
	if !statusEqual(st(1), st(1)) {
		t.Error("equal statuses compared different")
	}
}

func TestBrokerListeners(t *testing.T) {
	if got, want := brokerListeners(41000, 0), "PLAINTEXT://127.0.0.1:41000"; got != want {
		t.Errorf("no controller port: %q, want %q", got, want)
	}
	if got, want := brokerListeners(41000, 41002), "PLAINTEXT://127.0.0.1:41000,CONTROLLER://127.0.0.1:41002"; got != want {
		t.Errorf("controller port: %q, want %q", got, want)
	}
}

// brokerTestHarness is a harness over a fake API holding the headless Service
// demo-brokers (kafka, admin, controller by name) and objs; pods go in the indexer.
func brokerTestHarness(t *testing.T, objs ...runtime.Object) (*harness, cache.Indexer) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "demo-brokers", Namespace: "streaming"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true, Selector: demoLabels(),
			Ports: []corev1.ServicePort{
				{Name: "kafka", Port: 9092, TargetPort: intstr.FromString("kafka")},
				{Name: "admin", Port: 9644, TargetPort: intstr.FromString("admin")},
				{Name: "controller", Port: 9093, TargetPort: intstr.FromString("controller")}}}}
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	h := &harness{cs: fake.NewClientset(append(objs, svc)...), dataRoot: t.TempDir(), pods: listersv1.NewPodLister(idx), imageRepo: "ghcr.io/millrace/millrace",
		procs: map[string]*proc{}, reserved: map[string]map[string]int{}}
	return h, idx
}

func demoLabels() map[string]string {
	return map[string]string{brokerLabelKey: brokerLabelVal, "app.kubernetes.io/instance": "demo"}
}

// brokerPod is one pod of the demo StatefulSet; controller false drops the
// controller port, as the single-broker pods render.
func brokerPod(name string, controller bool) *corev1.Pod {
	ports := []corev1.ContainerPort{{Name: "kafka", ContainerPort: 9092}, {Name: "admin", ContainerPort: 9644}}
	if controller {
		ports = append(ports, corev1.ContainerPort{Name: "controller", ContainerPort: 19093}) // not 9093: read from the spec
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "streaming", Labels: demoLabels()},
		Spec: corev1.PodSpec{Hostname: name, Subdomain: "demo-brokers",
			Containers: []corev1.Container{{Name: "broker", Image: "ghcr.io/millrace/millrace:0.1.0", Ports: ports}}}}
}

var voterPort = regexp.MustCompile(`([0-9]+)@127\.0\.0\.1:([0-9]+)`)

// resolvedVoters resolves the operator's voters arg as pod from's process would get it.
func resolvedVoters(t *testing.T, h *harness, from *corev1.Pod) map[string]int {
	const voters = "controller.quorum.voters=0@demo-0.demo-brokers.streaming.svc:9093," +
		"1@demo-1.demo-brokers.streaming.svc:9093,2@demo-2.demo-brokers.streaming.svc.cluster.local:9093"
	got := h.resolveServices(context.Background(), voters, from)
	ports := map[string]int{}
	for _, m := range voterPort.FindAllStringSubmatch(got, -1) {
		ports[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(ports) != 3 || ports["0"] == 0 || ports["1"] == 0 || ports["2"] == 0 ||
		ports["0"] == ports["1"] || ports["1"] == ports["2"] || ports["0"] == ports["2"] {
		t.Fatalf("voters from %s resolved to %q", from.Name, got)
	}
	return ports
}

// Pod 0 starts first and names pods 1 and 2 in its voters: their controller ports
// are reserved then, and pods 1 and 2 take exactly those when they start.
func TestVotersResolveToReservedPorts(t *testing.T) {
	h, idx := brokerTestHarness(t)
	pod0 := brokerPod("demo-0", true)
	idx.Add(pod0)
	b0 := h.newBrokerProc(pod0)
	first := resolvedVoters(t, h, pod0)
	if first["0"] != b0.controllerPort || b0.ports[19093] != b0.controllerPort {
		t.Errorf("pod 0 listens for the controller on %d (ports %v), its voters say %d", b0.controllerPort, b0.ports, first["0"])
	}
	pod1 := brokerPod("demo-1", true)
	idx.Add(pod1)
	if b1 := h.newBrokerProc(pod1); b1.controllerPort != first["1"] {
		t.Errorf("pod 1 took controller port %d, pod 0's voters reach it on %d", b1.controllerPort, first["1"])
	}
	// Pod 1 renders its own voters later: the same ports, pod 2 still not created.
	if again := resolvedVoters(t, h, pod1); again["0"] != first["0"] || again["1"] != first["1"] || again["2"] != first["2"] {
		t.Errorf("voters changed between pods: %v then %v", first, again)
	}
	// Other named ports are reserved on the same first mention.
	kafka2 := h.resolveServices(context.Background(), "demo-2.demo-brokers.streaming.svc:9092", pod0)
	pod2 := brokerPod("demo-2", true)
	idx.Add(pod2)
	b2 := h.newBrokerProc(pod2)
	if b2.controllerPort != first["2"] || kafka2 != "127.0.0.1:"+strconv.Itoa(b2.kafkaPort) {
		t.Errorf("pod 2 took controller %d kafka %d; reserved %d and %s", b2.controllerPort, b2.kafkaPort, first["2"], kafka2)
	}
	// A re-created pod 1 (no annotations) comes back on its ports; annotations still win.
	if b1 := h.newBrokerProc(brokerPod("demo-1", true)); b1.controllerPort != first["1"] {
		t.Errorf("re-created pod 1 took controller port %d, reserved %d", b1.controllerPort, first["1"])
	}
	pod1.Annotations = map[string]string{annControllerPort: "41999"}
	if b1 := h.newBrokerProc(pod1); b1.controllerPort != 41999 {
		t.Errorf("annotated pod 1 took controller port %d, annotation says 41999", b1.controllerPort)
	}
}

func TestPodAddressesNotReserved(t *testing.T) {
	h, idx := brokerTestHarness(t)
	pod0 := brokerPod("demo-0", true)
	idx.Add(pod0)
	// Service-level addresses need a running endpoint, as before.
	for _, in := range []string{"demo-brokers.streaming.svc:9092", "demo-9.demo-brokers.other.svc:9093"} {
		if got := h.resolveServices(context.Background(), in, pod0); got != in {
			t.Errorf("%q resolved to %q with no endpoint", in, got)
		}
	}
	// A pod outside the Service is no template for the pods behind it.
	helmTest := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "demo-test", Namespace: "streaming"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Image: "ghcr.io/millrace/millrace:0.1.0"}}}}
	in := "demo-1.demo-brokers.streaming.svc:9092"
	if got := h.resolveServices(context.Background(), in, helmTest); got != in {
		t.Errorf("%q resolved to %q from a pod the Service does not select", in, got)
	}
	if len(h.reserved) != 0 {
		t.Errorf("reserved %v", h.reserved)
	}
}

// The operator's multi-broker template, rendered for pod 0 before its peers exist:
// every address in the args resolved, files from the mounts, listeners appended last.
func TestRenderBrokerResolvesArgs(t *testing.T) {
	cm := func(name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "streaming"}, Data: data}
	}
	h, idx := brokerTestHarness(t, cm("demo-node-ids", map[string]string{"demo-0": "0"}),
		cm("demo-roles", map[string]string{"demo-0": "broker,controller"}))
	pod0 := brokerPod("demo-0", true)
	c := &pod0.Spec.Containers[0]
	c.Args = []string{"--set-from-file", "node.id=/var/run/millrace/node-ids/$(POD_NAME)",
		"--set-from-file", "process.roles=/var/run/millrace/roles/$(POD_NAME)",
		"--set", "advertised.listeners=PLAINTEXT://$(POD_NAME).demo-brokers.streaming.svc:9092",
		"--set", "controller.quorum.voters=0@demo-0.demo-brokers.streaming.svc:9093,1@demo-1.demo-brokers.streaming.svc:9093," +
			"2@demo-2.demo-brokers.streaming.svc:9093"}
	c.Env = []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "node-ids", MountPath: "/var/run/millrace/node-ids"}, {Name: "roles", MountPath: "/var/run/millrace/roles"}}
	pod0.Spec.Volumes = []corev1.Volume{
		{Name: "node-ids", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "demo-node-ids"}}}},
		{Name: "roles", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "demo-roles"}}}}}
	idx.Add(pod0)
	b := h.newBrokerProc(pod0)
	args, _, err := h.renderBroker(context.Background(), pod0, b)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(args, " ")
	if strings.Contains(all, ".svc") {
		t.Errorf("an address left unresolved: %s", all)
	}
	if want := "controller.quorum.voters=0@127.0.0.1:" + strconv.Itoa(b.controllerPort) + ",1@127.0.0.1:"; !strings.Contains(all, want) {
		t.Errorf("voters do not name pod 0's controller port %d: %s", b.controllerPort, all)
	}
	if want := "process.roles=" + filepath.Join(h.dataRoot, "streaming/demo-0/mounts/roles/demo-0"); !strings.Contains(all, want) {
		t.Errorf("no %s in %s", want, all)
	}
	tail := strings.Join(args[len(args)-8:len(args)-4], " ")
	if want := "--set listeners=" + brokerListeners(b.kafkaPort, b.controllerPort) +
		" --set advertised.listeners=PLAINTEXT://127.0.0.1:" + strconv.Itoa(b.kafkaPort); tail != want {
		t.Errorf("appended %q, want %q", tail, want)
	}
}

// Without a port named controller a broker looks exactly as before.
func TestSingleBrokerHasNoControllerPort(t *testing.T) {
	h, _ := brokerTestHarness(t)
	b := h.newBrokerProc(brokerPod("demo-0", false))
	if b.controllerPort != 0 || len(b.ports) != 2 || b.ports[9092] != b.kafkaPort || b.ports[9644] != b.adminPort {
		t.Errorf("ports %v controller %d", b.ports, b.controllerPort)
	}
	var patch struct {
		Metadata struct{ Annotations map[string]string }
	}
	json.Unmarshal(portsPatch(b), &patch)
	if want := map[string]string{annKafkaPort: strconv.Itoa(b.kafkaPort), annAdminPort: strconv.Itoa(b.adminPort)}; !maps.Equal(patch.Metadata.Annotations, want) {
		t.Errorf("annotations %v, want %v", patch.Metadata.Annotations, want)
	}
}
