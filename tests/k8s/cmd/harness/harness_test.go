package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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
