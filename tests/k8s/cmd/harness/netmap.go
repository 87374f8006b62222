// Cluster DNS and kube-proxy, for the processes the harness starts. Every pod runs
// on 127.0.0.1 with ports the harness chose, so a Service address cannot be
// resolved by the system resolver; instead, before a process starts, each
//
//	<service>.<namespace>.svc[.cluster.local]:<port>              (ClusterIP or headless)
//	<hostname>.<service>.<namespace>.svc[.cluster.local]:<port>   (one StatefulSet pod)
//
// in its arguments and environment is rewritten to 127.0.0.1:<host port> of an
// endpoint: a pod the harness runs that the Service selects (ready ones first), its
// container port found from the Service's targetPort (number or name). A pod address
// names one pod, running or not: its process' ports if it has one, else the ports
// reserved for a broker pod of that name (podPorts, pods_broker.go), reserved now if
// need be, from the mentioning pod's template when the named pod does not exist yet
// and the Service selects the mentioning broker pod (a StatefulSet peer), so peers
// that start in parallel find each other. An address with no endpoint is left as
// written, so the process fails to resolve it as a client would.
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

// resolveServices rewrites the addresses in s, a value of pod from's spec.
func (h *harness) resolveServices(ctx context.Context, s string, from *corev1.Pod) string {
	return svcAddr.ReplaceAllStringFunc(s, func(m string) string {
		g := svcAddr.FindStringSubmatch(m)
		host, svcName, ns := g[1], g[2], g[3]
		port, _ := strconv.Atoi(g[4])
		if hp := h.endpoint(ctx, host, svcName, ns, int32(port), from); hp != 0 {
			return fmt.Sprintf("127.0.0.1:%d", hp)
		}
		log.Printf("harness: no endpoint for %s", m)
		return m
	})
}

// endpoint returns the host port standing for svc:port (or a named pod behind it), 0 if none.
func (h *harness) endpoint(ctx context.Context, hostname, svcName, ns string, port int32, from *corev1.Pod) int {
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
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	pods, _ := h.pods.Pods(ns).List(sel)
	if hostname != "" {
		return h.podEndpoint(hostname, ns, sp, sel, pods, from)
	}
	best := 0
	for _, p := range pods {
		b := h.proc(ns + "/" + p.Name)
		if b == nil || exited(b) {
			continue
		}
		hp := b.ports[targetPort(sp, p.Spec.Containers)]
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

// podEndpoint is the host port of one pod behind a headless Service, whether its
// process runs or not: a peer's arguments are rendered once, when it starts, and
// must still reach the pod after it (re)starts.
func (h *harness) podEndpoint(hostname, ns string, sp *corev1.ServicePort, sel labels.Selector, pods []*corev1.Pod, from *corev1.Pod) int {
	for _, p := range pods {
		if p.Spec.Hostname != hostname && p.Name != hostname {
			continue
		}
		if b := h.proc(ns + "/" + p.Name); b != nil && b.ports[targetPort(sp, p.Spec.Containers)] != 0 {
			return b.ports[targetPort(sp, p.Spec.Containers)]
		}
		if h.kindOf(p) != "broker" {
			return 0
		}
		c := brokerContainer(p)
		return reservedPort(h.podPorts(ns, p.Name, p.Annotations, c), sp, c)
	}
	// Not created yet: a StatefulSet's pods share one template, so a broker peer's
	// container spec says which ports the named pod will have (its name is its hostname).
	if from == nil || from.Namespace != ns || h.kindOf(from) != "broker" || !sel.Matches(labels.Set(from.Labels)) {
		return 0
	}
	c := brokerContainer(from)
	return reservedPort(h.podPorts(ns, hostname, nil, c), sp, c)
}

// targetPort is the container port a Service port sends to: its targetPort by
// number, or the port of that name in the pod's containers.
func targetPort(sp *corev1.ServicePort, containers []corev1.Container) int32 {
	if sp.TargetPort.StrVal != "" {
		for _, c := range containers {
			for _, pp := range c.Ports {
				if pp.Name == sp.TargetPort.StrVal {
					return pp.ContainerPort
				}
			}
		}
		return 0
	}
	if sp.TargetPort.IntVal == 0 {
		return sp.Port
	}
	return sp.TargetPort.IntVal
}

// reservedPort picks, from a pod's ports by name, the one the Service port targets
// (reservations are by name: a numeric targetPort goes through c's port of that number).
func reservedPort(ports map[string]int, sp *corev1.ServicePort, c corev1.Container) int {
	name := sp.TargetPort.StrVal
	if name == "" {
		cp := targetPort(sp, []corev1.Container{c})
		for _, pp := range c.Ports {
			if pp.ContainerPort == cp {
				name = pp.Name
			}
		}
	}
	return ports[name]
}
