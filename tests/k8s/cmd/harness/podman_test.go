package main

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The operator Deployment's pod as the chart renders it: pod-level user, a read-only
// root, no capabilities, no privilege escalation.
func TestPodmanCmdCarriesTheSecurityContext(t *testing.T) {
	h := &harness{runImage: "localhost/millrace:test", dataRoot: "/run/a"}
	c := corev1.Container{Name: "operator", SecurityContext: &corev1.SecurityContext{
		ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "op-1"},
		Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(10001)), RunAsGroup: ptr(int64(10001))},
			Containers: []corev1.Container{c}}}
	cmd := h.podmanCmd(p, c, "/run/a/ns/op-1", "/run/a/ns/op-1/work",
		[]string{"/usr/local/bin/millrace-operator", "--leader-elect=true"}, []string{"PATH=/host/bin", "HOME=/run/a/ns/op-1/home"})
	got := strings.Join(cmd.Args, " ")
	for _, want := range []string{"run --rm --replace --name " + h.containerName(p), "--network host --no-healthcheck",
		"--volume /run/a/ns/op-1:/run/a/ns/op-1:U", "--entrypoint /usr/local/bin/millrace-operator",
		"--workdir /run/a/ns/op-1/work", "--read-only", "--cap-drop all", "--security-opt no-new-privileges",
		"--user 10001:10001", "--env HOME=/run/a/ns/op-1/home", "localhost/millrace:test --leader-elect=true"} {
		if !strings.Contains(got, want) {
			t.Errorf("podman args lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PATH=") {
		t.Errorf("the harness' PATH leaks into the container: %s", got)
	}
	if cmd.Args[len(cmd.Args)-1] != "--leader-elect=true" {
		t.Errorf("the container's args must come last: %q", cmd.Args)
	}
}

// The container's user wins over the pod's; without either the image's user stays.
func TestSecurityArgsUser(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(1))}}}
	c := corev1.Container{SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(2))}}
	if got := securityArgs(p, c); !slices.Equal(got, []string{"--user", "2"}) {
		t.Errorf("securityArgs = %q, want --user 2", got)
	}
	if got := securityArgs(&corev1.Pod{}, corev1.Container{}); len(got) != 0 {
		t.Errorf("securityArgs of an empty context = %q, want none", got)
	}
}

// Two harnesses (suites side by side) never name a pod's container alike.
func TestContainerNamePerHarness(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "itest", Name: "itest-0"}}
	a, b := (&harness{dataRoot: "/tmp/x/pods"}).containerName(p), (&harness{dataRoot: "/tmp/y/pods"}).containerName(p)
	if a == b || !strings.HasSuffix(a, "-itest-itest-0") {
		t.Errorf("container names %q and %q", a, b)
	}
}
