// Command harness plays the kubelet for the test cluster. There is no container
// runtime here, so it runs the pods of the Millrace image as local processes on
// 127.0.0.1 and reports their IP, phase and readiness through the status subresource.
//
// Two kinds of pod (the rest are left alone, unbound):
//
//	broker pods   label app.kubernetes.io/name=millrace (what the operator renders):
//	              one millrace-broker with the listeners rewritten to free ports,
//	              ports reserved for StatefulSet peers named before they start
//	              (contract at the top of pods_broker.go).
//	image pods    any other pod whose first container's image is the Millrace image
//	              (repository --image-repository, any tag): the operator Deployment's
//	              pod and the helm-test pods. The container's command runs with the
//	              image's binaries mapped to $MILLRACE_BUILD (contract at the top of
//	              pods_exec.go), in-cluster credentials from the TokenRequest API
//	              (volumes.go), and Service addresses resolved to the ports the
//	              harness chose (netmap.go), standing in for cluster DNS and kube-proxy.
//
// With --run-image IMAGE both kinds run as podman containers of the real image
// instead of as local processes (podman.go); the default stays processes, faster.
//
// Shared by both: one Node (millrace-harness, InternalIP 127.0.0.1) to which the
// harness binds its pods; deletion sends SIGTERM to the process group, SIGKILL after
// the grace period, then removes the pod object (grace 0) as the kubelet would; the
// Node's kubelet endpoint serves port-forward (portforward.go), so `kubectl
// port-forward pod/x` reaches a pod's container port.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	nodeName       = "millrace-harness"
	brokerLabelKey = "app.kubernetes.io/name"
	brokerLabelVal = "millrace"
	probeInterval  = time.Second
)

// proc is one pod's process and what the harness knows about it.
type proc struct {
	kind      string // "broker" or "exec"
	container string
	ctr       string // image mode: the podman container's name
	cmd       *exec.Cmd
	done      chan struct{}
	ports     map[int32]int // containerPort -> port on 127.0.0.1
	restarts  int32
	ready     bool
	startedAt metav1.Time
	// broker pods (controllerPort 0: the container declares no port named controller)
	kafkaPort, adminPort, controllerPort int
	// image pods
	exitCode   int
	finishedAt metav1.Time
	terminated bool      // exited and not to be restarted (restartPolicy)
	nextStart  time.Time // crash-loop back-off
	backoff    time.Duration
	readiness  *prober
	liveness   *prober
}

