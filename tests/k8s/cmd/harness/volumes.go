// The kubelet's volume manager, for what the Millrace image's pods mount. Each
// volume a container mounts becomes a directory <data-root>/<ns>/<pod>/mounts/<volume>:
//
//	emptyDir    an empty directory
//	configMap   one file per key (or per listed item)
//	projected   serviceAccountToken: a real token for the pod's ServiceAccount from
//	              the TokenRequest API (audience and expiry as asked, bound to the pod);
//	            configMap items (kube-root-ca.crt -> ca.crt, the cluster CA that
//	              kube-controller-manager publishes in every namespace);
//	            downwardAPI items (metadata.namespace -> namespace, ...)
//
// That is exactly what the ServiceAccount admission plugin's kube-api-access-*
// volume asks for, so an in-cluster client finds token, ca.crt and namespace in
// the directory that stands for /var/run/secrets/kubernetes.io/serviceaccount.
// The API server extends such projected tokens (--service-account-extend-token-expiration),
// so they are not rotated here.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// mountVolumes materialises the container's mounts and returns mountPath -> host dir.
func (h *harness) mountVolumes(ctx context.Context, p *corev1.Pod, c corev1.Container, podDir string) (map[string]string, error) {
	out := map[string]string{}
	for _, vm := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range p.Spec.Volumes {
			if p.Spec.Volumes[i].Name == vm.Name {
				vol = &p.Spec.Volumes[i]
			}
		}
		if vol == nil {
			return nil, fmt.Errorf("volumeMount %s: no such volume", vm.Name)
		}
		dir := filepath.Join(podDir, "mounts", vm.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var err error
		switch {
		case vol.EmptyDir != nil:
		case vol.ConfigMap != nil:
			err = h.writeConfigMap(ctx, p.Namespace, vol.ConfigMap.Name, vol.ConfigMap.Items, dir)
		case vol.Projected != nil:
			err = h.writeProjected(ctx, p, vol.Projected, dir)
		default:
			err = fmt.Errorf("volume %s: only emptyDir, configMap and projected volumes are supported", vm.Name)
		}
		if err != nil {
			return nil, err
		}
		out[vm.MountPath] = dir
	}
	return out, nil
}

func (h *harness) writeConfigMap(ctx context.Context, ns, name string, items []corev1.KeyToPath, dir string) error {
	cm, err := h.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("configmap %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(items) == 0 {
		for k := range cm.Data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		v, ok := cm.Data[it.Key]
		if !ok {
			return fmt.Errorf("configmap %s has no key %s", name, it.Key)
		}
		if err := writeFile(filepath.Join(dir, it.Path), v, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) writeProjected(ctx context.Context, p *corev1.Pod, pv *corev1.ProjectedVolumeSource, dir string) error {
	for _, src := range pv.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			t := src.ServiceAccountToken
			req := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: t.ExpirationSeconds,
				BoundObjectRef: &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.Name, UID: p.UID}}}
			if t.Audience != "" {
				req.Spec.Audiences = []string{t.Audience}
			}
			sa := p.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			res, err := h.cs.CoreV1().ServiceAccounts(p.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("token for serviceaccount %s/%s: %w", p.Namespace, sa, err)
			}
			if err := writeFile(filepath.Join(dir, t.Path), res.Status.Token, 0o600); err != nil {
				return err
			}
		case src.ConfigMap != nil:
			if err := h.writeConfigMap(ctx, p.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, dir); err != nil {
				return err
			}
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					return fmt.Errorf("downwardAPI %s: only fieldRef is supported", it.Path)
				}
				v, err := fieldValue(p, it.FieldRef.FieldPath)
				if err != nil {
					return err
				}
				if err := writeFile(filepath.Join(dir, it.Path), v, 0o644); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("projected volume: only serviceAccountToken, configMap and downwardAPI sources are supported")
		}
	}
	return nil
}

func writeFile(path, data string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(data), mode)
}
