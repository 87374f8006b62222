// A container's environment as the kubelet builds it: plain values with $(VAR)
// expanded from the variables defined before them, fieldRef (metadata.name,
// namespace, uid, labels['k'], annotations['k'], status.podIP/hostIP,
// spec.nodeName, spec.serviceAccountName) and configMapKeyRef.
package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// containerEnv returns the variables by name and as NAME=value lines, in spec order.
func (h *harness) containerEnv(ctx context.Context, p *corev1.Pod, c corev1.Container) (map[string]string, []string, error) {
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
	return vars, env, nil
}

func (h *harness) valueFrom(ctx context.Context, p *corev1.Pod, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		return fieldValue(p, src.FieldRef.FieldPath)
	case src.ConfigMapKeyRef != nil:
		cm, err := h.cs.CoreV1().ConfigMaps(p.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

// fieldValue is the downward API: one field of the pod by its path.
func fieldValue(p *corev1.Pod, f string) (string, error) {
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
	case f == "spec.serviceAccountName":
		return p.Spec.ServiceAccountName, nil
	case strings.HasPrefix(f, "metadata.labels['"):
		return p.Labels[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.labels['"), "']")], nil
	case strings.HasPrefix(f, "metadata.annotations['"):
		return p.Annotations[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.annotations['"), "']")], nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", f)
}

func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}
