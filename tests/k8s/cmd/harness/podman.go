// Image mode (--run-image IMAGE, tests/k8s/cluster's MILLRACE_K8S_IMAGE): the
// Millrace image's pods, broker pods and image pods alike, run as containers of IMAGE
// with podman instead of as processes of $MILLRACE_BUILD's binaries, so a suite
// exercises what users deploy: the image's binaries, libraries, user and filesystem.
// Whatever tag a pod names, IMAGE runs (the store has no registry behind it).
//
// Contract, on top of pods_broker.go's and pods_exec.go's (argv, environment, ports,
// volumes and Service addresses are rendered exactly as there):
//
//	podman run --rm --replace --name <containerName> --network host: the pod's ports are
//	  127.0.0.1 ports chosen by the harness, as in process mode; --no-healthcheck, as
//	  Kubernetes ignores the image's HEALTHCHECK (the pod's probes run as in process mode).
//	the pod's directory <data-root>/<ns>/<pod> is bind-mounted at the same path and
//	  chowned to the container's user (:U), so data dirs, mounts and the token keep the
//	  paths the arguments name; the working directory and HOME stay under it.
//	argv[0] is the entrypoint (--entrypoint), the rest the container's args; the
//	  environment is the pod's (-e), the image's PATH instead of the harness' bin dir.
//	securityContext: runAsUser/runAsGroup (pod, then container) -> --user,
//	  readOnlyRootFilesystem -> --read-only, capabilities.drop ALL -> --cap-drop all,
//	  allowPrivilegeEscalation false -> no-new-privileges.
//	stop: SIGTERM to podman, which hands it to the container (--sig-proxy); after the
//	  grace period SIGKILL and `podman rm -f`. Containers carry the label
//	  millrace.io/harness=<data-root>, and the harness removes its own at start and stop.
//
// podman finds its store and settings in the harness' environment
// (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF: scripts/image/env.sh).
package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"log"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const (
	harnessLabel = "millrace.io/harness"
	podmanWait   = time.Minute // the most a podman housekeeping command may take
)

// podman runs a housekeeping command (not a pod's container), bounded by podmanWait:
// its standard output, and its standard error in the error.
func podman(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), podmanWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		err = fmt.Errorf("podman %s: %v: %s", args[0], err, strings.TrimSpace(string(ee.Stderr)))
	}
	return out, err
}

// containerName is a pod's podman container name: unique per harness (suites run
// clusters side by side with the same namespaces and pod names).
func (h *harness) containerName(p *corev1.Pod) string {
	f := fnv.New32a()
	f.Write([]byte(h.dataRoot))
	return fmt.Sprintf("millrace-%08x-%s-%s", f.Sum32(), p.Namespace, p.Name)
}

// podmanCmd is the command that runs argv with env in a container of h.runImage for
// pod p's container c; podDir is the pod's directory, work its working directory.
func (h *harness) podmanCmd(p *corev1.Pod, c corev1.Container, podDir, work string, argv, env []string) *exec.Cmd {
	args := []string{"run", "--rm", "--replace", "--name", h.containerName(p),
		"--label", harnessLabel + "=" + h.dataRoot, "--network", "host", "--no-healthcheck",
		"--volume", podDir + ":" + podDir + ":U", "--entrypoint", argv[0]}
	if work != "" {
		args = append(args, "--workdir", work)
	}
	args = append(args, securityArgs(p, c)...)
	for _, e := range env {
		if !strings.HasPrefix(e, "PATH=") {
			args = append(args, "--env", e)
		}
	}
	args = append(append(args, h.runImage), argv[1:]...)
	return exec.Command("podman", args...)
}

// securityArgs maps the securityContext fields the chart and the operator set.
func securityArgs(p *corev1.Pod, c corev1.Container) []string {
	var uid, gid *int64
	if ps := p.Spec.SecurityContext; ps != nil {
		uid, gid = ps.RunAsUser, ps.RunAsGroup
	}
	var args []string
	if cs := c.SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			uid = cs.RunAsUser
		}
		if cs.RunAsGroup != nil {
			gid = cs.RunAsGroup
		}
		if cs.ReadOnlyRootFilesystem != nil && *cs.ReadOnlyRootFilesystem {
			args = append(args, "--read-only")
		}
		if cs.Capabilities != nil {
			for _, d := range cs.Capabilities.Drop {
				args = append(args, "--cap-drop", strings.ToLower(string(d)))
			}
		}
		if cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation {
			args = append(args, "--security-opt", "no-new-privileges")
		}
	}
	if uid != nil {
		u := fmt.Sprint(*uid)
		if gid != nil {
			u += fmt.Sprintf(":%d", *gid)
		}
		args = append(args, "--user", u)
	}
	return args
}

// removeContainer removes a pod's container, running or not (after a SIGKILL of
// podman the container outlives it).
func removeContainer(name string) {
	if _, err := podman("rm", "--force", "--ignore", "--time", "0", name); err != nil {
		log.Printf("harness: %s: %v", name, err)
	}
}

// removeOwnContainers removes every container this harness (its data root) started.
func (h *harness) removeOwnContainers() {
	out, err := podman("ps", "--all", "--quiet", "--filter", "label="+harnessLabel+"="+h.dataRoot)
	if err != nil {
		log.Printf("harness: %v", err)
		return
	}
	for _, id := range strings.Fields(string(out)) {
		removeContainer(id)
	}
}
