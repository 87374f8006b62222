// Pod status helpers and probes shared by broker and image pods.
package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statusEqual compares what the harness writes, so an unchanged status is not rewritten.
func statusEqual(a, b *corev1.PodStatus) bool {
	if a.Phase != b.Phase || a.PodIP != b.PodIP || len(a.ContainerStatuses) != len(b.ContainerStatuses) {
		return false
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled, corev1.PodInitialized} {
		if condStatus(a, t) != condStatus(b, t) {
			return false
		}
	}
	for i := range a.ContainerStatuses {
		x, y := a.ContainerStatuses[i], b.ContainerStatuses[i]
		if x.Ready != y.Ready || x.RestartCount != y.RestartCount || (x.State.Running == nil) != (y.State.Running == nil) ||
			(x.State.Terminated == nil) != (y.State.Terminated == nil) || (x.State.Waiting == nil) != (y.State.Waiting == nil) {
			return false
		}
		if x.State.Terminated != nil && x.State.Terminated.ExitCode != y.State.Terminated.ExitCode {
			return false
		}
		if x.State.Waiting != nil && x.State.Waiting.Reason != y.State.Waiting.Reason {
			return false
		}
	}
	return true
}

func condStatus(s *corev1.PodStatus, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func setCond(s *corev1.PodStatus, t corev1.PodConditionType, ok bool) {
	v := corev1.ConditionFalse
	if ok {
		v = corev1.ConditionTrue
	}
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			if s.Conditions[i].Status != v {
				s.Conditions[i].Status, s.Conditions[i].LastTransitionTime = v, metav1.Now()
			}
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: v, LastTransitionTime: metav1.Now()})
}

func setPodIPs(st *corev1.PodStatus) {
	st.PodIP, st.HostIP = "127.0.0.1", "127.0.0.1"
	st.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
}

func containerImage(p *corev1.Pod) string {
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

func httpOK(port int, path string) bool {
	c := http.Client{Timeout: 800 * time.Millisecond}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// prober runs one readiness or liveness probe (httpGet or tcpSocket) on its period
// against the host port its container port maps to, counting successes and failures
// against the thresholds as the kubelet does.
type prober struct {
	spec      *corev1.Probe
	port      int // on 127.0.0.1
	startedAt time.Time
	last      time.Time
	fails     int32
	succs     int32
	ok        bool
}

func newProber(spec *corev1.Probe, c corev1.Container, ports map[int32]int, startOK bool) *prober {
	if spec == nil {
		return nil
	}
	pr := &prober{spec: spec, startedAt: time.Now(), ok: startOK}
	var target corev1.ContainerPort
	if spec.HTTPGet != nil {
		target = resolvePort(c, spec.HTTPGet.Port.IntValue(), spec.HTTPGet.Port.String())
	} else if spec.TCPSocket != nil {
		target = resolvePort(c, spec.TCPSocket.Port.IntValue(), spec.TCPSocket.Port.String())
	}
	pr.port = ports[target.ContainerPort]
	return pr
}

func resolvePort(c corev1.Container, n int, name string) corev1.ContainerPort {
	for _, cp := range c.Ports {
		if (n != 0 && cp.ContainerPort == int32(n)) || (n == 0 && cp.Name == name) {
			return cp
		}
	}
	return corev1.ContainerPort{ContainerPort: int32(n)}
}

// tick probes when due and returns the probe's current verdict.
func (pr *prober) tick(now time.Time) bool {
	s := pr.spec
	period := time.Duration(max(s.PeriodSeconds, 1)) * time.Second
	if now.Sub(pr.startedAt) < time.Duration(s.InitialDelaySeconds)*time.Second || now.Sub(pr.last) < period {
		return pr.ok
	}
	pr.last = now
	var pass bool
	switch {
	case pr.port == 0:
		pass = false
	case s.HTTPGet != nil:
		path := s.HTTPGet.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		pass = httpOK(pr.port, path)
	case s.TCPSocket != nil:
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pr.port), 800*time.Millisecond)
		if pass = err == nil; pass {
			conn.Close()
		}
	default:
		pass = true // exec probes are not run; the process is the container
	}
	if pass {
		pr.succs, pr.fails = pr.succs+1, 0
		if pr.succs >= max(s.SuccessThreshold, 1) {
			pr.ok = true
		}
	} else {
		pr.fails, pr.succs = pr.fails+1, 0
		if pr.fails >= max(s.FailureThreshold, 1) {
			pr.ok = false
		}
	}
	return pr.ok
}
