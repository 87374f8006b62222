// Broker pods: one millrace-broker process per pod labelled app.kubernetes.io/name=millrace.
//
// Contract with the pod spec (what the operator renders, what the harness reads):
//
//	container "broker" (else the first): args, env (env.go) with $(VAR) expanded.
//	configMap volumes: their keys are written under <data-root>/<ns>/<pod>/mounts
//	  and any arg that starts with the volume's mountPath (or key=<mountPath>, as
//	  in --set-from-file node.id=<mountPath>/<pod>) is rewritten to it.
//	the harness appends, last so they win:
//	  --set listeners=PLAINTEXT://127.0.0.1:<kafka> --set advertised.listeners=(same)
//	  --set admin.listeners=http://127.0.0.1:<admin> --set log.dirs=<data-root>/<ns>/<pod>/data
//	Pod status: podIP=hostIP=127.0.0.1; the chosen ports are written to the pod as
//	  annotations millrace.io/kafka-port and millrace.io/admin-port; the container
//	  ports named kafka and admin map to them (Services, port-forward).
//	Readiness: GET http://127.0.0.1:<admin>/readyz == 200 (every second).
//	The data dir is keyed by namespace and pod name, so a re-created pod (same
//	  StatefulSet identity) finds its volume again.
//	Annotation millrace.io/harness-stopped="true" stops the process (an outage
//	  for tests) until the annotation is removed.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	annKafkaPort = "millrace.io/kafka-port"
	annAdminPort = "millrace.io/admin-port"
	annStopped   = "millrace.io/harness-stopped"
)

func (h *harness) syncBroker(ctx context.Context, key string, p *corev1.Pod) {
	if p.Annotations[annStopped] == "true" {
		h.stop(key, 5*time.Second)
	} else {
		h.ensureBroker(ctx, key, p)
	}
	h.reportBroker(ctx, key, p)
}

func brokerContainer(p *corev1.Pod) corev1.Container {
	c := p.Spec.Containers[0]
	for _, cc := range p.Spec.Containers {
		if cc.Name == "broker" {
			c = cc
		}
	}
	return c
}

