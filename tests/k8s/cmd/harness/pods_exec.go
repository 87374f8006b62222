// Image pods: any pod (not a broker pod) whose first container runs the Millrace
// image, such as the operator Deployment's pod and the helm-test pods.
//
// Contract with the pod spec (the first container; others are not run):
//
//	command + args, $(VAR) expanded; no command means the image's entrypoint
//	  /usr/local/bin/millrace-broker. The image's binaries (/usr/local/bin/ or bare)
//	  millrace, millrace-broker, millrace-operator map to $MILLRACE_BUILD's
//	  client/millrace, broker/millrace-broker, operator/millrace-operator, and are
//	  first on PATH (<pod>/bin); anything else (/bin/sh, timeout, grep) is the host's,
//	  standing in for the image's Debian base.
//	environment: only what a container gets: PATH, HOME=<pod>/home, HOSTNAME=<pod>,
//	  KUBERNETES_SERVICE_HOST/PORT (the API server), then the container's env (env.go).
//	  Nothing of the harness' own environment (no KUBECONFIG) leaks in.
//	volumes (volumes.go) under <pod>/mounts/<volume>; an argument or env value that
//	  starts with a mountPath is rewritten to its directory; the mount standing for
//	  /var/run/secrets/kubernetes.io/serviceaccount is given as MILLRACE_SA_DIR (the
//	  kubelet's fixed path cannot differ per process; millrace-operator honours it);
//	  a mount at /tmp is given as TMPDIR.
//	ports: every containerPort gets a free 127.0.0.1 port; an argument or env value
//	  ending in <host>:<containerPort> becomes 127.0.0.1:<port>; the map is written to
//	  the pod as annotation millrace.io/ports ("8080=41234,..."). Service addresses
//	  are resolved by netmap.go.
//	probes: readinessProbe and livenessProbe (httpGet, tcpSocket) against those
//	  ports; no readinessProbe means ready while running; a failed liveness probe
//	  restarts the process.
//	restartPolicy: Always restarts (back-off 1s doubling to 30s); OnFailure restarts
//	  on a non-zero exit; otherwise the pod ends Succeeded (exit 0) or Failed.
//	output: <pod>/container.log. Working directory: <pod>/work.
package main

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	annPorts    = "millrace.io/ports"
	saMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	maxBackoff  = 30 * time.Second
)

// imageBinaries: the image's binaries and where a build tree holds them.
var imageBinaries = map[string]string{
	"millrace":          "client/millrace",
	"millrace-broker":   "broker/millrace-broker",
	"millrace-operator": "operator/millrace-operator",
}

func (h *harness) syncExec(ctx context.Context, key string, p *corev1.Pod) {
	c := p.Spec.Containers[0]
	b := h.proc(key)
	now := time.Now()
	if b == nil {
		b = &proc{kind: "exec", container: c.Name, ports: map[int32]int{}}
		for _, cp := range c.Ports {
			b.ports[cp.ContainerPort] = freePort()
		}
		h.setProc(key, b)
		h.annotatePorts(ctx, p, b)
	}
	if b.cmd != nil && exited(b) && !b.terminated && b.finishedAt.IsZero() {
		h.onExit(key, p, b, b.cmd.ProcessState.ExitCode(), now)
	}
	if !b.terminated && (b.cmd == nil || exited(b)) && !now.Before(b.nextStart) {
		if err := h.startExec(ctx, key, p, c, b); err != nil {
			log.Printf("harness: %s: start: %v", key, err)
			if _, setup := err.(setupError); setup { // volumes, env: retried, as the kubelet does
				b.nextStart = now.Add(time.Second)
			} else {
				h.onExit(key, p, b, 127, now)
			}
		}
	}
	if b.cmd != nil && !exited(b) {
		b.ready = b.readiness == nil || b.readiness.tick(now)
		if b.liveness != nil && !b.liveness.tick(now) {
			log.Printf("harness: %s: liveness probe failed, restarting", key)
			kill(b, 5*time.Second)
		}
	} else {
		b.ready = false
	}
	h.reportExec(ctx, key, p, b)
}

// setupError is a failure before the process could start (a volume or env source missing).
type setupError struct{ error }

