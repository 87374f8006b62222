// Command harness plays the kubelet for Millrace pods in the test cluster.
//
// There is no container runtime here: for every Pod labelled
// app.kubernetes.io/name=millrace it starts a millrace-broker process on
// 127.0.0.1 with the configuration the operator rendered into the pod spec,
// and reports the pod's IP, phase and readiness through the status subresource.
//
// Contract with the pod spec (what the operator renders, what the harness reads):
//
//	container "broker" (else the first): args, env (value, fieldRef on
//	  metadata.name|namespace|uid|labels['k']|annotations['k'], status.podIP,
//	  spec.nodeName; configMapKeyRef) with $(VAR) expanded like the kubelet does.
//	configMap volumes: their keys are written under <data-root>/<ns>/<pod>/mounts
//	  and any arg that starts with the volume's mountPath is rewritten to it.
//	the harness appends, last so they win:
//	  --set listeners=PLAINTEXT://127.0.0.1:<kafka> --set advertised.listeners=(same)
//	  --set admin.listeners=http://127.0.0.1:<admin> --set log.dirs=<data-root>/<ns>/<pod>/data
//	Pod status: podIP=hostIP=127.0.0.1; the chosen ports are written to the pod as
//	  annotations millrace.io/kafka-port and millrace.io/admin-port.
//	Readiness: GET http://127.0.0.1:<admin>/readyz == 200 (every second).
//	The data dir is keyed by namespace and pod name, so a re-created pod (same
//	  StatefulSet identity) finds its volume again.
//	Annotation millrace.io/harness-stopped="true" stops the process (an outage
//	  for tests) until the annotation is removed.
//	Deletion: SIGTERM, SIGKILL after the grace period, then the pod object is
//	  removed (grace 0), as the kubelet would.
//
// It also registers one Node and binds unscheduled Millrace pods to it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	nodeName      = "millrace-harness"
	podSelector   = "app.kubernetes.io/name=millrace"
	annKafkaPort  = "millrace.io/kafka-port"
	annAdminPort  = "millrace.io/admin-port"
	annStopped    = "millrace.io/harness-stopped"
	probeInterval = time.Second
)

type broker struct {
	cmd       *exec.Cmd
	done      chan struct{}
	kafkaPort int
	adminPort int
	restarts  int32
	ready     bool
	startedAt metav1.Time
}

type harness struct {
	cs       kubernetes.Interface
	brokerEx string
	dataRoot string
	mu       sync.Mutex
	procs    map[string]*broker // ns/name
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "admin kubeconfig")
	dataRoot := flag.String("data-root", "", "where pod volumes and logs live")
	brokerEx := flag.String("broker", os.Getenv("MILLRACE_BROKER"), "millrace-broker binary")
	flag.Parse()
	if *brokerEx == "" && os.Getenv("MILLRACE_BUILD") != "" {
		*brokerEx = filepath.Join(os.Getenv("MILLRACE_BUILD"), "broker", "millrace-broker")
	}
	if *dataRoot == "" || *kubeconfig == "" {
		log.Fatal("harness: --kubeconfig and --data-root are required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("harness: kubeconfig: %v", err)
	}
	h := &harness{cs: kubernetes.NewForConfigOrDie(cfg), brokerEx: *brokerEx, dataRoot: *dataRoot,
		procs: map[string]*broker{}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := h.registerNode(ctx); err != nil {
		log.Fatalf("harness: node: %v", err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(h.cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = podSelector }))
	podInf := factory.Core().V1().Pods().Informer()
	lister := factory.Core().V1().Pods().Lister()
	kick := make(chan struct{}, 1)
	notify := func(interface{}) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: notify,
		UpdateFunc: func(_, n interface{}) { notify(n) }, DeleteFunc: notify})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	log.Printf("harness: watching pods (%s), broker=%s", podSelector, h.brokerEx)
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		pods, _ := lister.List(labels.Everything())
		h.sync(ctx, pods)
		select {
		case <-ctx.Done():
			h.stopAll()
			return
		case <-kick:
		case <-tick.C:
		}
	}
}

