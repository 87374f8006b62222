// Broker pods: one millrace-broker process per pod labelled app.kubernetes.io/name=millrace.
//
// Contract with the pod spec (what the operator renders, what the harness reads):
//
//	container "broker" (else the first): args, env (env.go) with $(VAR) expanded,
//	  then Service and pod addresses in the args resolved (netmap.go; below).
//	configMap volumes: their keys are written under <data-root>/<ns>/<pod>/mounts
//	  and any arg that starts with the volume's mountPath (or key=<mountPath>, as
//	  in --set-from-file node.id=<mountPath>/<pod>) is rewritten to it.
//	ports: host ports on 127.0.0.1 for kafka, admin and, when the container has a
//	  port named controller, controller (its containerPort read from the spec).
//	the harness appends, last so they win:
//	  --set listeners=PLAINTEXT://127.0.0.1:<kafka>[,CONTROLLER://127.0.0.1:<controller>]
//	  --set advertised.listeners=PLAINTEXT://127.0.0.1:<kafka>
//	  --set admin.listeners=http://127.0.0.1:<admin> --set log.dirs=<data-root>/<ns>/<pod>/data
//	Pod status: podIP=hostIP=127.0.0.1; the chosen ports are written to the pod as
//	  annotations millrace.io/kafka-port, millrace.io/admin-port and (with a
//	  controller port) millrace.io/controller-port; the container ports named kafka,
//	  admin and controller map to them (Services, port-forward).
//	Port choice: a pod's annotation wins (a restarted process keeps its ports), then
//	  the ports reserved for its name, then fresh ones. A pod address
//	  <pod>.<svc>.<ns>.svc[.cluster.local]:<port> in any pod's args or env resolves
//	  even before that pod runs or while it is down (pod 0's controller.quorum.voters
//	  name pods 1 and 2, which start in parallel): the first mention reserves host
//	  ports for every named port of the pod's container spec (of the mentioning pod,
//	  when the named one does not exist yet and the mentioning one is a broker pod
//	  the Service selects: a StatefulSet's pods share one template). Reservations
//	  are kept while the harness runs, so a re-created pod takes its ports again.
//	Readiness: GET http://127.0.0.1:<admin>/readyz == 200 (every second).
//	The data dir is keyed by namespace and pod name, so a re-created pod (same
//	  StatefulSet identity) finds its volume again.
//	Annotation millrace.io/harness-stopped="true" stops the process (an outage
//	  for tests) until the annotation is removed.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	annKafkaPort      = "millrace.io/kafka-port"
	annAdminPort      = "millrace.io/admin-port"
	annControllerPort = "millrace.io/controller-port"
	annStopped        = "millrace.io/harness-stopped"
)

// brokerPortAnns: the broker's ports by container port name and the annotations
// that record their host ports.
var brokerPortAnns = map[string]string{"kafka": annKafkaPort, "admin": annAdminPort, "controller": annControllerPort}

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
		b = h.newBrokerProc(p)
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
	var cmd *exec.Cmd
	if h.runImage == "" {
		cmd = exec.Command(h.brokerEx, args...)
		cmd.Env = append(os.Environ(), env...)
	} else { // the image's entrypoint, or the container's command
		c := brokerContainer(p)
		entry := "/usr/local/bin/millrace-broker"
		if len(c.Command) > 0 {
			entry = c.Command[0]
		}
		cmd = h.podmanCmd(p, c, podDir, "", append([]string{entry}, args...), env)
		b.ctr = h.containerName(p)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(logf, "harness: starting %s\n", strings.Join(cmd.Args, " "))
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
	log.Printf("harness: started %s pid %d kafka=%d admin=%d controller=%d", key, cmd.Process.Pid, b.kafkaPort, b.adminPort, b.controllerPort)
	if _, err := h.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, portsPatch(b), metav1.PatchOptions{}); err != nil {
		log.Printf("harness: %s: annotate: %v", key, err)
	}
}

// newBrokerProc chooses a starting broker's ports (podPorts) and maps the container
// ports named kafka, admin and controller to them.
func (h *harness) newBrokerProc(p *corev1.Pod) *proc {
	c := brokerContainer(p)
	ports := h.podPorts(p.Namespace, p.Name, p.Annotations, c)
	b := &proc{kind: "broker", kafkaPort: ports["kafka"], adminPort: ports["admin"], ports: map[int32]int{}}
	for _, cp := range c.Ports {
		if _, ok := brokerPortAnns[cp.Name]; ok {
			b.ports[cp.ContainerPort] = ports[cp.Name]
		}
		if cp.Name == "controller" {
			b.controllerPort = ports["controller"]
		}
	}
	return b
}

// podPorts returns a broker pod's host ports by port name, for kafka and admin (the
// broker always listens there) and every named port of c: the pod's annotation
// first, then what is reserved for ns/name, then a fresh port. The answer stays
// reserved, so the pod, the peers that named it before it started, and a
// re-created pod of the same name (no annotations) all get the same ports.
func (h *harness) podPorts(ns, name string, ann map[string]string, c corev1.Container) map[string]int {
	names := []string{"kafka", "admin"}
	for _, cp := range c.Ports {
		if cp.Name != "" {
			names = append(names, cp.Name)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.reserved[ns+"/"+name]
	if r == nil {
		r = map[string]int{}
		h.reserved[ns+"/"+name] = r
	}
	for _, n := range names {
		if k, ok := brokerPortAnns[n]; ok && portFromAnn(ann, k) != 0 {
			r[n] = portFromAnn(ann, k)
		} else if r[n] == 0 {
			r[n] = freePort()
		}
	}
	return maps.Clone(r)
}

// portsPatch records the chosen ports on the pod; the controller port only when
// the pod has one, so single-broker pods look as before.
func portsPatch(b *proc) []byte {
	ann := map[string]string{annKafkaPort: strconv.Itoa(b.kafkaPort), annAdminPort: strconv.Itoa(b.adminPort)}
	if b.controllerPort != 0 {
		ann[annControllerPort] = strconv.Itoa(b.controllerPort)
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	return patch
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
		a = h.resolveServices(ctx, expand(a, vars), p) // voters and peers name pods by DNS
		for from, to := range rewrite {
			if strings.HasPrefix(a, from) {
				a = to + strings.TrimPrefix(a, from)
			} else if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, from) {
				a = k + "=" + to + strings.TrimPrefix(v, from) // --set-from-file key=<mountPath>/...
			}
		}
		args = append(args, a)
	}
	args = append(args, "--set", "listeners="+brokerListeners(b.kafkaPort, b.controllerPort),
		"--set", "advertised.listeners="+brokerListeners(b.kafkaPort, 0),
		"--set", fmt.Sprintf("admin.listeners=http://127.0.0.1:%d", b.adminPort), "--set", "log.dirs="+dataDir)
	return args, env, nil
}

// brokerListeners is the listeners value: the Kafka listener, and the controller
// listener the other voters dial when the pod has a controller port (0: none).
// Clients are only ever advertised the Kafka one.
func brokerListeners(kafka, controller int) string {
	l := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", kafka)
	if controller != 0 {
		l += fmt.Sprintf(",CONTROLLER://127.0.0.1:%d", controller)
	}
	return l
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
		Image: containerImage(p), ImageID: containerImage(p), ContainerID: containerID(key, b)}
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

func portFromAnn(ann map[string]string, k string) int {
	var n int
	fmt.Sscanf(ann[k], "%d", &n)
	return n
}