type harness struct {
	cs          kubernetes.Interface
	rest        *rest.Config
	build       string // $MILLRACE_BUILD: where the image's binaries come from
	brokerEx    string
	imageRepo   string
	runImage    string // image mode (podman.go): the image pods run from; "" runs processes
	dataRoot    string
	kubeletPort int
	pods        listersv1.PodLister
	mu          sync.Mutex
	procs       map[string]*proc // ns/name
	// reserved: broker pods' host ports by port name, keyed ns/name, promised on first
	// mention or start and kept for the harness' life (podPorts, pods_broker.go).
	reserved map[string]map[string]int
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "admin kubeconfig")
	dataRoot := flag.String("data-root", "", "where pod volumes and logs live")
	brokerEx := flag.String("broker", os.Getenv("MILLRACE_BROKER"), "millrace-broker binary")
	imageRepo := flag.String("image-repository", envOr("MILLRACE_IMAGE_REPOSITORY", "ghcr.io/millrace/millrace"),
		"pods of this image (any tag) run with the binaries of $MILLRACE_BUILD")
	runImage := flag.String("run-image", os.Getenv("MILLRACE_K8S_IMAGE"),
		"run the pods as podman containers of this local image instead of as processes (podman.go)")
	flag.Parse()
	build := os.Getenv("MILLRACE_BUILD")
	if *brokerEx == "" && build != "" {
		*brokerEx = filepath.Join(build, "broker", "millrace-broker")
	}
	if *dataRoot == "" || *kubeconfig == "" {
		log.Fatal("harness: --kubeconfig and --data-root are required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("harness: kubeconfig: %v", err)
	}
	h := &harness{cs: kubernetes.NewForConfigOrDie(cfg), rest: cfg, build: build, brokerEx: *brokerEx,
		imageRepo: *imageRepo, runImage: *runImage, dataRoot: *dataRoot, procs: map[string]*proc{}, reserved: map[string]map[string]int{}}
	if h.runImage != "" {
		if _, err := podman("image", "exists", h.runImage); err != nil {
			log.Fatalf("harness: --run-image %s: not in podman's store (%v); scripts/image/build makes it", h.runImage, err)
		}
		h.removeOwnContainers() // a previous harness of this data root killed before it cleaned up
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if h.kubeletPort, err = h.servePortForward(ctx); err != nil {
		log.Fatalf("harness: kubelet endpoint: %v", err)
	}
	if err := h.registerNode(ctx); err != nil {
		log.Fatalf("harness: node: %v", err)
	}
	factory := informers.NewSharedInformerFactory(h.cs, 0)
	podInf := factory.Core().V1().Pods().Informer()
	h.pods = factory.Core().V1().Pods().Lister()
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
	log.Printf("harness: watching pods; broker=%s image=%s build=%s run-image=%q kubelet port %d",
		h.brokerEx, h.imageRepo, h.build, h.runImage, h.kubeletPort)
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		pods, _ := h.pods.List(labels.Everything())
		h.sync(ctx, pods)
		select {
		case <-ctx.Done():
			h.stopAll()
			if h.runImage != "" {
				h.removeOwnContainers()
			}
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
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(h.kubeletPort)
	_, err = h.cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// kindOf says how the harness runs a pod: "broker", "exec" or "" (not ours).
func (h *harness) kindOf(p *corev1.Pod) string {
	if p.Labels[brokerLabelKey] == brokerLabelVal {
		return "broker"
	}
	if len(p.Spec.Containers) > 0 && imageRepository(p.Spec.Containers[0].Image) == h.imageRepo {
		return "exec"
	}
	return ""
}

// imageRepository strips the tag and digest: "reg:5000/a/b:1.0@sha256:..." -> "reg:5000/a/b".
func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// sync brings processes in line with the pods: start, probe, stop.
func (h *harness) sync(ctx context.Context, pods []*corev1.Pod) {
	seen := map[string]bool{}
	for _, p := range pods {
		kind := h.kindOf(p)
		if kind == "" {
			continue
		}
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
		if kind == "broker" {
			h.syncBroker(ctx, key, p)
		} else {
			h.syncExec(ctx, key, p)
		}
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

func (h *harness) proc(key string) *proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.procs[key]
}

func (h *harness) setProc(key string, b *proc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.procs[key] = b
}

// stop ends a pod's process and forgets it.
func (h *harness) stop(key string, grace time.Duration) {
	h.mu.Lock()
	b := h.procs[key]
	delete(h.procs, key)
	h.mu.Unlock()
	if b != nil && kill(b, grace) {
		log.Printf("harness: stopped %s", key)
	}
}

// kill sends SIGTERM to a process group, SIGKILL after grace; false if it had already ended.
func kill(b *proc, grace time.Duration) bool {
	if b.cmd == nil || b.cmd.Process == nil {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(grace):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
		if b.ctr != "" { // podman is gone, its container may not be
			removeContainer(b.ctr)
		}
	}
	return true
}

// containerID is what the pod's status reports: podman:// in image mode.
func containerID(key string, b *proc) string {
	if b != nil && b.ctr != "" {
		return "podman://" + b.ctr
	}
	return "harness://" + key
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

func exited(b *proc) bool {
	if b == nil || b.done == nil {
		return true
	}
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func graceOf(p *corev1.Pod) time.Duration {
	if p.DeletionGracePeriodSeconds != nil {
		return time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("harness: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func ptr[T any](v T) *T { return &v }