func (h *harness) registerNode(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName,
		Labels: map[string]string{"kubernetes.io/hostname": nodeName, "topology.kubernetes.io/zone": "zone-a"}}}
	if _, err := h.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	n, err := h.cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "HarnessReady", LastHeartbeatTime: now, LastTransitionTime: now}}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	_, err = h.cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// sync brings processes in line with the pods: start, probe, stop.
func (h *harness) sync(ctx context.Context, pods []*corev1.Pod) {
	seen := map[string]bool{}
	for _, p := range pods {
		key := p.Namespace + "/" + p.Name
		seen[key] = true
		if p.DeletionTimestamp != nil {
			h.stop(key, graceOf(p))
			err := h.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name,
				metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0)), Preconditions: &metav1.Preconditions{UID: &p.UID}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				log.Printf("harness: delete %s: %v", key, err)
			}
			continue
		}
		if p.Spec.NodeName == "" {
			h.bind(ctx, p)
			continue
		}
		if p.Annotations[annStopped] == "true" {
			h.stop(key, 5*time.Second)
		} else {
			h.ensureRunning(ctx, key, p)
		}
		h.report(ctx, key, p)
	}
	h.mu.Lock()
	var gone []string
	for key := range h.procs {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	h.mu.Unlock()
	for _, key := range gone {
		h.stop(key, 10*time.Second)
	}
}

func (h *harness) bind(ctx context.Context, p *corev1.Pod) {
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: nodeName}}
	if err := h.cs.CoreV1().Pods(p.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsConflict(err) {
		log.Printf("harness: bind %s/%s: %v", p.Namespace, p.Name, err)
	}
}

