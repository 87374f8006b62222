// Cluster DNS and kube-proxy, for the processes the harness starts. Every pod runs
// on 127.0.0.1 with ports the harness chose, so a Service address cannot be
// resolved by the system resolver; instead, before a process starts, each
//
//	<service>.<namespace>.svc[.cluster.local]:<port>              (ClusterIP or headless)
//	<hostname>.<service>.<namespace>.svc[.cluster.local]:<port>   (one StatefulSet pod)
//
// in its arguments and environment is rewritten to 127.0.0.1:<host port> of an
// endpoint: a pod the harness runs that the Service selects (ready ones first), its
// container port found from the Service's targetPort (number or name). An address
// with no endpoint is left as written, so the process fails to resolve it as a
// client would.
package main

import (
	"context"
	"fmt"
	"log"
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var svcAddr = regexp.MustCompile(`\b(?:([a-z0-9][-a-z0-9]*)\.)?([a-z0-9][-a-z0-9]*)\.([a-z0-9][-a-z0-9]*)\.svc(?:\.cluster\.local)?:([0-9]+)\b`)

func (h *harness) resolveServices(ctx context.Context, s string) string {
	return svcAddr.ReplaceAllStringFunc(s, func(m string) string {
		g := svcAddr.FindStringSubmatch(m)
		host, svcName, ns := g[1], g[2], g[3]
		port, _ := strconv.Atoi(g[4])
		if hp := h.endpoint(ctx, host, svcName, ns, int32(port)); hp != 0 {
			return fmt.Sprintf("127.0.0.1:%d", hp)
		}
		log.Printf("harness: no endpoint for %s", m)
		return m
	})
}

// endpoint returns the host port standing for svc:port (or a named pod behind it), 0 if none.
func (h *harness) endpoint(ctx context.Context, hostname, svcName, ns string, port int32) int {
	svc, err := h.cs.CoreV1().Services(ns).Get(ctx, svcName, metav1.GetOptions{})
	if err != nil || len(svc.Spec.Selector) == 0 {
		return 0
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return 0
	}
	pods, _ := h.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	best := 0
	for _, p := range pods {
		if hostname != "" && p.Spec.Hostname != hostname && p.Name != hostname {
			continue
		}
		b := h.proc(ns + "/" + p.Name)
		if b == nil || exited(b) {
			continue
		}
		cp := sp.TargetPort.IntVal
		if sp.TargetPort.StrVal != "" {
			cp = 0
			for _, c := range p.Spec.Containers {
				for _, pp := range c.Ports {
					if pp.Name == sp.TargetPort.StrVal {
						cp = pp.ContainerPort
					}
				}
			}
		} else if cp == 0 {
			cp = sp.Port
		}
		hp := b.ports[cp]
		if hp == 0 {
			continue
		}
		if condStatus(&p.Status, corev1.PodReady) == corev1.ConditionTrue {
			return hp
		}
		best = hp
	}
	return best
}