// onExit records an exit and decides, by restartPolicy, between a restart and the end.
func (h *harness) onExit(key string, p *corev1.Pod, b *proc, code int, now time.Time) {
	if code < 0 { // killed by a signal: 128+signal, as a shell reports it
		if ws, ok := b.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	b.exitCode, b.finishedAt = code, metav1.NewTime(now)
	restart := p.Spec.RestartPolicy == corev1.RestartPolicyAlways || p.Spec.RestartPolicy == "" ||
		(p.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && code != 0)
	log.Printf("harness: %s exited with %d (restart=%v)", key, code, restart)
	if !restart {
		b.terminated = true
		return
	}
	b.restarts++
	b.backoff = min(max(time.Second, 2*b.backoff), maxBackoff)
	b.nextStart = now.Add(b.backoff)
}

func (h *harness) startExec(ctx context.Context, key string, p *corev1.Pod, c corev1.Container, b *proc) error {
	podDir := filepath.Join(h.dataRoot, p.Namespace, p.Name)
	binDir, work, home := filepath.Join(podDir, "bin"), filepath.Join(podDir, "work"), filepath.Join(podDir, "home")
	for _, d := range []string{binDir, work, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for name, rel := range imageBinaries {
		link := filepath.Join(binDir, name)
		os.Remove(link)
		if err := os.Symlink(filepath.Join(h.build, rel), link); err != nil {
			return err
		}
	}
	mounts, err := h.mountVolumes(ctx, p, c, podDir)
	if err != nil {
		return setupError{err}
	}
	api, err := url.Parse(h.rest.Host)
	if err != nil {
		return fmt.Errorf("api server address %q: %w", h.rest.Host, err)
	}
	env := []string{"PATH=" + binDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home, "HOSTNAME=" + p.Name,
		"KUBERNETES_SERVICE_HOST=" + api.Hostname(), "KUBERNETES_SERVICE_PORT=" + api.Port(),
		"KUBERNETES_SERVICE_PORT_HTTPS=" + api.Port()}
	if d, ok := mounts[saMountPath]; ok {
		env = append(env, "MILLRACE_SA_DIR="+d)
	}
	if d, ok := mounts["/tmp"]; ok {
		env = append(env, "TMPDIR="+d)
	}
	vars, cenv, err := h.containerEnv(ctx, p, c)
	if err != nil {
		return setupError{err}
	}
	fix := func(s string) string {
		return rewritePorts(rewriteMounts(h.resolveServices(ctx, s, p), mounts), b.ports)
	}
	for _, e := range cenv {
		k, v, _ := strings.Cut(e, "=")
		env = append(env, k+"="+fix(v))
	}
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 {
		argv = append([]string{"/usr/local/bin/millrace-broker"}, c.Args...)
	}
	for i := range argv {
		argv[i] = fix(expand(argv[i], vars))
	}
	logf, err := os.OpenFile(filepath.Join(podDir, "container.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	if h.runImage != "" { // the image's own binaries and base (podman.go)
		cmd = h.podmanCmd(p, c, podDir, work, argv, env)
		b.ctr = h.containerName(p)
	} else {
		if rel, ok := imageBinaries[strings.TrimPrefix(argv[0], "/usr/local/bin/")]; ok {
			argv[0] = filepath.Join(h.build, rel)
		}
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Env, cmd.Dir = env, work
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(logf, "harness: starting %q\n", argv)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "harness: start failed: %v\n", err)
		logf.Close()
		return err
	}
	b.cmd, b.done, b.startedAt, b.finishedAt = cmd, make(chan struct{}), metav1.Now(), metav1.Time{}
	b.readiness = newProber(c.ReadinessProbe, c, b.ports, false)
	b.liveness = newProber(c.LivenessProbe, c, b.ports, true)
	done := b.done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	log.Printf("harness: started %s pid %d: %s", key, cmd.Process.Pid, strings.Join(argv, " "))
	return nil
}

func (h *harness) annotatePorts(ctx context.Context, p *corev1.Pod, b *proc) {
	if len(b.ports) == 0 {
		return
	}
	var parts []string
	for cp, hp := range b.ports {
		parts = append(parts, fmt.Sprintf("%d=%d", cp, hp))
	}
	sort.Strings(parts)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, annPorts, strings.Join(parts, ","))
	if _, err := h.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		log.Printf("harness: %s/%s: annotate: %v", p.Namespace, p.Name, err)
	}
}

// reportExec writes phase, readiness and the container's state when they changed.
func (h *harness) reportExec(ctx context.Context, key string, p *corev1.Pod, b *proc) {
	st := p.Status.DeepCopy()
	running := b.cmd != nil && !exited(b)
	cs := corev1.ContainerStatus{Name: b.container, Ready: b.ready, RestartCount: b.restarts, Started: &running,
		Image: containerImage(p), ImageID: containerImage(p), ContainerID: containerID(key, b)}
	last := &corev1.ContainerStateTerminated{ExitCode: int32(b.exitCode), Reason: exitReason(b.exitCode),
		StartedAt: b.startedAt, FinishedAt: b.finishedAt}
	switch {
	case running:
		st.Phase = corev1.PodRunning
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: b.startedAt}
	case b.terminated:
		st.Phase = corev1.PodSucceeded
		if b.exitCode != 0 {
			st.Phase = corev1.PodFailed
		}
		cs.State.Terminated = last
	case b.cmd == nil && b.finishedAt.IsZero():
		st.Phase = corev1.PodPending
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	default:
		st.Phase = corev1.PodRunning
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
		cs.LastTerminationState.Terminated = last
	}
	setPodIPs(st)
	if st.StartTime == nil {
		st.StartTime = ptr(metav1.Now())
	}
	setCond(st, corev1.PodScheduled, true)
	setCond(st, corev1.PodInitialized, true)
	setCond(st, corev1.ContainersReady, b.ready)
	setCond(st, corev1.PodReady, b.ready)
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
	h.writeStatus(ctx, key, p, st)
}

func exitReason(code int) string {
	if code == 0 {
		return "Completed"
	}
	return "Error"
}

// rewriteMounts maps a value that starts with a mountPath to the mount's directory.
func rewriteMounts(s string, mounts map[string]string) string {
	for from, to := range mounts {
		if s == from || strings.HasPrefix(s, from+"/") {
			return to + strings.TrimPrefix(s, from)
		}
	}
	return s
}

// rewritePorts maps "<host>:<containerPort>" at the end of a value to 127.0.0.1:<port>.
func rewritePorts(s string, ports map[int32]int) string {
	for cp, hp := range ports {
		suffix := fmt.Sprintf(":%d", cp)
		if !strings.HasSuffix(s, suffix) {
			continue
		}
		head := strings.TrimSuffix(s, suffix)
		i := strings.LastIndexAny(head, "=/ ,")
		return head[:i+1] + fmt.Sprintf("127.0.0.1:%d", hp)
	}
	return s
}