func (h *harness) ensureRunning(ctx context.Context, key string, p *corev1.Pod) {
	h.mu.Lock()
	b := h.procs[key]
	h.mu.Unlock()
	if b != nil {
		select {
		case <-b.done: // exited: restart below with the same ports
			b.restarts++
			log.Printf("harness: %s exited (%v), restarting", key, b.cmd.ProcessState)
		default:
			return
		}
	} else {
		b = &broker{kafkaPort: portFromAnn(p, annKafkaPort), adminPort: portFromAnn(p, annAdminPort)}
		if b.kafkaPort == 0 {
			b.kafkaPort = freePort()
		}
		if b.adminPort == 0 {
			b.adminPort = freePort()
		}
	}
	args, env, err := h.render(ctx, p, b)
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
		h.mu.Lock()
		h.procs[key] = b
		h.mu.Unlock()
		time.Sleep(time.Second) // crash-loop pacing
		return
	}
	go func() { cmd.Wait(); logf.Close(); close(b.done) }()
	h.mu.Lock()
	h.procs[key] = b
	h.mu.Unlock()
	log.Printf("harness: started %s pid %d kafka=%d admin=%d", key, cmd.Process.Pid, b.kafkaPort, b.adminPort)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"%d",%q:"%d"}}}`, annKafkaPort, b.kafkaPort, annAdminPort, b.adminPort)
	if _, err := h.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		log.Printf("harness: %s: annotate: %v", key, err)
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// render turns the pod's container spec into argv and environment.
func (h *harness) render(ctx context.Context, p *corev1.Pod, b *broker) ([]string, []string, error) {
	if len(p.Spec.Containers) == 0 {
		return nil, nil, fmt.Errorf("no containers")
	}
	c := p.Spec.Containers[0]
	for _, cc := range p.Spec.Containers {
		if cc.Name == "broker" {
			c = cc
		}
	}
	podDir := filepath.Join(h.dataRoot, p.Namespace, p.Name)
	dataDir := filepath.Join(podDir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, nil, err
	}
	vars := map[string]string{}
	var env []string
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			var err error
			if v, err = h.valueFrom(ctx, p, e.ValueFrom); err != nil {
				return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
		} else {
			v = expand(v, vars)
		}
		vars[e.Name] = v
		env = append(env, e.Name+"="+v)
	}
	// configMap volumes -> files under mounts/, mountPath prefix rewritten.
	rewrite := map[string]string{}
	for _, vm := range c.VolumeMounts {
		for _, vol := range p.Spec.Volumes {
			if vol.Name != vm.Name || vol.ConfigMap == nil {
				continue
			}
			cm, err := h.cs.CoreV1().ConfigMaps(p.Namespace).Get(ctx, vol.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, fmt.Errorf("configmap %s: %w", vol.ConfigMap.Name, err)
			}
			dir := filepath.Join(podDir, "mounts", vm.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, nil, err
			}
			for k, v := range cm.Data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
					return nil, nil, err
				}
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
			}
		}
		args = append(args, a)
	}
	listener := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.kafkaPort)
	args = append(args, "--set", "listeners="+listener, "--set", "advertised.listeners="+listener,
		"--set", fmt.Sprintf("admin.listeners=http://127.0.0.1:%d", b.adminPort), "--set", "log.dirs="+dataDir)
	return args, env, nil
}

func (h *harness) valueFrom(ctx context.Context, p *corev1.Pod, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		f := src.FieldRef.FieldPath
		switch {
		case f == "metadata.name":
			return p.Name, nil
		case f == "metadata.namespace":
			return p.Namespace, nil
		case f == "metadata.uid":
			return string(p.UID), nil
		case f == "status.podIP" || f == "status.hostIP":
			return "127.0.0.1", nil
		case f == "spec.nodeName":
			return p.Spec.NodeName, nil
		case strings.HasPrefix(f, "metadata.labels['"):
			return p.Labels[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.labels['"), "']")], nil
		case strings.HasPrefix(f, "metadata.annotations['"):
			return p.Annotations[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.annotations['"), "']")], nil
		}
		return "", fmt.Errorf("unsupported fieldRef %q", f)
	case src.ConfigMapKeyRef != nil:
		cm, err := h.cs.CoreV1().ConfigMaps(p.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// report probes readiness and writes the pod status when it changed.
func (h *harness) report(ctx context.Context, key string, p *corev1.Pod) {
	h.mu.Lock()
	b := h.procs[key]
	h.mu.Unlock()
	running, ready := false, false
	var restarts int32
	started := metav1.Now()
	if b != nil {
		restarts, started = b.restarts, b.startedAt
		select {
		case <-b.done:
		default:
			running = true
			ready = probe(b.adminPort)
		}
	}
	st := p.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	st.PodIP, st.HostIP = "127.0.0.1", "127.0.0.1"
	st.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
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
	if statusEqual(&p.Status, st) {
		return
	}
	np := p.DeepCopy()
	np.Status = *st
	if _, err := h.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, np, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
		log.Printf("harness: %s: status: %v", key, err)
	}
}

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
		if x.Ready != y.Ready || x.RestartCount != y.RestartCount || (x.State.Running == nil) != (y.State.Running == nil) {
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

func containerImage(p *corev1.Pod) string {
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

func probe(port int) bool {
	c := http.Client{Timeout: 800 * time.Millisecond}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop ends a pod's process: SIGTERM to its process group, SIGKILL after grace.
func (h *harness) stop(key string, grace time.Duration) {
	h.mu.Lock()
	b := h.procs[key]
	delete(h.procs, key)
	h.mu.Unlock()
	if b == nil || b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.done:
		return
	default:
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(grace):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
	log.Printf("harness: stopped %s", key)
}

func (h *harness) stopAll() {
	h.mu.Lock()
	var keys []string
	for k := range h.procs {
		keys = append(keys, k)
	}
	h.mu.Unlock()
	for _, k := range keys {
		h.stop(k, 10*time.Second)
	}
}

func graceOf(p *corev1.Pod) time.Duration {
	if p.DeletionGracePeriodSeconds != nil {
		return time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

func portFromAnn(p *corev1.Pod, k string) int {
	var n int
	fmt.Sscanf(p.Annotations[k], "%d", &n)
	return n
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("harness: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func ptr[T any](v T) *T { return &v }