func (h *harness) ensureBroker(ctx context.Context, key string, p *corev1.Pod) {
	b := h.proc(key)
	if b != nil {
		if !exited(b) {
			return
		}
		b.restarts++ // exited: restart below with the same ports
		log.Printf("harness: %s exited (%v), restarting", key, b.cmd.ProcessState)
	} else {
		b = &proc{kind: "broker", kafkaPort: portFromAnn(p, annKafkaPort), adminPort: portFromAnn(p, annAdminPort)}
		if b.kafkaPort == 0 {
			b.kafkaPort = freePort()
		}
		if b.adminPort == 0 {
			b.adminPort = freePort()
		}
		b.ports = map[int32]int{}
		for _, cp := range brokerContainer(p).Ports {
			switch cp.Name {
			case "kafka":
				b.ports[cp.ContainerPort] = b.kafkaPort
			case "admin":
				b.ports[cp.ContainerPort] = b.adminPort
			}
		}
	}
	args, env, err := h.renderBroker(ctx, p, b)
	if err != nil {
		log.Printf("harness: %s: render: %v", key, err)
		return
	}
	podDir := filepath.Join(h.dataRoot, p.Namespace, p.Name)
	logf, err := os.OpenFile(filepath.Join(podDir, "broker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Printf("harness: %s: log: %v", key, err)
		return
	}
	cmd := exec.Command(h.brokerEx, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(logf, "harness: starting %s %s\n", h.brokerEx, strings.Join(args, " "))
	b.cmd, b.done, b.ready, b.startedAt = cmd, make(chan struct{}), false, metav1.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "harness: start failed: %v\n", err)
		logf.Close()
		close(b.done)
		h.setProc(key, b)
		time.Sleep(time.Second) // crash-loop pacing
		return
	}
	go func() { cmd.Wait(); logf.Close(); close(b.done) }()
	h.setProc(key, b)
	log.Printf("harness: started %s pid %d kafka=%d admin=%d", key, cmd.Process.Pid, b.kafkaPort, b.adminPort)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"%d",%q:"%d"}}}`, annKafkaPort, b.kafkaPort, annAdminPort, b.adminPort)
	if _, err := h.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		log.Printf("harness: %s: annotate: %v", key, err)
	}
}

// renderBroker turns the pod's container spec into argv and environment.
func (h *harness) renderBroker(ctx context.Context, p *corev1.Pod, b *proc) ([]string, []string, error) {
	c := brokerContainer(p)
	podDir := filepath.Join(h.dataRoot, p.Namespace, p.Name)
	dataDir := filepath.Join(podDir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, nil, err
	}
	vars, env, err := h.containerEnv(ctx, p, c)
	if err != nil {
		return nil, nil, err
	}
	// configMap volumes -> files under mounts/, mountPath prefix rewritten.
	rewrite := map[string]string{}
	for _, vm := range c.VolumeMounts {
		for _, vol := range p.Spec.Volumes {
			if vol.Name != vm.Name || vol.ConfigMap == nil {
				continue
			}
			dir := filepath.Join(podDir, "mounts", vm.Name)
			if err := h.writeConfigMap(ctx, p.Namespace, vol.ConfigMap.Name, nil, dir); err != nil {
				return nil, nil, err
			}
			rewrite[vm.MountPath] = dir
		}
	}
	var args []string
	for _, a := range append(append([]string{}, c.Command[min(1, len(c.Command)):]...), c.Args...) {
		a = expand(a, vars)
		for from, to := range rewrite {
			if strings.HasPrefix(a, from) {
				a = to + strings.TrimPrefix(a, from)
			} else if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, from) {
				a = k + "=" + to + strings.TrimPrefix(v, from) // --set-from-file key=<mountPath>/...
			}
		}
		args = append(args, a)
	}
	listener := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.kafkaPort)
	args = append(args, "--set", "listeners="+listener, "--set", "advertised.listeners="+listener,
		"--set", fmt.Sprintf("admin.listeners=http://127.0.0.1:%d", b.adminPort), "--set", "log.dirs="+dataDir)
	return args, env, nil
}

// reportBroker probes readiness and writes the pod status when it changed.
func (h *harness) reportBroker(ctx context.Context, key string, p *corev1.Pod) {
	b := h.proc(key)
	running, ready := false, false
	var restarts int32
	started := metav1.Now()
	if b != nil {
		restarts, started = b.restarts, b.startedAt
		if !exited(b) {
			running = true
			ready = httpOK(b.adminPort, "/readyz")
		}
	}
	st := p.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	setPodIPs(st)
	if st.StartTime == nil {
		st.StartTime = &started
	}
	setCond(st, corev1.PodScheduled, true)
	setCond(st, corev1.PodInitialized, true)
	setCond(st, corev1.ContainersReady, ready)
	setCond(st, corev1.PodReady, ready)
	cs := corev1.ContainerStatus{Name: "broker", Ready: ready, RestartCount: restarts, Started: &running,
		Image: containerImage(p), ImageID: containerImage(p), ContainerID: "harness://" + key}
	if running {
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
	} else {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "BrokerNotRunning"}
	}
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
	h.writeStatus(ctx, key, p, st)
}

func (h *harness) writeStatus(ctx context.Context, key string, p *corev1.Pod, st *corev1.PodStatus) {
	if statusEqual(&p.Status, st) {
		return
	}
	np := p.DeepCopy()
	np.Status = *st
	if _, err := h.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, np, metav1.UpdateOptions{}); err != nil &&
		!apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		log.Printf("harness: %s: status: %v", key, err)
	}
}

func portFromAnn(p *corev1.Pod, k string) int {
	var n int
	fmt.Sscanf(p.Annotations[k], "%d", &n)
	return n
}
